import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tiny_models


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture(scope="module")
def own_library_cache(tmp_path_factory):
    """C libraries built by a module's tests go to a folder of their own."""
    old = os.environ.get("INTERPCHECK_CACHE")
    os.environ["INTERPCHECK_CACHE"] = str(tmp_path_factory.mktemp("libraries"))
    yield
    if old is None:
        del os.environ["INTERPCHECK_CACHE"]
    else:
        os.environ["INTERPCHECK_CACHE"] = old

"""Every API design interpcheck knows, by name. Each is written once, over model/vocabulary.py."""
from .api import Api, Design, Site
from .final import FINAL, FINAL_DRAFT
from .legacy import LEGACY, LEGACY_313

DESIGNS: dict[str, Design] = {d.name: d for d in (LEGACY, LEGACY_313, FINAL, FINAL_DRAFT)}

__all__ = ["DESIGNS", "Design", "Api", "Site"]

"""Examples that ship with interpcheck: C extension code under `c/` (each file's header says
the verdicts `interpcheck check-c` gives), installed as `interpcheck.examples`."""
from pathlib import Path

C_DIR = Path(__file__).parent / "c"

"""Every API design interpcheck knows, by name. Each is written once, over model/vocabulary.py."""
from .api import Api, Design, Site
from .destroy_at_zero import DESTROY_AT_ZERO
from .final import FINAL, FINAL_DRAFT, FINAL_PEP_TEXT
from .legacy import LEGACY, LEGACY_313
from .r0 import R0_DESIGN
from .r1 import R1_DESIGN, R1_RACY_PROMOTE
from .r1b import R1B_DESIGN
from .r3b import R3B_DESIGN

# The shipped APIs first, then the PEP 788 revisions in order, then the review alternatives.
DESIGNS: dict[str, Design] = {d.name: d for d in (LEGACY, LEGACY_313, FINAL, FINAL_DRAFT, FINAL_PEP_TEXT, R0_DESIGN, R1_DESIGN,
                                                  R1B_DESIGN, R3B_DESIGN, R1_RACY_PROMOTE, DESTROY_AT_ZERO)}

__all__ = ["DESIGNS", "Design", "Api", "Site"]

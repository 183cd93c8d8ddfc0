"""Every API design interpcheck knows, by name. Each is written once, over model/vocabulary.py."""
from .api import Api, Design, Site
from .destroy_at_zero import DESTROY_AT_ZERO
from .final import FINAL, FINAL_DOCS_RELEASE, FINAL_DRAFT, FINAL_PEP_TEXT
from .legacy import VERSION_DESIGNS
from .r0 import R0_DESIGN
from .r1 import R1_DESIGN, R1_RACY_PROMOTE
from .r1b import R1B_DESIGN
from .r3b import R3B_DESIGN


class _Designs(dict):
    """Designs by name; an alias (`legacy`, `legacy_313`) looks up the design it names, but
    iterating lists each design once, under its own name."""

    def __missing__(self, name: str) -> Design:
        if name in ALIASES:
            return self[ALIASES[name]]
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return dict.__contains__(self, name) or name in ALIASES

    def get(self, name, default=None):
        return self[name] if name in self else default


# The shipped APIs by CPython release first, then the PEP 788 revisions in order, then the review alternatives.
DESIGNS: dict[str, Design] = _Designs({d.name: d for d in (
    *VERSION_DESIGNS, FINAL, FINAL_DRAFT, FINAL_PEP_TEXT, FINAL_DOCS_RELEASE, R0_DESIGN, R1_DESIGN, R1B_DESIGN, R3B_DESIGN,
    R1_RACY_PROMOTE, DESTROY_AT_ZERO)})

# Older names that still select a design (`legacy` was 3.14's behaviour, `legacy_313` 3.13's).
ALIASES: dict[str, str] = {a: d.name for d in DESIGNS.values() for a in d.aliases}


def resolve(name: str) -> str:
    """The design a name selects: itself, or the design it is an alias of."""
    return ALIASES.get(name, name)


def for_cpython(version: str) -> str | None:
    """The design whose releases include `version` ("3.12", "3.13.8"); X.Y means its newest patch."""
    parts = version.strip().split(".")
    if not 2 <= len(parts) <= 3 or not all(p.isascii() and p.isdigit() for p in parts):   # not '３'
        return None
    want = tuple(int(p) for p in parts) + ((99,) if len(parts) == 2 else ())
    for d in DESIGNS.values():
        if d.covers is not None and d.covers[0] <= want <= d.covers[1]:
            return d.name
    return None


__all__ = ["DESIGNS", "ALIASES", "Design", "Api", "Site", "resolve", "for_cpython"]

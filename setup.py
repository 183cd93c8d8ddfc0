"""Installs model/ and checker/ under one import name: interpcheck.model, interpcheck.checker,
and the bundled specs/ as package data (interpcheck.specs), so an installed interpcheck can
check them outside the repository (`interpcheck check --examples`, `interpcheck init DIR`).

The folders stay short at the top level (as DESIGN.md asks) while nothing generic like
`model` lands in site-packages; `interpcheck` itself is an implicit namespace package whose
only file is interpcheck/__main__.py (`python -m interpcheck`).
"""
from setuptools import find_packages, setup


def mapped(folder: str) -> list[str]:
    return [f"interpcheck.{folder}"] + [f"interpcheck.{folder}.{sub}" for sub in find_packages(folder)]


setup(
    packages=["interpcheck"] + mapped("model") + mapped("checker") + ["interpcheck.specs", "interpcheck.examples"],
    package_dir={"interpcheck": "interpcheck", "interpcheck.model": "model", "interpcheck.checker": "checker",
                 "interpcheck.specs": "specs", "interpcheck.examples": "examples"},
    package_data={"interpcheck.checker.explicit.native": ["runtime.c"],   # compiled with each model's C search
                  "interpcheck.checker.cpython": ["runtime.c"],          # and with each replay on CPython
                  "interpcheck.specs": ["*.toml"],                       # the bundled scenarios
                  "interpcheck.examples": ["c/*.c", "c/*.toml", "c/*.md"]},   # check-c's examples
)

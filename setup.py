"""Installs model/ and checker/ under one import name: interpcheck.model, interpcheck.checker.

The folders stay short at the top level (as DESIGN.md asks) while nothing generic like
`model` lands in site-packages; `interpcheck` itself is an implicit namespace package.
"""
from setuptools import find_packages, setup


def mapped(folder: str) -> list[str]:
    return [f"interpcheck.{folder}"] + [f"interpcheck.{folder}.{sub}" for sub in find_packages(folder)]


setup(
    packages=mapped("model") + mapped("checker"),
    package_dir={"interpcheck.model": "model", "interpcheck.checker": "checker"},
    package_data={"interpcheck.checker.explicit.native": ["runtime.c"],   # compiled with each model's C search
                  "interpcheck.checker.cpython": ["runtime.c"]},         # and with each replay on CPython
)

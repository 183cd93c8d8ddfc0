"""`python -m interpcheck`: the same command as the `interpcheck` script.

This folder is only the top of the installed package (setup.py maps model/, checker/ and
specs/ under it); `interpcheck` stays an implicit namespace package.
"""
from interpcheck.checker.cli import main

if __name__ == "__main__":
    main(prog_name="interpcheck")

"""How interpcheck decides: explicit-state search, graph properties, rendering and the CLI.
Knows nothing about PEP 788: it reads only the IR (interpcheck.model.ir)."""

"""What interpcheck models: the IR, the C API designs over one state vocabulary, and the
client programs of a spec compiled into IR actions. Knows nothing about search."""

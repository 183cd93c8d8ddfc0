"""Output formats for verdicts and traces; each reads the trace through render.steps."""

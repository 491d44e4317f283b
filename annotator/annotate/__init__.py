"""A person's edits to their layer: spans, relations and claims, decisions on suggestions,
the layer's status, and undo and redo, each a versioned, audited write (layers.py)."""

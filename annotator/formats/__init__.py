"""Interchange with the tools teams already use.

In: `annotator import --layer NAME` stores annotations made elsewhere in one person's (or
the gold) layer: the project's own JSONL records, Prodigy JSONL, brat standoff folders and
MeasEval TSV files (layer_import.py is the entry point). Out: brat, MeasEval and CoNLL IOB2
writers for the versioned export directory (exporting.WRITERS).

Every reader turns a file into LayerDoc objects (incoming.py) or into file:line problems;
a file with a problem is refused whole, and storing (layer_store.py) only ever sees
documents that passed every check.
"""

"""Interchange with the tools teams already use.

In: `annotator import --layer NAME` stores annotations made elsewhere in one person's (or
the gold) layer: the project's own JSONL records, Prodigy JSONL, brat standoff folders and
MeasEval TSV files (ingest/pipeline.py is the entry point, for documents too). Out: brat,
MeasEval, CoNLL IOB2 and spaCy DocBin writers for the versioned export directory
(export/publish.py picks them).

Every reader turns a file into contents.Incoming documents or into file:line problems; a
file with a problem is refused whole, and storing (ingest/store.py) only ever sees
documents that passed every check.
"""

"""Models learnt from a project's own finished annotations (`annotator train`).

examples.py reads a layer's done documents and decides which component learns each label;
training.py trains a spaCy pipeline (NER and a span categorizer) under a time budget, with a
learning curve; linking.py learns which spans a quantity's claim parts are, and relations
between entity spans, from features of span pairs; metrics.py scores it all on held-back
documents; model.py loads a trained model and predicts with it (docs/training.md).
"""

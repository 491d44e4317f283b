"""Comparing annotators' layers: agreement figures, the curation comparison, and the
writes that build the gold layer from them."""

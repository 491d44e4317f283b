"""`annotator train`."""

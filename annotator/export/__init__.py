"""Versioned exports of one layer: records read in batches, built and validated in chunks,
written by the format's writer, and published as a read-only version folder."""

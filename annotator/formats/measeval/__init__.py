"""MeasEval TSV: one annotation set per claim, read into a layer and written back the same."""

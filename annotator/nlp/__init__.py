"""Pre-highlighting: spaCy pipelines, the quantity rule layer and the gazetteer."""

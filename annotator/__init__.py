"""claim annotator: documents in, confirmed entities, relations and numeric claims out.

The package is a house by pipeline stage (docs/architecture.md): a small core here
(config, db, models, labels, layers, tokens, unit_table, contents), then nlp/, schema/,
formats/, ingest/, annotate/, review/, team/, export/, project/, and on top web/
(create_app in web/app.py) and cli/. Importing it loads nothing: no web app, no spaCy
model, no database.
"""

__version__ = "0.1.0"

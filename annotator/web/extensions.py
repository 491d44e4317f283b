"""Flask extensions created unbound, attached to the app by create_app (web/app.py)."""

from flask_htmx import HTMX

htmx = HTMX()

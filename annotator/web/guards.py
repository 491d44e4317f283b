"""Requests refused before any view reads them, whatever the route: what no URL of the app
can hold answers 400 with the reason, never a database error."""

from __future__ import annotations

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter

# Row ids are 32-bit on PostgreSQL (and far below 2^31 in any project): a larger number in a
# URL names no row, so it matches no route (404) instead of overflowing the database driver.
MAX_ROW_ID = 2**31 - 1
NUL_IN_URL = "The address holds a NUL character (%00), which no page or value of this app has."


class RowIdConverter(IntegerConverter):
    """`<id:name>`: a row id, a whole number from 0 to MAX_ROW_ID written in ASCII digits."""

    def __init__(self, map, **kwargs):
        super().__init__(map, min=0, max=MAX_ROW_ID, **kwargs)


def init_app(app: Flask) -> None:
    app.url_map.converters["id"] = RowIdConverter
    app.before_request(refuse_nul_in_url)


def refuse_nul_in_url():
    """A NUL in the path or in a query value: PostgreSQL cannot compare text holding one."""
    if "\x00" in request.path or any("\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)):
        abort(400, description=NUL_IN_URL)


def page_number(name: str = "page") -> int:
    """A page asked for in the query: a whole number of at least 1, at most MAX_ROW_ID (a list
    clamps it to its last page); anything else is page 1."""
    raw = request.args.get(name, "")
    return min(int(raw), MAX_ROW_ID) if raw.isascii() and raw.isdigit() and int(raw) > 0 else 1

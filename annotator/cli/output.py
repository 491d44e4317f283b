"""What every command prints for scripts: `--json` output, sorted and indented. Apart from
cli/common.py so that a command that opens no project (validate, labels) loads no ORM."""

from __future__ import annotations

import click
import orjson


def echo_json(data) -> None:
    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())

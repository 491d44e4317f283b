"""`annotator models`: the trained models a project keeps, their figures, which one is active."""

from __future__ import annotations

import click

from annotator.cli.common import DB_OPTION, open_project
from annotator.cli.output import echo_json
from annotator.project.model_versions import ModelError, activate, list_models, register


@click.group("models", invoke_without_command=True)
@DB_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@click.pass_context
def models(ctx, db_url, as_json):
    """Trained models: list them, activate one, add one.

    With no subcommand: the list, the active one marked *, with each one's figures.

    Example:

    \b
      annotator models
      annotator models activate gold-1@2
    """
    ctx.obj = db_url
    if ctx.invoked_subcommand is None:
        _list(db_url, as_json)


def _figures(metrics: dict) -> str:
    overall = metrics.get("overall") or {}
    parts = [f"{key} {value:.3f}" for key, value in overall.items() if isinstance(value, (int, float))]
    return ", ".join(parts[:4]) or "-"


def _list(db_url, as_json: bool) -> None:
    rows = list_models(open_project(db_url, labels=False).db)
    if as_json:
        echo_json(
            [
                {
                    "name": m.name,
                    "version": m.version,
                    "active": m.active,
                    "layer": m.layer,
                    "lang": m.lang,
                    "path": m.path,
                    "created_at": m.created_at.isoformat(),
                    "metrics": m.metrics,
                }
                for m in rows
            ]
        )
        return
    if not rows:
        click.echo("No models yet: `annotator train --layer gold --out DIR` trains one.")
    for m in rows:
        mark = "*" if m.active else " "
        click.echo(f"{mark} {m.name}@{m.version}  layer {m.layer}, {m.lang}  {_figures(m.metrics)}  {m.path}")


@models.command("activate")
@click.argument("key")
@click.pass_obj
def activate_cmd(db_url, key):
    """Make NAME[@VERSION] the model pre-highlighting uses when none is named.

    Example:

    \b
      annotator models activate gold-1@2
    """
    try:
        model = activate(open_project(db_url, labels=False).db, key)
    except ModelError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Active model: {model.name}@{model.version}")


@models.command("add")
@click.argument("folder", type=click.Path(file_okay=False, exists=True))
@click.option("--activate/--no-activate", "make_active", default=True, show_default=True)
@click.pass_obj
def add_cmd(db_url, folder, make_active):
    """Keep a model folder trained elsewhere (or moved) in this project.

    Example:

    \b
      annotator models add models/gold-1 --activate
    """
    try:
        model = register(open_project(db_url, labels=False).db, folder, activate=make_active)
    except ModelError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Kept {model.name}@{model.version}" + (" (active)" if model.active else ""))

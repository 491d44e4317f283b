"""What the commands share: the --db option, opening the project, the model to use."""

from __future__ import annotations

import click

from annotator.cli.progress import ProgressBar, interrupt_once
from annotator.labels import LabelConfigError
from annotator.project import Project
from annotator.project.model_versions import ModelError, active_model, read_model_folder

__all__ = ["DB_OPTION", "LAYER_OPTION", "ProgressBar", "interrupt_once", "model_for", "open_project"]

DB_OPTION = click.option(
    "--db",
    "db_url",
    envvar="DATABASE_URL",
    metavar="URL",
    help="Database URL (default: SQLite in the instance folder). Also DATABASE_URL.",
)

# the layer a command reads: the machine's suggestions unless another is named
LAYER_OPTION = click.option(
    "--layer",
    default="suggestions",
    show_default=True,
    metavar="NAME",
    help="suggestions, gold, or an annotator's name.",
)


def open_project(db_url: str | None, labels: bool = True) -> Project:
    """The project the command works on; with `labels`, its label configuration checked now,
    so a broken one is a clear error before any work."""
    project = Project({"DATABASE_URL": db_url} if db_url else None)
    if labels:
        try:
            project.labels  # noqa: B018 - loading it is the check
        except LabelConfigError as exc:
            raise click.ClickException(str(exc)) from exc
    return project


def model_for(project: Project, path: str | None, use_active: bool = True):
    """The trained model a pre-highlighting command uses: the folder given, else the
    project's active model (unless `use_active` is off), else none (rules only)."""
    if path is None and use_active:
        active = active_model(project.db)
        path = active.path if active else None
    if path is None:
        return None
    try:
        read_model_folder(path)
        # spaCy and the trained pipeline: only commands that suggest with a model load them
        from annotator.learn.model import TrainedModel

        return TrainedModel.load(path)
    except (ModelError, OSError, ValueError) as exc:
        raise click.ClickException(f"cannot use the model in {path}: {exc}") from exc

"""The `annotator` command: one click group, a module per command group.

A command is looked up by name and its module imported only when it runs, so each costs
the start-up of what it uses (`annotator --help` imports no command at all: the short
help of each is listed here, and a test keeps it equal to the command's own).
"""

from __future__ import annotations

import importlib

import click

from annotator.cli import conventions
from annotator.cli.conventions import adopt, interrupted_exit

# name: (module, attribute, short help)
COMMANDS = {
    "import": ("annotator.cli.importing", "import_cmd", "Import documents, or annotations into a layer."),
    "export": ("annotator.cli.exporting", "export_cmd", "Write a new validated, versioned export of one layer."),
    "validate": ("annotator.cli.validating", "validate_cmd", "Check JSONL files against the record schema."),
    "show": ("annotator.cli.inspecting", "show_cmd", "Print one document record of one layer."),
    "documents": (
        "annotator.cli.documents",
        "documents_cmd",
        "List documents: ids, source ids, titles, languages, layers.",
    ),
    "layers": ("annotator.cli.documents", "layers_cmd", "List layers: documents, spans and who owns them."),
    "stats": ("annotator.cli.stats", "stats_cmd", "Documents, languages, and counts per layer and label."),
    "iaa": ("annotator.cli.agreement", "iaa_cmd", "Inter-annotator agreement between annotator layers."),
    "assign": ("annotator.cli.assignments", "assign_cmd", "Assign documents to annotators, k per document."),
    "reassign": ("annotator.cli.assignments", "reassign_cmd", "List stale assignments, or hand one over."),
    "users": ("annotator.cli.users", "users", "Accounts: annotators, curators and admins."),
    "labels": ("annotator.cli.labels", "labels", "Label configurations: check one before a project uses it."),
    "train": ("annotator.cli.training", "train_cmd", "Train a model on the done documents of a layer."),
    "db": ("annotator.cli.database", "db", "Database schema (Alembic migrations)."),
    "suggest": ("annotator.cli.suggesting", "suggest_cmd", "Suggest again; what people decided stays."),
    "models": ("annotator.cli.models", "models", "Trained models: list them, activate one, add one."),
    "serve": ("annotator.cli.serving", "serve_cmd", "Serve the web app; an empty project gets the seeds first."),
    "worker": ("annotator.cli.worker", "worker_cmd", "Run jobs from the project's queue until stopped."),
    "jobs": ("annotator.cli.jobs", "jobs", "Jobs: list them, follow one, cancel one, or queue one for the workers."),
}


class LazyGroup(click.Group):
    """A group whose commands are imported when called, listed from COMMANDS."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attribute, _ = COMMANDS[name]
        return adopt(getattr(importlib.import_module(module), attribute))

    def invoke(self, ctx: click.Context):
        conventions.reset()
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            interrupted_exit(ctx)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][2]) for name in self.list_commands(ctx)])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="claim-annotator")
def main() -> None:
    """claim annotator: documents in, gold entities, relations and numeric claims out."""

"""What every command does the same way, given to each as it is looked up rather than
written into each: `--quiet` and `--verbose`, exit code 130 on Ctrl+C, and subcommand
listings that show a command's whole first sentence instead of cutting it at "...".

Verbosity is one process-wide level, read by the progress bar and by `say()`/`detail()`:
quiet keeps errors, results and `--json` output; verbose adds what happened along the way.
"""

from __future__ import annotations

import logging
import sys

import click

QUIET, NORMAL, VERBOSE = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl+C

_level = NORMAL


def level() -> int:
    return _level


def say(message: str) -> None:
    """A note or warning on stderr, which --quiet silences (errors are not notes)."""
    if _level > QUIET:
        click.echo(message, err=True)


def detail(message: str) -> None:
    """What --verbose adds: the steps a command took, on stderr."""
    if _level >= VERBOSE:
        click.echo(message, err=True)


def reset() -> None:
    """Each command starts at the normal level (tests run many in one process)."""
    global _level
    _level = NORMAL


def _set_level(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    global _level
    if not value:
        return
    wanted = QUIET if param.name == "quiet" else VERBOSE
    if ctx.meta.get("annotator.verbosity") not in (None, wanted):
        raise click.UsageError("--quiet and --verbose cannot go together", ctx)
    ctx.meta["annotator.verbosity"] = wanted
    _level = wanted
    if wanted == VERBOSE:  # this package's own log records too (model loading, file formats)
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        logger = logging.getLogger("annotator")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def _verbosity_options() -> list[click.Option]:
    return [
        click.Option(
            ["--quiet", "-q"],
            is_flag=True,
            expose_value=False,
            is_eager=True,
            callback=_set_level,
            help="No progress or notes: only errors and the result.",
        ),
        click.Option(
            ["--verbose", "-v"],
            is_flag=True,
            expose_value=False,
            is_eager=True,
            callback=_set_level,
            help="Also say what the command does along the way.",
        ),
    ]


class WholeHelpGroup(click.Group):
    """A command group that lists each subcommand's first sentence whole."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def adopt(command: click.Command) -> click.Command:
    """Give a command (and a group's subcommands) the shared options, once."""
    if getattr(command, "_annotator_adopted", False):
        return command
    command._annotator_adopted = True
    if isinstance(command, click.Group):
        if type(command) is click.Group:  # a plain group lists its commands whole
            command.__class__ = WholeHelpGroup
        for sub in command.commands.values():
            adopt(sub)
    else:
        names = {opt for param in command.params for opt in getattr(param, "opts", [])}
        command.params.extend(option for option in _verbosity_options() if not set(option.opts) & names)
    return command


def interrupted_exit(ctx: click.Context) -> None:
    """Where a command did not answer Ctrl+C itself: one line and 130, not click's "Aborted!"."""
    click.echo("Interrupted.", err=True)
    ctx.exit(EXIT_INTERRUPTED)

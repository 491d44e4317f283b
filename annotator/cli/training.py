"""`annotator train`: a model learnt from one layer's finished documents (docs/training.md)."""

from __future__ import annotations

import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import click

from annotator import __version__
from annotator.cli import conventions
from annotator.cli.common import DB_OPTION, open_project
from annotator.cli.output import echo_json
from annotator.learn.examples import load_gold, split_documents
from annotator.learn.training import Settings, check_base, train_all, write
from annotator.nlp.tokenizer import blank_pipeline
from annotator.project.model_versions import register

LINE_EVERY = 5.0  # seconds between progress lines when stderr is not a terminal


class Progress:
    """A bar on a terminal, else a plain line every LINE_EVERY seconds (both on stderr)."""

    def __init__(self):
        self.quiet = conventions.level() == conventions.QUIET
        self.tty = sys.stderr.isatty() and not self.quiet
        self.bar = click.progressbar(length=1000, label="Training", file=sys.stderr) if self.tty else None
        self.at, self.last, self.began = 0, 0.0, time.monotonic()

    def __call__(self, fraction: float, message: str) -> None:
        if self.quiet:
            return
        target = int(1000 * min(1.0, fraction))
        now = time.monotonic()
        if self.bar is not None:
            if self.at == 0:
                self.bar.__enter__()
            self.bar.label = f"Training ({message})"
            if target > self.at:
                self.bar.update(target - self.at)
                self.at = target
        elif now - self.last >= LINE_EVERY or fraction >= 1.0:
            click.echo(f"train: {fraction:4.0%} {message} ({now - self.began:.0f} s)", err=True)
            self.last = now
            self.at = max(self.at, target)

    def close(self) -> None:
        if self.bar is not None and self.at:
            self.bar.__exit__(None, None, None)


class TrainError(ValueError):
    """Why a model cannot be trained: the command says it and exits 1, a job fails with it."""


@dataclass
class Trained:
    path: Path
    meta: dict
    headline: dict  # the learning curve's last point: F1 with all training documents
    active: bool
    trained: int
    held_back: int

    def as_json(self) -> dict:
        return {"path": str(self.path), "meta": self.meta, "headline": self.headline, "active": self.active}

    def summary(self) -> str:
        curve, meta = self.headline, self.meta
        return (
            f"Wrote {self.path}: {meta['name']} {meta['version']}, {self.trained} documents trained, "
            f"{self.held_back} held back: span F1 {curve['span_f1_exact']:.3f} exact, {curve['span_f1_overlap']:.3f} "
            f"overlap; claim links F1 {curve['claim_link_f1']:.3f} ({meta['training_seconds']:.0f} s)."
            + (" It is now the project's active model." if self.active else "")
        )


def check_options(eval_split: float, max_minutes: float, epochs: int) -> None:
    """click.BadParameter naming the option that is out of range."""
    if not 0.0 < eval_split < 1.0:
        raise click.BadParameter("must be between 0 and 1 (exclusive), e.g. 0.2", param_hint="--eval-split")
    if max_minutes <= 0:
        raise click.BadParameter("must be more than 0", param_hint="--max-minutes")
    if epochs < 1:
        raise click.BadParameter("must be at least 1", param_hint="--epochs")


def check_out(out: Path, force: bool) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        if not force:
            raise TrainError(f"{out} exists and is not empty; choose another --out, or --force to replace it")
        if not (out / "meta.json").is_file() or not (out / "pipeline").is_dir():
            raise TrainError(f"{out} is not a model folder (no meta.json and pipeline/): not replaced")


def _base(choice: str | None, lang: str, project) -> str | None:
    if choice == "blank":
        return None
    if choice:
        return choice
    return project.config["SPACY_MODEL_EN"] if lang == "en" else None


def _documents(project, layer: str) -> tuple[list, str, int]:
    """The layer's done documents in its main language, that language, and how many were left out."""
    with project.db.reading() as session:
        docs = load_gold(session, layer)
    if not docs:
        raise TrainError(f"layer {layer!r} has no documents marked done: nothing to train on")
    langs = Counter(d.lang for d in docs)
    lang = langs.most_common(1)[0][0]
    docs = [d for d in docs if d.lang == lang]
    if len(docs) < 2:
        raise TrainError(f"layer {layer!r} has {len(docs)} done document in {lang}: at least 2 are needed")
    if not any(d.spans for d in docs):
        raise TrainError(f"the done documents of layer {layer!r} have no spans: nothing to train on")
    return docs, lang, sum(langs.values()) - len(docs)


def _publish(out: Path, model, metrics, labels) -> None:
    """Written aside, then renamed: a stop (Ctrl+C, a cancelled job) leaves no half model."""
    partial = out.with_name(f".{out.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        write(partial, model, metrics, labels)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    if out.exists():
        shutil.rmtree(out)
    partial.rename(out)


def train_model(
    project,
    layer: str,
    out: Path,
    base: str | None = None,
    eval_split: float = 0.2,
    max_minutes: float = 10.0,
    epochs: int = 30,
    seed: int = 0,
    name: str | None = None,
    force: bool = False,
    activate: bool = True,
    progress: Callable[[float, str], None] = lambda fraction, message: None,
) -> Trained:
    """Train on the layer's done documents into `out`, registered in the project. `progress`
    gets (fraction, stage); an exception it raises stops the run with nothing written."""
    check_options(eval_split, max_minutes, epochs)
    check_out(out, force)
    labels = project.labels
    docs, lang, left_out = _documents(project, layer)
    base_name = _base(base, lang, project)
    train, held = split_documents(docs, eval_split, seed)
    now = datetime.now(UTC)
    meta = {
        "name": name or f"{layer}-{lang}",
        "version": now.strftime("%Y%m%d.%H%M%S"),
        "trained_at": now.isoformat(timespec="seconds"),
        "layer": layer,
        "lang": lang,
        "base": base_name or "blank",
        "annotator_version": __version__,
        "labels_sha256": labels.sha256,
        "documents": {
            "train": len(train),
            "held_back": len(held),
            "other_languages_left_out": left_out,
            "train_uids": sorted(d.uid for d in train),
            "held_back_uids": sorted(d.uid for d in held),
        },
        "seed": seed,
        "eval_split": eval_split,
    }
    settings = Settings(labels, base_name, lang, max_minutes * 60, epochs, seed, blank_pipeline, progress)
    try:
        check_base(settings)
    except (OSError, ValueError) as exc:
        raise TrainError(str(exc)) from exc
    model, metrics = train_all(settings, train, held, meta)
    model.meta["training_seconds"] = round(time.monotonic() - settings.started, 1)
    _publish(out, model, metrics, labels)
    kept = register(project.db, out, activate=activate)  # versioned in the project, with its figures
    return Trained(out, model.meta, metrics["learning_curve"][-1], kept.active, len(train), len(held))


@click.command("train")
@DB_OPTION
@click.option(
    "--layer", required=True, metavar="NAME", help="The layer to learn from (its documents marked done), e.g. gold."
)
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Folder to write (new or empty).")
@click.option(
    "--base", default=None, help="spaCy pipeline to start from, or 'blank' [default: the English model for English]."
)
@click.option("--eval-split", default=0.2, show_default=True, type=float, help="Share of documents held back.")
@click.option("--max-minutes", default=10.0, show_default=True, type=float, help="Time budget of the whole command.")
@click.option("--epochs", default=30, show_default=True, type=int, help="Most epochs of the full model.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--name", default=None, help="The model's name [default: LAYER-LANG].")
@click.option("--force", is_flag=True, help="Replace --out if it holds an earlier model.")
@click.option(
    "--activate/--no-activate",
    default=True,
    show_default=True,
    help="Make the new model the project's active one (pre-highlighting and ordering by need use it).",
)
@click.option("--json", "as_json", is_flag=True, help="Print meta and headline figures as JSON.")
def train_cmd(db_url, layer, out, base, eval_split, max_minutes, epochs, seed, name, force, activate, as_json):
    """Train a model on the done documents of a layer.

    Example:

    \b
      annotator train --layer gold --out models/gold-1 --max-minutes 5
    """
    check_options(eval_split, max_minutes, epochs)
    try:
        check_out(out, force)
        project = open_project(db_url)
        progress = Progress()
        try:
            trained = train_model(
                project, layer, out, base, eval_split, max_minutes, epochs, seed, name, force, activate, progress
            )
        finally:
            progress.close()
    except TrainError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        echo_json(trained.as_json())
    else:
        click.echo(trained.summary())

"""The package's layout by pipeline stage, read from the source (docs/architecture.md).

The import graph is built from each file's syntax tree; no module of the package is
imported. An import is an edge from the module that makes it to the module it names:
`from annotator.formats import jsonl` names annotator.formats.jsonl, `from annotator.web
import register_blueprints` names annotator.web, and relative imports are resolved from
the importing module's package. The packages passed on the way (whose `__init__` runs
first) are not edges of their own. Imports under `if TYPE_CHECKING:` never run and are left
out; imports inside a function run when it is first called and are kept apart ("lazy").
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "annotator"

# Subpackages that are stages of their own; the top-level modules (and the migrations,
# which Alembic loads by path) are the core, except the two that open a project.
STAGES = ("nlp", "formats", "ingest", "annotate", "review", "team", "export", "schema", "project", "web", "cli")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # an annotator module, or the top module named for another package
    line: int
    lazy: bool  # inside a function
    typing_only: bool  # under `if TYPE_CHECKING:`

    @property
    def where(self) -> str:
        return f"{source_path(self.module)}:{self.line}"


# --- reading the source ---------------------------------------------------------------------


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def find_modules(package: Path = PACKAGE) -> dict[str, Path]:
    return {module_name(path, package.parent): path for path in sorted(package.rglob("*.py"))}


MODULES = find_modules()


def source_path(module: str) -> str:
    return MODULES[module].relative_to(ROOT).as_posix() if module in MODULES else module


def is_package(module: str, modules: dict[str, Path]) -> bool:
    return module in modules and modules[module].name == "__init__.py"


def known(name: str, modules: dict[str, Path]) -> str:
    """An annotator name as the module it lies in (a.b.c -> a.b when c is not a module)."""
    while name not in modules and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def targets(node: ast.Import | ast.ImportFrom, module: str, modules: dict[str, Path]) -> list[str]:
    """The modules one import statement names."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module.split(".") if is_package(module, modules) else module.split(".")[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join(package + ([node.module] if node.module else []))
        names = []
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            names.append(submodule if submodule in modules else base)
    return [known(n, modules) if n.split(".")[0] == "annotator" else n for n in names]


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def read_imports(module: str, source: str, modules: dict[str, Path]) -> list[Import]:
    found: list[Import] = []

    def visit(node: ast.AST, lazy: bool, typing_only: bool) -> None:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.extend(Import(module, t, node.lineno, lazy, typing_only) for t in targets(node, module, modules))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for child in ast.iter_child_nodes(node):
                visit(child, True, typing_only)
        elif isinstance(node, ast.If) and is_type_checking(node.test):
            for child in node.body:
                visit(child, lazy, True)
            for child in node.orelse:
                visit(child, lazy, typing_only)
        else:
            for child in ast.iter_child_nodes(node):
                visit(child, lazy, typing_only)

    visit(ast.parse(source), False, False)
    return found


def registry_imports(modules: dict[str, Path] = MODULES) -> list[Import]:
    """What `annotator.cli` imports by name when a command runs (COMMANDS, importlib)."""
    tree = ast.parse(modules["annotator.cli"].read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "COMMANDS" for t in node.targets):
            commands = ast.literal_eval(node.value)
            return [Import("annotator.cli", module, node.lineno, True, False) for module, _, _ in commands.values()]
    raise AssertionError("annotator/cli/__init__.py has no COMMANDS")


IMPORTS = [i for module, path in MODULES.items() for i in read_imports(module, path.read_text("utf-8"), MODULES)]


def graph(imports: list[Import]) -> dict[str, dict[str, Import]]:
    """Edges between annotator modules (the first import of each pair, for messages)."""
    edges: dict[str, dict[str, Import]] = defaultdict(dict)
    for i in imports:
        if i.target in MODULES and i.target != i.module and not i.typing_only:
            edges[i.module].setdefault(i.target, i)
    return edges


def find_cycle(edges: dict[str, dict[str, Import]]) -> list[Import]:
    """One cycle of the graph as the imports that make it, or [] when there is none."""
    done: set[str] = set()
    path: list[Import] = []
    on_path: dict[str, int] = {}

    def walk(module: str) -> list[Import]:
        on_path[module] = len(path)
        for target, edge in sorted(edges.get(module, {}).items()):
            if target in on_path:
                return path[on_path[target] :] + [edge]
            if target not in done:
                path.append(edge)
                cycle = walk(target)
                if cycle:
                    return cycle
                path.pop()
        del on_path[module]
        done.add(module)
        return []

    for module in sorted(edges):
        if module not in done:
            cycle = walk(module)
            if cycle:
                return cycle
    return []


def chain(cycle: list[Import]) -> str:
    steps = [f"{edge.module} ({edge.where})" for edge in cycle]
    return "import cycle:\n  " + "\n  -> ".join([*steps, cycle[0].module])


def stage(module: str) -> str:
    """The package's stage of one of our modules; other packages' modules (spacy.cli) are none."""
    parts = module.split(".")
    if parts[0] != "annotator":
        return "outside"
    if len(parts) > 1 and parts[1] in STAGES:
        return parts[1]
    return "core"


def listed(imports) -> str:
    return "\n  ".join(sorted(f"{i.where}: {i.module} imports {i.target}" for i in imports))


# --- the reader itself -------------------------------------------------------------------------


def test_reader_resolves_relative_package_and_lazy_imports(tmp_path):
    package = tmp_path / "annotator"
    for name in ("__init__.py", "a.py", "sub/__init__.py", "sub/b.py", "sub/c.py"):
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text("")
    modules = find_modules(package)
    source = (
        "from typing import TYPE_CHECKING\n"
        "from . import c\n"  # a sibling module
        "from .. import a, __version__\n"  # a module of the parent, and a name of its __init__
        "from ..sub.c import thing\n"
        "import annotator.sub.c as alias\n"
        "from annotator import sub\n"  # a subpackage
        "if TYPE_CHECKING:\n"
        "    from annotator.a import Hint\n"
        "else:\n"
        "    import json\n"
        "class K:\n"
        "    from annotator.sub import b\n"  # a class body runs at import
        "    def m(self):\n"
        "        from spacy.tokens import Doc\n"
        "def f():\n"
        "    def g():\n"
        "        import annotator.a\n"
    )
    got = {(i.target, i.lazy, i.typing_only) for i in read_imports("annotator.sub.b", source, modules)}
    assert got == {
        ("typing", False, False),
        ("annotator.sub.c", False, False),
        ("annotator.a", False, False),
        ("annotator", False, False),
        ("annotator.sub", False, False),
        ("annotator.a", False, True),
        ("json", False, False),
        ("annotator.sub.b", False, False),
        ("spacy.tokens", True, False),
        ("annotator.a", True, False),
    }
    init = read_imports("annotator.sub", "from . import b\nfrom .c import x\n", modules)
    assert [i.target for i in init] == ["annotator.sub.b", "annotator.sub.c"]


def test_cycles_are_found_and_shown_as_a_chain():
    def edge(a, b):
        return Import(a, b, 1, False, False)

    edges = {"x": {"y": edge("x", "y")}, "y": {"z": edge("y", "z")}, "z": {"y": edge("z", "y")}}
    cycle = find_cycle(edges)
    assert [(e.module, e.target) for e in cycle] == [("y", "z"), ("z", "y")]
    assert chain(cycle).endswith("y (y:1)\n  -> z (z:1)\n  -> y")
    assert find_cycle({"x": {"y": edge("x", "y")}, "y": {}}) == []


def test_every_annotator_import_names_a_module_that_exists():
    assert len(MODULES) > 80 and "annotator.cli" in MODULES and "annotator.web.workspace.routes" in MODULES
    missing = [i for i in IMPORTS if i.target.split(".")[0] == "annotator" and i.target not in MODULES]
    assert not missing, "imports of modules that are not in the package:\n  " + listed(missing)


# --- no cycles ---------------------------------------------------------------------------------


def test_no_import_cycle_at_module_level():
    cycle = find_cycle(graph([i for i in IMPORTS if not i.lazy]))
    assert not cycle, chain(cycle)


def test_no_import_cycle_with_function_level_imports():
    """A function-level import only puts off loading something: moving it to the top would
    make no cycle. The command registry's imports by name count too."""
    cycle = find_cycle(graph(IMPORTS + registry_imports()))
    assert not cycle, chain(cycle)


# --- stage rules -------------------------------------------------------------------------------


def test_the_core_imports_only_the_core():
    """No import leads out of the core (the top-level modules and migrations/), at the top
    or in a function: every stage builds on it, so it can build on none of them."""
    core = {m for m in MODULES if stage(m) == "core"}
    assert {"annotator.models", "annotator.labels", "annotator.contents", "annotator.db"} <= core
    outside = [e for m in core for t, e in graph(IMPORTS).get(m, {}).items() if t not in core]
    assert not outside, "the core reaches beyond itself:\n  " + listed(outside)


def test_project_opens_a_project_without_web_or_cli():
    """project/ is shared by the command line and the web app: it imports neither."""
    wrong = [i for i in IMPORTS if stage(i.module) == "project" and stage(i.target) in ("web", "cli")]
    assert not wrong, listed(wrong)


# Imports of annotator.web from outside web/ that are known and accepted: the `serve` command
# builds the app and reaches into web/ for the setup link and gunicorn; listed so that no
# other command does.
WEB_FROM_OUTSIDE = {
    ("annotator.cli.serving", "annotator.web.app"),
    ("annotator.cli.serving", "annotator.web.auth"),
    ("annotator.cli.serving", "annotator.web.serving"),
}


def test_web_is_imported_from_outside_only_where_listed():
    outside = [i for i in IMPORTS if stage(i.target) == "web" and stage(i.module) != "web"]
    new = [i for i in outside if (i.module, i.target) not in WEB_FROM_OUTSIDE]
    assert not new, "annotator.web imported from outside web/:\n  " + listed(new)
    gone = WEB_FROM_OUTSIDE - {(i.module, i.target) for i in outside}
    assert not gone, f"WEB_FROM_OUTSIDE lists imports no longer made: {sorted(gone)}"


def test_cli_is_imported_only_by_the_cli():
    wrong = [i for i in IMPORTS if stage(i.target) == "cli" and stage(i.module) != "cli"]
    assert not wrong, listed(wrong)


def test_dynamic_imports_only_in_the_command_registry():
    calls = set()
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
                if name in ("import_module", "__import__"):
                    calls.add(module)
    assert calls == {"annotator.cli"}
    assert {stage(i.target) for i in registry_imports()} == {"cli"}
    assert all(i.target in MODULES for i in registry_imports()), [i.target for i in registry_imports()]


# Which stages each stage may import (besides itself and the core), as docs/architecture.md
# draws them. The core's own rule is test_the_core_imports_only_the_core.
MAY_IMPORT = {
    "nlp": set(),
    "schema": set(),
    "formats": {"nlp"},  # readers and writers know nothing of the stages that use them
    "ingest": {"nlp", "formats", "schema"},
    "annotate": {"nlp", "ingest"},  # ingest/first_use.py: tokens and language on first use
    "review": {"nlp", "ingest", "annotate"},
    "team": set(),
    "export": {"ingest", "formats", "schema"},
    "project": {"nlp"},
    "web": {"project", "nlp", "annotate", "review", "team", "export"},
    "cli": {"project", "web", "nlp", "formats", "ingest", "annotate", "review", "team", "export", "schema"},
}


def test_stages_import_only_the_stages_below_them():
    wrong = [
        i
        for i in IMPORTS
        if i.target in MODULES
        and stage(i.module) != "core"
        and stage(i.target) not in {"core", stage(i.module), *MAY_IMPORT[stage(i.module)]}
    ]
    assert not wrong, "imports against the direction of the stages:\n  " + listed(wrong)


def test_formats_import_no_ingest_export_or_web():
    wrong = [i for i in IMPORTS if stage(i.module) == "formats" and stage(i.target) in ("ingest", "export", "web")]
    assert not wrong, listed(wrong)


# --- function-level imports --------------------------------------------------------------------

# Every import made inside a function, as (module, module imported), and why it waits there.
# For another package the module is the one the statement names (`from spacy.tokens import
# Doc`: spacy.tokens).
LAZY = {
    ("annotator.db", "alembic"),  # Alembic (~0.5 s) only when a migration runs, not to check for one
    ("annotator.db", "alembic.config"),  # the same: only upgrade() needs a configuration
    ("annotator.db", "flask"),  # Flask and werkzeug (~75 ms) only in the web app's per-request helpers
    ("annotator.export.publish", "annotator.formats.spacy_docbin"),  # a format's writer only for that format
    ("annotator.export.publish", "annotator.formats.brat.writer"),  # the same (a JSONL export loads none)
    ("annotator.export.publish", "annotator.formats.measeval.writer"),  # the same
    ("annotator.export.publish", "annotator.formats.conll"),  # the same
    ("annotator.ingest.first_use", "annotator.nlp.quantities"),  # the quantity grammar (~25 ms) only to reparse
    ("annotator.nlp.tokenizer", "spacy"),  # spaCy (~1 s) only when a text is first tokenized
    ("annotator.nlp.tokenizer", "spacy.util"),  # the same, for the multi-language tokenizer
    ("annotator.nlp.tokenizer", "spacy.attrs"),  # the same, for reading a Doc's token offsets
    ("annotator.nlp.tokenizer", "numpy"),  # with spaCy, only once a Doc is there to pack
    ("annotator.project", "annotator.nlp.pipeline"),  # spaCy and the model: only commands that pre-highlight
    ("annotator.nlp.language", "fasttext"),  # its model (~40 ms) only when a language must be detected
    ("annotator.nlp.language", "py3langid"),  # only for a text fastText is unsure of
    ("annotator.formats.spacy_docbin", "spacy"),  # only for `export --format spacy`; every export imports it
    ("annotator.formats.spacy_docbin", "spacy.tokens"),  # the same (Doc, DocBin)
    ("annotator.formats.spacy_docbin", "annotator.formats.spacy_config"),  # only with --split: a config.cfg
    ("annotator.formats.spacy_config", "spacy.util"),  # the language check, only when a config is written
    ("annotator.formats.spacy_config", "spacy.cli.init_config"),  # spaCy's own config, only then
    ("annotator.formats.conll", "spacy"),  # only for `export --format conll` (its sentencizer)
    ("annotator.schema", "jsonschema_rs"),  # the compiled validator only when a record is validated
    ("annotator.schema", "jsonschema"),  # jsonschema (~0.15 s) only to say what is wrong with a record
    ("annotator.schema.token_arrays", "jsonschema_rs"),  # only when a token array is made or checked
    ("annotator.schema.token_arrays", "numpy"),  # only when stored token offsets are checked
    ("annotator.cli.common", "annotator.learn.model"),  # spaCy and a trained pipeline: only with a model
    ("annotator.nlp.workers", "annotator.learn.model"),  # a worker loads a trained pipeline only if one is used
}


def test_every_function_level_import_is_listed_with_its_reason():
    found = {(i.module, i.target) for i in IMPORTS if i.lazy and not i.typing_only}
    new = [i for i in IMPORTS if i.lazy and (i.module, i.target) in found - LAZY]
    assert not new, "function-level imports not in LAZY (add each with why it waits):\n  " + listed(new)
    assert not LAZY - found, f"LAZY lists imports that are no longer made in a function: {sorted(LAZY - found)}"


def test_the_stages_form_no_cycle():
    """The house drawn a folder at a time (the top-level modules as the core) has no cycle:
    each stage's imports, lazy ones included, lead only downwards."""
    below: dict[str, set[str]] = {}
    for i in IMPORTS + registry_imports():
        if i.target in MODULES and stage(i.target) != stage(i.module):
            below.setdefault(stage(i.module), set()).add(stage(i.target))

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(s == goal or (s not in seen and reaches(s, goal, seen | {s})) for s in below.get(start, ()))

    assert "core" not in below and below["cli"] >= {"web", "project", "export"}
    assert [s for s in sorted(below) if reaches(s, s, set())] == []

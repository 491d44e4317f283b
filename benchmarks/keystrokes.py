"""Keys and seconds to annotate one seed article to a fixed reference, by keyboard alone.

    .venv/bin/python -m benchmarks.keystrokes

The Sophgo seed article, imported with pre-highlighting into a fresh SQLite project served
by `annotator serve` (gunicorn, 1 worker) and annotated in headless Chromium to the
reference below (SPANS, RELATIONS, CLAIMS, done in the order of STEPS): spans (some accepted
from suggestions, some new), relations and numeric claims, each made the cheapest way the
page offers (a suggested relation or claim accepted whole, R between two spans, the claim
form from the quantity or on a suggested claim to correct it), then finished (what is left
of the suggestions rejected, the document marked done). Before each step the fewest keys
for it are worked out from what the page shows at that moment (benchmarks/_keyplan.py:
moving through items and suggested links, finding with "/", word steps, the claim form's
Tab order and type-ahead) and pressed one at a time; every press is counted, nothing is
clicked (pointer events in the page are counted too, and must be none). After each step the
database is read for what it should have stored, and at the end the stored layer must equal
the reference exactly, or the run fails.

Targets: a claim of a quantity, an entity and a property that are already spans takes at
most 6 keys from its quantity (the quantity current); no step needs the mouse; nothing
stored differs from the reference. Writes
benchmarks/results/keystrokes.json (the shared format of benchmarks/_common.py).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import select

from . import _keyplan as kp
from ._common import SEEDS_DIR, Target, exit_code, machine_info, print_summary, write_result
from .document_list import gunicorn
from .workspace_browser import CHROMIUM

NAME = "keys"
PASSWORD = "benchmark-only-password"  # a throwaway project, deleted afterwards
CLAIM_TARGET_KEYS = 6
ARTICLE = "Sophgo’s SC11 FP300"  # the seed article this annotates

# --- the reference ----------------------------------------------------------------------------
# A span is its text, found inside `within` (which occurs once in the article) so repeated
# names are told apart; offsets are always looked up, never written down. A label is either
# a name of the project's entity labels or ("role", part): the label the configuration's
# claim scheme gives that part. `via`: accepted from a suggestion, or new (made by selecting).


@dataclass(frozen=True)
class RefSpan:
    name: str
    text: str
    label: str | tuple[str, str]
    via: str  # "suggestion" | "new"
    within: str | None = None


def role(part: str) -> tuple[str, str]:
    return ("role", part)


SPANS = [
    RefSpan("sophgo", "Sophgo", "ORG", "suggestion", "Sophgo’s SC11 FP300"),
    RefSpan("sc11", "SC11 FP300", "PRODUCT", "suggestion"),
    RefSpan("r1", "R1", "MODEL", "new", "DeepSeek’s R1 model"),
    RefSpan("cttl", "CTTL", "ORG", "suggestion", "Labs (CTTL)"),
    RefSpan("labs", "China Telecommunication Technology Labs", "ORG", "new"),
    RefSpan("sophgo2", "Sophgo", "ORG", "suggestion", "Sophgo attributed"),
    RefSpan("fp300", "FP300", "PRODUCT", "suggestion", "within the FP300 compute card"),
    RefSpan("card", "card", role("entity"), "new", "This card features"),
    RefSpan("q256", "256 gigabytes", role("quantity"), "suggestion"),
    RefSpan("hbm", "high-bandwidth memory", role("property"), "suggestion"),
    RefSpan("q11", "up to 1.1 terabytes per second", role("quantity"), "suggestion"),
    RefSpan("bw", "memory bandwidth", role("property"), "suggestion", "of memory bandwidth,"),
    RefSpan("iflytek", "iFlyTek", "ORG", "suggestion", "iFlyTek utilizes"),
    RefSpan("huawei", "Huawei", "ORG", "suggestion", "Huawei’s Ascend"),
    RefSpan("ascend", "Ascend 910B", "PRODUCT", "suggestion"),
    RefSpan("iflytek2", "iFlyTek", "ORG", "suggestion", "iFlyTek chairman"),
    RefSpan("eff", "training efficiency", role("property"), "suggestion", "its training efficiency from"),
    RefSpan("q73", "73 percent", role("quantity"), "suggestion"),
    RefSpan("bench", "when benchmarked against Nvidia’s A800 chips", role("condition"), "suggestion"),
    RefSpan("q25", "25 percent", role("quantity"), "suggestion"),
    RefSpan("end", "the end of last year", role("time"), "suggestion"),
]
# (head, relation label, child), by span name
RELATIONS = [
    ("sophgo", "MAKES", "sc11"),
    ("r1", "RUNS_ON", "sc11"),
    ("sophgo2", "MAKES", "fp300"),
    ("iflytek", "USES", "ascend"),
    ("huawei", "MAKES", "ascend"),
]


@dataclass(frozen=True)
class RefClaim:
    quantity: str
    value: float
    unit: str
    entity: str
    property: str
    qualifier: str | None = None
    condition: str | None = None
    time: str | None = None

    @property
    def plain(self) -> bool:
        """Quantity, entity and property only: the claim the form's presets are made for."""
        return self.condition is None and self.time is None


CLAIMS = [
    RefClaim("q256", 256, "GB", entity="card", property="hbm"),
    RefClaim("q11", 1.1, "TB/s", entity="card", property="bw", qualifier="up_to"),
    RefClaim("q73", 73, "%", entity="iflytek2", property="eff", condition="bench"),
    RefClaim("q25", 25, "%", entity="iflytek2", property="eff", time="end"),
]
# The annotator's order: through the article, each paragraph's spans before what joins them.
STEPS = [
    ("relation", 0),
    ("span", "r1"),
    ("relation", 1),
    ("span", "cttl"),
    ("span", "labs"),
    ("span", "sophgo2"),
    ("span", "fp300"),
    ("relation", 2),
    ("span", "card"),
    ("span", "q256"),
    ("span", "hbm"),
    ("span", "q11"),
    ("span", "bw"),
    ("claim", 0),
    ("claim", 1),
    ("relation", 3),
    ("relation", 4),
    ("claim", 2),
    ("span", "q25"),
    ("span", "end"),
    ("claim", 3),
    ("finish", None),
]


def resolve(text: str, labels) -> dict[str, tuple[int, int, str]]:
    """Each reference span as (start, end, label): searched in the text, labels read from
    the configuration (a name it lacks stops the benchmark, as a role it does not fill)."""
    out = {}
    for ref in SPANS:
        around = ref.within or ref.text
        if text.count(around) != 1:
            raise SystemExit(f"reference span {ref.name}: {around!r} occurs {text.count(around)} times, not once")
        start = text.index(around) + around.index(ref.text)
        label = ref.label
        if isinstance(label, tuple):
            label = labels.claims.role_label(label[1])
        if label not in labels.entities:
            raise SystemExit(f"reference span {ref.name}: label {ref.label!r} is not in the label configuration")
        out[ref.name] = (start, start + len(ref.text), label)
    for head, label, child in RELATIONS:
        if not labels.relation_allowed(label, out[head][2], out[child][2]):
            raise SystemExit(f"reference relation {head} {label} {child} is not allowed by the label configuration")
    return out


# --- the project --------------------------------------------------------------------------------


def build(instance: Path, db_path: Path) -> dict:
    """A fresh project with the five seeds imported and pre-highlighted; the Sophgo article
    assigned to the annotator."""
    from annotator.ingest.pipeline import import_paths
    from annotator.models import Document
    from annotator.project import labels_of, open_project, prehighlighter_for
    from annotator.team.accounts import create_user
    from annotator.team.assignments import assign
    from annotator.web.app import create_app

    app = create_app({"INSTANCE_PATH": str(instance), "DATABASE_URL": f"sqlite:///{db_path}", "NLP_PROCESSES": 1})
    db = open_project(app)
    report = import_paths(db, [str(SEEDS_DIR)], labels_of(app), prehighlighter_for(app))
    if not report.ok:
        raise SystemExit(f"import failed: {report.summary()}")
    with db.reading() as s:
        doc = s.exec(select(Document).where(Document.text.contains(ARTICLE))).scalars().one()
    with db.writing() as s:
        create_user(s, NAME, "annotator", PASSWORD)
    with db.writing() as s:
        assign(s, "bench", [NAME], 1, [doc.uid])
    return {"app": app, "db": db, "doc": doc, "labels": labels_of(app)}


class Store:
    """What the layer holds, read from the database the server writes."""

    def __init__(self, project: dict):
        self.db, self.doc, self.app = project["db"], project["doc"], project["app"]

    def rows(self):
        from annotator.models import Claim, Layer, Relation, Span

        with self.db.reading() as s:
            layer = s.exec(select(Layer).where(Layer.document_id == self.doc.id, Layer.name == NAME)).scalars().first()
            if layer is None:
                return None, [], [], []
            spans = s.exec(select(Span).where(Span.layer_id == layer.id)).scalars().all()
            relations = s.exec(select(Relation).where(Relation.layer_id == layer.id)).scalars().all()
            claims = s.exec(select(Claim).where(Claim.layer_id == layer.id)).scalars().all()
            return layer, spans, relations, claims

    def layer_sets(self) -> dict:
        """Spans, relations and claims as comparable tuples (spans by offsets and label)."""
        layer, spans, relations, claims = self.rows()
        by_id = {s.id: (s.start, s.end, s.label) for s in spans}
        values = {s.id: (s.value, s.unit, s.qualifier) for s in spans}
        return {
            "status": layer.status if layer else None,
            "spans": {(s.start, s.end, s.label, "suggestion" if s.suggestion_id else "new") for s in spans},
            "relations": {(by_id[r.head_id], r.label, by_id[r.child_id]) for r in relations},
            "claims": {
                (
                    by_id[c.quantity_id],
                    values[c.quantity_id],
                    by_id.get(c.entity_id),
                    by_id.get(c.property_id),
                    c.property_text,
                    by_id.get(c.condition_id),
                    by_id.get(c.time_id),
                    by_id.get(c.source_id),
                    tuple(c.modifiers),
                )
                for c in claims
            },
            "ids": {v: k for k, v in by_id.items()},
        }

    def form_presets(self, quantity_id: int) -> tuple:
        """What the claim form opened on this quantity span will show, as a claim tuple (the
        server's own presets)."""
        from annotator.annotate.spans import current_layer
        from annotator.models import Span
        from annotator.project import labels_of
        from annotator.web.workspace.forms import claim_form_data

        with self.app.app_context(), self.db.reading() as s:
            layer = current_layer(s, self.doc, NAME)
            data = claim_form_data(s, labels_of(self.app), self.doc, layer, quantity_id=quantity_id)
            rows = s.exec(select(Span).where(Span.layer_id == layer.id)).scalars()
            spans = {x.id: (x.start, x.end, x.label) for x in rows}
        links, q = data["links"], data["quantity"]
        value = float(data["value"]) if data["value"] != "" else None
        return (
            (q.start, q.end, q.label),
            (value, data["unit"] or None, data["qualifier"] or None),
            *(spans.get(links.get(k)) for k in ("entity_id", "property_id")),
            data["property_text"] or None,
            *(spans.get(links.get(k)) for k in ("condition_id", "time_id", "source_id")),
            tuple(sorted(data["modifiers"])),
        )

    def suggested(self) -> dict:
        """Suggested relations and claims by their parts' offsets and labels."""
        from annotator.models import ClaimSuggestion, RelationSuggestion, Suggestion

        with self.db.reading() as s:
            g = {x.id: x for x in s.exec(select(Suggestion).where(Suggestion.document_id == self.doc.id)).scalars()}
            part = lambda i: (g[i].start, g[i].end, g[i].label) if i else None  # noqa: E731
            rel = s.exec(select(RelationSuggestion).where(RelationSuggestion.document_id == self.doc.id)).scalars()
            relations = {f"l{r.id}": (part(r.head_id), r.label, part(r.child_id)) for r in rel}
            cl = s.exec(select(ClaimSuggestion).where(ClaimSuggestion.document_id == self.doc.id)).scalars()
            claims = {
                f"c{c.id}": (
                    part(c.quantity_id),
                    (g[c.quantity_id].value, g[c.quantity_id].unit, g[c.quantity_id].qualifier),
                    part(c.entity_id),
                    part(c.property_id),
                    None,
                    part(c.condition_id),
                    None,
                    None,
                    tuple(sorted(c.modifiers)),
                )
                for c in cl
            }
        return {"relations": relations, "claims": claims}


def expected(refs: dict) -> dict:
    spans = {(*refs[r.name], r.via) for r in SPANS}
    relations = {(refs[h], label, refs[c]) for h, label, c in RELATIONS}
    claims = {claim_tuple(c, refs) for c in CLAIMS}
    return {"spans": spans, "relations": relations, "claims": claims}


def claim_tuple(c: RefClaim, refs: dict) -> tuple:
    return (
        refs[c.quantity],
        (float(c.value), c.unit, c.qualifier),
        refs[c.entity],
        refs[c.property],
        None,
        refs[c.condition] if c.condition else None,
        refs[c.time] if c.time else None,
        None,
        (),
    )


# the claim form's fields in Tab order, as claim tuples hold them
FORM_FIELDS = [
    ("cf-value", lambda t: t[1][0]),
    ("cf-unit", lambda t: t[1][1]),
    ("cf-qualifier", lambda t: t[1][2]),
    ("cf-entity_id", lambda t: t[2]),
    ("cf-property_id", lambda t: t[3]),
    ("cf-property-text", lambda t: t[4]),
    ("cf-condition_id", lambda t: t[5]),
    ("cf-time_id", lambda t: t[6]),
    ("cf-source_id", lambda t: t[7]),
]


def form_estimate(shown: tuple, want: tuple) -> int:
    """Keys the claim form needs after it opens showing `shown`: Tab to the last field that
    differs, a key at least for each, Enter (the run counts what it really takes)."""
    differ = [i for i, (_, part) in enumerate(FORM_FIELDS) if part(shown) != part(want)]
    return (max(differ) + len(differ) if differ else 0) + 1


# --- the page -----------------------------------------------------------------------------------

STATE = """() => {
  const text = document.getElementById('doc-text');
  const pick = (x) => x && { key: x.key, kind: x.kind, label: x.label, start: x.start, end: x.end };
  const sel = WSOffsets.selectionOffsets(text);
  const rows = document.querySelectorAll('#ws-claims [data-suggested], #ws-relations [data-suggested]');
  const links = [...rows].map((row) => {
    const parts = JSON.parse(row.dataset.parts);
    return { key: row.dataset.suggested, kind: row.dataset.suggested[0], label: row.dataset.label,
             start: parts[0][0], end: parts[0][1] };
  }).sort((a, b) => a.start - b.start || b.end - a.end || a.kind.localeCompare(b.kind));
  let top = 0;
  for (const b of text.children) if (b.getBoundingClientRect().bottom > 0) { top = +b.dataset.start; break; }
  return {
    items: WSKeys.items().map(pick), cur: pick(WSKeys.current()), sel: sel && { start: sel.start, end: sel.end },
    links, blocks: [...text.children].map((b) => +b.dataset.start), first_visible: top,
    palette: [...document.querySelectorAll('.pal[data-hotkey]')].map((p) => (
      { label: p.dataset.label, hotkey: p.dataset.hotkey, clash: p.classList.contains('clash') })),
    pending: +(document.querySelector('[data-testid="pending-total"]')?.textContent.replace(/\\D/g, '') || 0),
  };
}"""

CONTROLS = """() => [...document.querySelectorAll(
    '#claim-form input:not([type=hidden]), #claim-form select, #claim-form button')]
  .filter((el) => !el.disabled && el.tabIndex >= 0)
  .map((el) => ({ id: el.id || `${el.name}=${el.value}`,
    kind: el.tagName === 'SELECT' ? 'select' : el.type === 'checkbox' ? 'checkbox'
      : el.tagName === 'BUTTON' ? 'button' : 'text',
    value: el.value, checked: el.checked,
    options: el.tagName === 'SELECT' ? [...el.options].map((o) => ({ value: o.value, text: o.text })) : null }))"""

# Every pointer event the tab receives, kept in sessionStorage so a reload cannot lose one
# (none is expected: keyboard only).
POINTER_PROBE = """(() => {
  const note = (type) => {
    const seen = JSON.parse(sessionStorage.getItem('__pointer') || '[]');
    seen.push(type + ' ' + location.pathname);
    sessionStorage.setItem('__pointer', JSON.stringify(seen));
  };
  const types = ['pointerdown', 'mousedown', 'mouseup', 'dblclick', 'auxclick', 'contextmenu', 'wheel', 'touchstart'];
  for (const type of types)
    window.addEventListener(type, (e) => { if (e.isTrusted) note(type); }, true);
  window.addEventListener('click', (e) => { if (e.isTrusted && e.detail > 0) note('click'); }, true);
})()"""

SETTLED = "() => window.WSSave && WSSave.pending() === 0 && !document.querySelector('.htmx-request')"


class Driver:
    """Presses keys (and only keys), counting each chord, and waits where the page answers."""

    def __init__(self, page):
        self.page, self.pressed, self.dialogs = page, [], []
        page.on("dialog", self._dialog)

    @property
    def keys(self) -> int:
        return len(self.pressed)

    def _dialog(self, dialog):
        # a confirm() the page asks: Enter on its default button, one more key
        self.dialogs.append(dialog.message)
        self.pressed.append("Enter (confirm)")
        dialog.accept()

    def run(self, actions) -> None:
        for kind, value in actions:
            if kind == "key":
                self.page.keyboard.press(value)
                self.pressed.append(value)
            elif kind == "type":
                self.page.keyboard.type(value)
                self.pressed.append(value)
            elif kind == "wait":
                self.wait(value)

    def wait(self, what: str) -> None:
        selectors = {
            "claim-form": "document.activeElement && document.activeElement.id === 'cf-value'",
            "relation-form": "!!document.querySelector('#relation-form [data-choice]')",
        }
        test = selectors.get(what, SETTLED.removeprefix("() => "))
        self.page.wait_for_function(f"() => {test}", timeout=20000)

    def settle(self) -> None:
        self.page.wait_for_function(SETTLED, timeout=30000)
        self.page.evaluate("() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)))")
        self.page.wait_for_function(SETTLED, timeout=30000)

    def state(self) -> dict:
        return self.page.evaluate(STATE)


# --- planning and running each step ---------------------------------------------------------------


class Annotator:
    """Plans each step from the page's state, presses its keys and reads what was stored."""

    def __init__(self, project: dict, page, words: kp.Words, refs: dict, hotkeys: dict):
        self.store, self.page, self.words, self.refs = Store(project), page, words, refs
        self.text, self.labels, self.hotkeys = project["doc"].text, project["labels"], hotkeys
        self.driver = Driver(page)
        self.suggested = self.store.suggested()
        self.expect = expected(refs)

    def now(self) -> dict:
        """The page's state, with the label keys the plans may press."""
        return {**self.driver.state(), "hotkeys": self.hotkeys}

    # each planner returns the plan with the fewest keys, or raises Unplannable with the reason

    def span_plan(self, name: str) -> kp.Plan:
        start, end, label = self.refs[name]
        via = next(r.via for r in SPANS if r.name == name)
        state, hotkey = self.now(), self.hotkeys.get(label)
        unusable = Unplannable(f"label {label} has no hotkey the workspace can use: only the palette marks it", True)
        if via == "suggestion":
            candidates = [x for x in state["items"] if x["kind"] == "g" and (x["start"], x["end"]) == (start, end)]
            plans = []
            for g in candidates:
                path = kp.reach(state, g["key"])
                if path is None:
                    continue
                if g["label"] != label and hotkey is None:
                    raise unusable
                last = "a" if g["label"] == label else hotkey  # a label key accepts it with that label
                plans.append(kp.Plan(f"accept suggestion ({len(path)} moves)", kp.keys(*path, last)))
            if not plans:
                raise Unplannable(f"no pending suggestion at {self.text[start:end]!r} to accept")
        elif hotkey is None:
            raise unusable
        else:
            plans = kp.find_plans(state, self.text, self.words, start, end, hotkey)
            plans += kp.word_plans(state, self.words, start, end, hotkey)
            if not plans:
                raise Unplannable(f"neither find nor word steps select {self.text[start:end]!r}", True)
        return min(plans, key=lambda p: p.keys)

    def relation_plan(self, i: int) -> kp.Plan:
        head, label, child = RELATIONS[i]
        want = (self.refs[head], label, self.refs[child])
        state, plans = self.now(), []
        pending = {x["key"] for x in state["links"]}
        for key, parts in self.suggested["relations"].items():
            if parts == want and key in pending:
                path = kp.reach(state, key)
                if path is not None:
                    plans.append(kp.Plan("accept suggested relation", kp.keys(*path, "a")))
        h = kp.item_key(state, *self.refs[head], "s")
        c = kp.item_key(state, *self.refs[child], "s")
        if h and c:
            to_head = kp.reach(state, h)
            moved = dict(state, cur=next(x for x in state["items"] if x["key"] == h))
            to_child = kp.reach(moved, c, relation=True)
            if to_head is not None and to_child is not None:
                actions = kp.keys(*to_head, "R", *to_child, "Enter") + [("wait", "relation-form"), ("choice", label)]
                plans.append(kp.Plan("R, second span, Enter, relation number", actions))
        if not plans:
            raise Unplannable("neither a pending suggested relation nor both spans confirmed")
        return min(plans, key=lambda p: p.keys + sum(1 for k, _ in p.actions if k == "choice"))

    def claim_plan(self, i: int) -> kp.Plan:
        """Accept a suggested claim that is the reference's; or open the form from the quantity
        span, or on a suggested claim of the same quantity (C accepts it, the form corrects
        it). The form's edits are estimated from what it will show (the server's own presets)."""
        ref = CLAIMS[i]
        want = claim_tuple(ref, self.refs)
        state, plans = self.now(), []
        pending = {x["key"] for x in state["links"]}
        for key, parts in self.suggested["claims"].items():
            path = kp.reach(state, key) if key in pending else None
            if path is None or parts[0] != want[0]:
                continue
            if parts == want:
                plans.append((len(path) + 1, kp.Plan("accept suggested claim", kp.keys(*path, "a"))))
            else:
                form = kp.keys(*path, "C") + [("wait", "claim-form"), ("form", str(i))]
                plans.append((len(path) + 1 + form_estimate(parts, want), kp.Plan("correct a suggested claim", form)))
        q = kp.item_key(state, *self.refs[ref.quantity], "s")
        path = kp.reach(state, q) if q else None
        if path is not None:
            form = kp.keys(*path, "C") + [("wait", "claim-form"), ("form", str(i))]
            shown = self.store.form_presets(int(q[1:]))
            plans.append((len(path) + 1 + form_estimate(shown, want), kp.Plan("claim form from the quantity", form)))
        if not plans:
            raise Unplannable("neither a pending suggested claim nor the quantity confirmed")
        return min(plans, key=lambda p: p[0])[1]

    def form_actions(self, i: int) -> tuple[list, list[str]]:
        ref, ids = CLAIMS[i], self.store.layer_sets()["ids"]
        controls = self.page.evaluate(CONTROLS)
        sid = lambda name: str(ids[self.refs[name]]) if name else ""  # noqa: E731
        value = next(c["value"] for c in controls if c["id"] == "cf-value")
        try:
            same_value = float(value) == float(ref.value)
        except ValueError:
            same_value = False
        want = {
            "cf-value": value if same_value else f"{ref.value:g}",
            "cf-unit": ref.unit,
            "cf-qualifier": ref.qualifier or "",
            "cf-entity_id": sid(ref.entity),
            "cf-property_id": sid(ref.property),
            "cf-property-text": "",
            "cf-condition_id": sid(ref.condition),
            "cf-time_id": sid(ref.time),
            "cf-source_id": "",
        }
        want.update({c["id"]: False for c in controls if c["kind"] == "checkbox"})
        return kp.form_edits(controls, want)

    def run(self, plan: kp.Plan) -> dict:
        """Press the plan's keys; the seconds run from the first key to the last answer painted."""
        before, t0, extra = self.driver.keys, time.perf_counter(), {}
        for kind, value in plan.actions:
            if kind == "choice":
                choices = self.page.locator("#relation-form [data-choice]").all_inner_texts()
                digit = next(str(n) for n, t in enumerate(choices, 1) if t.split(maxsplit=1)[-1].strip() == value)
                self.driver.run(kp.keys(digit))
            elif kind == "form":
                actions, changed = self.form_actions(int(value))
                extra = {"form_keys": kp.Plan("", actions).keys, "fields_changed": changed}
                self.driver.run(actions)
            else:
                self.driver.run([(kind, value)])
        self.driver.settle()
        seconds = time.perf_counter() - t0
        pressed = self.driver.pressed[before:]
        return {"keys": len(pressed), "pressed": pressed, "seconds": round(seconds, 3), **extra}


class Unplannable(Exception):
    """No key path for a step: `mouse` when only the pointer could do it, else the step's
    parts are missing (the reference's order is wrong)."""

    def __init__(self, why: str, mouse: bool = False):
        super().__init__(why)
        self.mouse = mouse


def check(stored: dict, kind: str, want) -> str | None:
    """None if the layer holds `want`, else what it holds instead (for the report)."""
    if kind == "span":
        have = {s[:3] for s in stored["spans"]}
        return None if want[:3] in have else f"no span {want[:3]}"
    if kind == "relation":
        return None if want in stored["relations"] else "relation not stored"
    if want in stored["claims"]:
        return None
    on = [c for c in stored["claims"] if c[0] == want[0]]
    return f"claim stored as {on[0]}" if on else "no claim on the quantity"


# --- the run ------------------------------------------------------------------------------------


def do_step(sess: Annotator, kind: str, which) -> dict:
    refs = sess.refs
    if kind == "span":
        want = (*refs[which], next(r.via for r in SPANS if r.name == which))
        label = f"span {which} “{sess.text[refs[which][0] : refs[which][1]]}” {refs[which][2]}"
        if want[:3] in {s[:3] for s in sess.store.layer_sets()["spans"]}:
            return {"step": label, "kind": kind, "skipped": "stored already, with a suggested relation or claim"}
        planner = lambda: sess.span_plan(which)  # noqa: E731
    elif kind == "relation":
        h, lab, c = RELATIONS[which]
        want, label = (refs[h], lab, refs[c]), f"relation {h} {lab} {c}"
        planner = lambda: sess.relation_plan(which)  # noqa: E731
    else:
        ref = CLAIMS[which]
        want, label = claim_tuple(ref, refs), f"claim on {ref.quantity}"
        planner = lambda: sess.claim_plan(which)  # noqa: E731
    before = sess.store.layer_sets()
    try:
        plan = planner()
    except Unplannable as exc:
        out = {"step": label, "kind": kind, "keys": 0, "seconds": 0.0}
        return {**out, "keyboard": False, "why": str(exc)} if exc.mouse else {**out, "error": str(exc)}
    first = sess.driver.keys
    try:
        out = {"step": label, "kind": kind, "method": plan.method, **sess.run(plan)}
    except PlaywrightError as exc:  # the page did not answer as the plan expects: said, not hidden
        pressed = sess.driver.pressed[first:]
        out = {"step": label, "kind": kind, "method": plan.method, "keys": len(pressed), "pressed": pressed}
        out.update(seconds=0.0, error=str(exc).splitlines()[0])
    out["keyboard"] = True
    if kind == "claim" and plan.method.startswith("claim form") and "error" not in out:
        ref = CLAIMS[which]
        parts_were_spans = all(
            refs[n][:3] in {s[:3] for s in before["spans"]} for n in (ref.quantity, ref.entity, ref.property)
        )
        out["parts_were_spans"] = parts_were_spans
        out["plain_claim"] = ref.plain
        reach = plan.actions.index(("key", "C"))  # the moves before C, all single keys
        out["keys_to_reach_quantity"] = reach
        out["keys_from_quantity"] = out["keys"] - reach
    after = sess.store.layer_sets()
    out["stored_spans"] = len(after["spans"] - before["spans"])
    problem = check(after, kind, want)
    if problem:
        out["stored_wrong"] = problem
    return out


def finish(sess: Annotator) -> dict:
    """Reject what is left (suggested links one by one, then every span suggestion at once) and
    mark the document done."""
    t0, before, methods = time.perf_counter(), sess.driver.keys, []
    for _ in range(40):
        state = sess.now()
        if not state["links"]:
            break
        paths = [p for p in (kp.reach(state, x["key"]) for x in state["links"]) if p is not None]
        if not paths:
            break
        best = min(paths, key=len)
        sess.driver.run(kp.keys(*best, "x"))
        sess.driver.settle()
        methods.append("reject a suggested link")
    if sess.driver.state()["pending"]:
        asked = len(sess.driver.dialogs)
        sess.driver.run(kp.keys("X"))
        sess.driver.settle()
        methods.append("X: reject every pending suggestion" + (" (asked first)" if sess.driver.dialogs[asked:] else ""))
    asked = len(sess.driver.dialogs)
    sess.driver.run(kp.keys("D"))
    sess.driver.settle()
    if len(sess.driver.dialogs) > asked:
        methods.append("D asked first (something was still pending)")
    return {
        "step": "finish: reject the rest, mark done",
        "kind": "finish",
        "method": "; ".join(methods + ["D"]),
        "keys": sess.driver.keys - before,
        "pressed": sess.driver.pressed[before:],
        "seconds": round(time.perf_counter() - t0, 3),
        "keyboard": True,
        "dialogs": list(sess.driver.dialogs),
    }


def stats(steps: list[dict], kind: str) -> dict:
    done = [s for s in steps if s["kind"] == kind and "skipped" not in s and s.get("keyboard")]
    if not done:
        return {"n": 0}
    keys, secs = [s["keys"] for s in done], [s["seconds"] for s in done]
    return {
        "n": len(done),
        "keys_mean": round(statistics.mean(keys), 2),
        "keys_max": max(keys),
        "keys_total": sum(keys),
        "seconds_mean": round(statistics.mean(secs), 3),
        "seconds_max": round(max(secs), 3),
    }


def compare(stored: dict, want: dict) -> dict:
    out = {}
    for part in ("spans", "relations", "claims"):
        missing, extra = want[part] - stored[part], stored[part] - want[part]
        out[part] = {"missing": sorted(map(str, missing)), "unexpected": sorted(map(str, extra))}
    return out


def open_workspace(page, base: str, uid: str) -> None:
    """Log in by the form (filled and sent with Enter) and open the article: setup, not counted."""
    page.goto(f"{base}/login?next=/annotate/{uid}")
    page.fill("#login-name", NAME)
    page.fill("#login-password", PASSWORD)
    page.press("#login-password", "Enter")
    page.wait_for_function("() => window.WSKeys && window.WSSave && WSKeys.ready()")


def hotkeys_of(labels, palette: list[dict]) -> tuple[dict, list[str]]:
    """Label -> hotkey from the configuration, kept only where the page's palette has the same
    key and no workspace command takes it."""
    on_page = {p["label"]: p for p in palette}
    keys, problems = {}, []
    for label, entity in labels.entities.items():
        hk, shown = entity.get("hotkey"), on_page.get(label)
        if not hk:
            continue
        if not shown or shown["hotkey"] != hk:
            problems.append(f"{label}: hotkey {hk!r} in the configuration, {shown and shown['hotkey']!r} on the page")
        elif shown["clash"]:
            problems.append(f"{label}: hotkey {hk!r} is a workspace command")
        else:
            keys[label] = hk
    return keys, problems


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    started, machine = time.perf_counter(), machine_info()
    with tempfile.TemporaryDirectory(prefix="bench-keys-") as tmp:
        instance, db_path = Path(tmp) / "instance", Path(tmp) / "project.sqlite3"
        print("Importing the seeds (pre-highlighted) ...", flush=True)
        project = build(instance, db_path)
        doc, labels = project["doc"], project["labels"]
        refs = resolve(doc.text, labels)
        with gunicorn(db_path, instance) as port, sync_playwright() as pw:
            base = f"http://127.0.0.1:{port}"
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.add_init_script(POINTER_PROBE)
            open_workspace(page, base, doc.uid)
            tokens = page.request.get(f"{base}/annotate/{doc.uid}/tokens?lo=0&hi={len(doc.text)}").json()["tokens"]
            state = page.evaluate(STATE)
            hotkeys, hotkey_problems = hotkeys_of(labels, state["palette"])
            words = kp.Words(doc.text, [tuple(t) for t in tokens], state["blocks"])
            sess = Annotator(project, page, words, refs, hotkeys)
            steps = []
            for kind, which in STEPS:
                step = finish(sess) if kind == "finish" else do_step(sess, kind, which)
                steps.append(step)
                flag = "" if step.get("keyboard", True) else f"  NOT BY KEYBOARD: {step['why']}"
                failed = step.get("error") or step.get("stored_wrong")
                wrong = f"  FAILED: {failed}" if failed else ""
                print(
                    f"  {step['step'][:58]:58} {step.get('keys', 0):3} keys {step.get('seconds', 0):6.2f} s"
                    f"  {step.get('method', step.get('skipped', ''))}{flag}{wrong}",
                    flush=True,
                )
            pointer = page.evaluate("JSON.parse(sessionStorage.getItem('__pointer') || '[]')")
            browser.close()
        stored = Store(project).layer_sets()
        project["db"].dispose()
    return report(steps, stored, sess, pointer, hotkey_problems, machine, started, doc)


def report(steps, stored, sess, pointer, hotkey_problems, machine, started, doc) -> int:
    diff = compare(stored, sess.expect)
    differences = sum(len(v["missing"]) + len(v["unexpected"]) for v in diff.values())
    form_claims = [s for s in steps if s.get("parts_were_spans") and s.get("plain_claim")]
    from_quantity = max((s["keys_from_quantity"] for s in form_claims), default=None)
    other_form_claims = [
        {k: s[k] for k in ("step", "keys_from_quantity", "fields_changed")}
        for s in steps
        if s.get("parts_were_spans") and not s.get("plain_claim")
    ]
    not_keyboard = [s for s in steps if not s.get("keyboard", True)]
    wrong = [s for s in steps if s.get("stored_wrong") or s.get("error")]
    total_keys = sum(s.get("keys", 0) for s in steps)
    total_seconds = round(sum(s.get("seconds", 0) for s in steps), 3)
    figures = {
        "document": {"uid": doc.uid, "title": doc.title, "chars": len(doc.text)},
        "reference": {"spans": len(SPANS), "relations": len(RELATIONS), "claims": len(CLAIMS)},
        "per_span": stats(steps, "span"),
        "per_relation": stats(steps, "relation"),
        "per_claim": stats(steps, "claim"),
        "finish": next((s for s in steps if s["kind"] == "finish"), None),
        "total_keys": total_keys,
        "total_seconds": total_seconds,
        "claim_keys_from_quantity_max": from_quantity,
        "claims_with_more_parts_from_quantity": other_form_claims,
        "steps": steps,
        "steps_not_by_keyboard": [{"step": s["step"], "why": s["why"]} for s in not_keyboard],
        "steps_failed": [{"step": s["step"], "why": s.get("error") or s["stored_wrong"]} for s in wrong],
        "pointer_events": pointer,
        "hotkey_problems": hotkey_problems,
        "stored_equals_reference": differences == 0 and stored["status"] == "done",
        "layer_status": stored["status"],
        "differences": diff,
        "server": "annotator serve (gunicorn gthread, 1 worker, 1 thread), SQLite, 127.0.0.1",
        "browser": "Debian Chromium, headless, 1400x900, via Playwright",
    }
    targets = [
        Target(
            "keys for a claim whose quantity, entity and property are spans, from the quantity (max)",
            float(from_quantity if from_quantity is not None else 99),
            "<=",
            CLAIM_TARGET_KEYS,
            "keys",
        ),
        Target("steps that need the mouse", float(len(not_keyboard) + len(hotkey_problems)), "<=", 0, "steps"),
        Target("pointer events in the page", float(len(pointer)), "<=", 0, "events"),
        Target("steps that failed or stored the wrong thing", float(len(wrong)), "<=", 0, "steps"),
        Target(
            "differences between the stored layer and the reference",
            float(differences + (stored["status"] != "done")),
            "<=",
            0,
            "",
        ),
    ]
    notes = [
        "A key is one press of a chord (Shift+Enter, F then a label key is two); a confirm() the page asks "
        "is answered with Enter on its default button and counted as one key.",
        "Keys per step are the fewest the planner finds from the page's state before the step; steps run "
        "in the reference's order (STEPS), which an annotator would also choose differently.",
        "Seconds run from a step's first key to its last answer painted, keys pressed as fast as the page "
        "takes them: the interface's share of the time, not a person's.",
        "keys_from_quantity: from the quantity span current (C, form edits, Enter); keys_to_reach_quantity "
        "are the moves before it.",
    ]
    path = write_result("keystrokes", figures, targets, notes=notes, machine=machine, started=started)
    lines = [
        f"{doc.title}: {len(SPANS)} spans, {len(RELATIONS)} relations, {len(CLAIMS)} claims",
        *(
            f"{k:9} {v}"
            for k, v in (
                ("spans", figures["per_span"]),
                ("relations", figures["per_relation"]),
                ("claims", figures["per_claim"]),
            )
        ),
        f"total: {total_keys} keys, {total_seconds} s; "
        f"stored equals the reference: {figures['stored_equals_reference']}",
    ]
    if differences:
        lines.append(f"differences: {diff}")
    print_summary("Keystrokes for the Sophgo article", lines, targets, path)
    return exit_code(targets)


if __name__ == "__main__":
    sys.exit(main())

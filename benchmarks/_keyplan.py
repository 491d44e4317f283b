"""The fewest workspace keys for one step, worked out from what the page shows now.

A model of the workspace's keys (templates/workspace/_help.html), kept to what they do to
the current item and the text selection: moving (j k n, f F with a label key, s S), finding
("/", Enter, Shift+Enter, Esc), word steps (w b, Shift+→) over the server's tokens, and the
claim form's Tab order and select type-ahead. Every plan is a list of key presses (one chord
each: "Shift+Enter" is one press) with waits between them where the page must answer first.
The benchmark checks what each plan stored, so a model that drifted from the page shows up
as a failed step, never as a figure.
"""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass, field

# a plan is a list of these: ("key", chord), ("type", one character), ("wait", what)
Action = tuple[str, str]
FIND_ASCII = re.compile(r"^[ -~]+$")  # what a query may hold: typed as on any keyboard


@dataclass
class Plan:
    method: str
    actions: list[Action] = field(default_factory=list)

    @property
    def keys(self) -> int:
        return sum(1 for kind, _ in self.actions if kind in ("key", "type"))


def keys(*chords: str) -> list[Action]:
    return [("key", c) for c in chords]


# --- the current item: items (spans "s", suggestions "g") and suggested links ("c", "l") -------


def _order(a: dict, b: dict) -> int:
    """ws-keys.js's order: by start, longer first, a span before anything else at one place."""
    if a["start"] != b["start"]:
        return a["start"] - b["start"]
    if a["end"] != b["end"]:
        return b["end"] - a["end"]
    if a["kind"] == b["kind"]:
        return 0
    return -1 if a["kind"] == "s" else 1


def _position(state: dict):
    cur = state["cur"]
    if cur is None:
        return ("none", -1)
    if cur["kind"] in ("c", "l"):
        return ("link", next((i for i, x in enumerate(state["links"]) if x["key"] == cur["key"]), -1))
    return ("item", next((i for i, x in enumerate(state["items"]) if x["key"] == cur["key"]), -1))


def _here(state: dict, pos) -> dict | None:
    kind, i = pos
    if kind == "none" or i < 0:
        return None
    return state["links" if kind == "link" else "items"][i]


def _neighbour(state: dict, pos, step: int, test) -> int | None:
    """The index of the next (step 1) or previous item from pos passing test."""
    items, here = state["items"], _here(state, pos)
    if pos[0] == "item" and pos[1] >= 0:
        order = range(pos[1] + step, len(items) if step > 0 else -1, step)
    elif here is None:
        order = range(0, len(items)) if step > 0 else range(len(items) - 1, -1, -1)
    else:  # a link: the items on the far side of its place
        order = range(len(items)) if step > 0 else range(len(items) - 1, -1, -1)
        order = [i for i in order if step * _order(items[i], here) > 0]
    return next((i for i in order if test(items[i])), None)


def _next_link(state: dict, pos, step: int) -> int | None:
    links, here = state["links"], _here(state, pos)
    if not links:
        return None
    if pos[0] == "link" and pos[1] >= 0:
        i = pos[1] + step
        return i if 0 <= i < len(links) else None
    if here is None:
        return 0 if step > 0 else len(links) - 1
    ahead = [i for i, x in enumerate(links) if step * (x["start"] - here["start"]) >= 0]
    return (ahead[0] if step > 0 else ahead[-1]) if ahead else None


def _moves(state: dict, pos, relation: bool):
    """(chords, new position) for every move key from pos."""
    only = (lambda x: x["kind"] == "s") if relation else (lambda x: True)
    for chord, step in (("j", 1), ("k", -1)):
        i = _neighbour(state, pos, step, only)
        if i is not None:
            yield [chord], ("item", i)
    if relation:  # while a relation is built only confirmed spans can be picked
        return
    i = _neighbour(state, pos, 1, lambda x: x["kind"] == "g")
    if i is not None:
        yield ["n"], ("item", i)
    for label, hotkey in state["hotkeys"].items():
        for chord, step in (("f", 1), ("F", -1)):
            i = _neighbour(state, pos, step, lambda x, lab=label: x["kind"] == "g" and x["label"] == lab)
            if i is not None:
                yield [chord, hotkey], ("item", i)
    for chord, step in (("s", 1), ("S", -1)):
        i = _next_link(state, pos, step)
        if i is not None:
            yield [chord], ("link", i)


def reach(state: dict, key: str, relation: bool = False) -> list[str] | None:
    """The fewest chords that make the item or link `key` current (Dijkstra over the moves)."""
    start = _position(state)
    if _here(state, start) and _here(state, start)["key"] == key:
        return []
    seen, queue, tie = {start: 0}, [(0, 0, start, [])], 1
    while queue:
        cost, _, pos, path = heapq.heappop(queue)
        here = _here(state, pos)
        if here is not None and here["key"] == key:
            return path
        if cost > seen.get(pos, 1 << 30):
            continue
        for chords, nxt in _moves(state, pos, relation):
            c = cost + len(chords)
            if c < seen.get(nxt, 1 << 30):
                seen[nxt] = c
                heapq.heappush(queue, (c, tie, nxt, path + chords))
                tie += 1
    return None


def item_key(state: dict, start: int, end: int, label: str, kind: str) -> str | None:
    want = (start, end, label, kind)
    return next((x["key"] for x in state["items"] if (x["start"], x["end"], x["label"], x["kind"]) == want), None)


# --- selecting text: find, word steps ---------------------------------------------------------


def wordy(text: str, token) -> bool:
    return any(ch.isalnum() for ch in text[token[0] : token[1]])


class Words:
    """The word steps of ws-find.js over the document's tokens, block by block as the page
    loads them (the block of the offset and its two neighbours)."""

    def __init__(self, text: str, tokens: list[tuple[int, int]], blocks: list[int]):
        self.text, self.tokens, self.blocks = text, tokens, blocks

    def _block(self, offset: int) -> int:
        i = 0
        for k, s in enumerate(self.blocks):
            if s <= offset:
                i = k
        return i

    def around(self, offset: int) -> list[tuple[int, int]]:
        i = self._block(offset)
        lo = self.blocks[max(0, i - 1)]
        hi = self.blocks[i + 2] if i + 2 < len(self.blocks) else len(self.text) + 1
        return [t for t in self.tokens if lo <= t[0] < hi]

    def _clitic(self, tokens, k) -> bool:
        return k > 0 and tokens[k - 1][1] == tokens[k][0] and self.text[tokens[k][0]] in "'’"

    def word(self, offset: int, step: int):
        tokens = self.around(offset)
        order = range(len(tokens)) if step > 0 else range(len(tokens) - 1, -1, -1)
        for k in order:
            t = tokens[k]
            fits = t[0] >= offset if step > 0 else t[1] <= offset
            if fits and wordy(self.text, t) and not self._clitic(tokens, k):
                return t
        return None

    def extend(self, start: int, end: int):
        t = next((x for x in self.around(end) if x[1] > end and wordy(self.text, x)), None)
        return (start, t[1]) if t else None

    def grow_to(self, start: int, end: int, want_end: int) -> int | None:
        """Shift+→ presses from [start, end) to end at want_end (None: it cannot)."""
        n = 0
        while end < want_end:
            got = self.extend(start, end)
            if got is None:
                return None
            end, n = got[1], n + 1
        return n if end == want_end else None


def _from_offsets(state: dict) -> dict:
    sel, cur, top = state["sel"], state["cur"], state["first_visible"]
    return {
        "find": sel["end"] if sel else cur["start"] if cur else top,
        "w": sel["end"] if sel else cur["end"] if cur else top,
        "b": sel["start"] if sel else cur["start"] if cur else top,
    }


def find_plans(state: dict, text: str, words: Words, start: int, end: int, hotkey: str) -> list[Plan]:
    """ "/", a prefix of the target typed, Enter or Shift+Enter to its match, Esc, Shift+→ to
    its end when the prefix stops short of its last word, the label key. The server widens a
    selection over a word cut in the middle, so a prefix reaching into the last word is enough."""
    origin, plans = _from_offsets(state)["find"], []
    for n in range(1, end - start + 1):
        query = text[start : start + n].lower()
        if not FIND_ASCII.match(query) or query != query.strip():
            continue
        found = [m.start() for m in re.finditer(re.escape(query), text, re.IGNORECASE)]
        if start not in found:
            continue
        at = next((i for i, s in enumerate(found) if s >= origin), 0)
        target = found.index(start)
        ahead, back = (target - at) % len(found), (at - target) % len(found)
        steps = ["Enter"] * ahead if ahead <= back else ["Shift+Enter"] * back
        snapped = next(t for t in words.tokens if t[1] > start + n - 1)  # the word holding the last character
        grow = 0 if snapped[1] >= end else words.grow_to(start, start + n, end)
        if grow is None or snapped[1] > end:
            continue
        actions = keys("/") + [("type", ch) for ch in query] + keys(*steps, "Escape")
        actions += keys(*["Shift+ArrowRight"] * grow, hotkey)
        plans.append(Plan(f"find “{query}”", actions))
    return plans


def word_plans(state: dict, words: Words, start: int, end: int, hotkey: str) -> list[Plan]:
    """w (or b) until the target's first word is selected, Shift+→ to its end, the label key."""
    plans, origins = [], _from_offsets(state)
    for chord, step in (("w", 1), ("b", -1)):
        offset, n = origins[chord], 0
        while n < len(words.tokens):
            t = words.word(offset, step)
            if t is None:
                break
            n += 1
            if t[0] == start:
                grow = words.grow_to(t[0], t[1], end)
                if grow is not None:
                    plans.append(Plan(f"{chord} ×{n}", keys(*[chord] * n, *["Shift+ArrowRight"] * grow, hotkey)))
                break
            offset = t[1] if step > 0 else t[0]
    return plans


# --- the claim form ------------------------------------------------------------------------------


def type_ahead(options: list[str], selected: int, typed: str) -> int:
    """The option a closed select shows after `typed` (Chromium's type-ahead: one character,
    or the same one repeated, cycles through the options starting with it from the one after
    the selected; a longer prefix is looked for from the selected one on)."""
    labels = [o.lstrip().lower() for o in options]
    buffer = ""
    for ch in typed.lower():
        buffer += ch
        cycle = len(set(buffer)) == 1
        prefix = buffer[0] if cycle else buffer
        first = selected + 1 if cycle else selected
        for k in range(len(labels)):
            i = (first + k) % len(labels)
            if labels[i].startswith(prefix):
                selected = i
                break
    return selected


def choose(options: list[str], selected: int, target: int) -> list[Action]:
    """The fewest presses that move a closed select from `selected` to `target`: arrows, or
    typing the start of the target's text."""
    if selected == target:
        return []
    arrows = keys(*(["ArrowDown"] * (target - selected) if target > selected else ["ArrowUp"] * (selected - target)))
    text = options[target].lstrip()
    for n in range(1, min(len(text), len(arrows) - 1) + 1):
        typed = text[:n]
        if FIND_ASCII.match(typed) and type_ahead(options, selected, typed) == target:
            return [("type", ch) for ch in typed]
    return arrows


def form_edits(controls: list[dict], want: dict) -> tuple[list[Action], list[str]]:
    """Tab through the form from its first field, change what differs from `want`, Enter.

    controls: the form's focusable controls in Tab order as the page reads them (id, kind,
    value, options, checked); want: control id -> the value it must hold (for a checkbox,
    True or False). Returns the actions and the ids changed."""
    actions, changed, at = [], [], 0
    for i, c in enumerate(controls):
        if c["id"] not in want:
            continue
        goal, edit = want[c["id"]], []
        if c["kind"] == "select":
            values = [o["value"] for o in c["options"]]
            edit = choose([o["text"] for o in c["options"]], values.index(c["value"]), values.index(goal))
        elif c["kind"] == "checkbox":
            edit = keys("Space") if bool(c["checked"]) != bool(goal) else []
        elif c["value"] != goal:  # a text field: focus by Tab selects its text, typing replaces it
            edit = [("type", ch) for ch in goal] if goal else keys("Backspace")
        if edit:
            actions += keys(*["Tab"] * (i - at)) + edit
            at = i
            changed.append(c["id"])
    return actions + keys("Enter"), changed

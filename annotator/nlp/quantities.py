"""QUANTITY suggestions: a spaCy component ("claim_quantities") and normalise() for one string.

Design, and why:
- Regular expressions over doc.text, aligned to tokens afterwards. Number formats ("1,1",
  "3.2×10−5", "mg L−1", "€4.5bn") are split differently by every tokenizer (trained English,
  blank pt, xx, de), so token patterns would need one grammar per pipeline; character rules read
  all of them alike, and doc.char_span(..., alignment_mode="expand") snaps each hit to tokens.
- The grammar is anchored on numbers. One scan finds the digits (and number words); each is
  extended by anchored matches to the right (scale, unit, tolerance, range) and by matches on
  the reversed text to the left (currency, qualifier, "between"). Work grows with the count of
  numbers in a text, not with the ~270 units of the table, and every expression is compiled once
  per language (units.lexicon_for), never per document.
- Precision is deliberate: a wrong suggestion costs an annotator a rejection. Numbers glued to
  letters (H800, 14C, CO2, p53), labels (Fig. 3, Table 2, Site 1149, type 2), dates, years,
  clock times, phone numbers, links and citations are not suggested; a number word needs a unit
  or a counted noun ("three samples"), never alone ("one of them").
- Ranges give value (low end) and value_max; "4.2 ± 0.3 g" gives a
  tolerance; "from 25% to 73%" (a unit on each side) stays two quantities, being usually a
  change between two measurements, while "10 to 20 m" and "between 3 and 5 mm" are ranges.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from annotator.models import QUANTITY_FIELDS
from annotator.nlp.numbers import (
    NON_NUMBER_RE,
    NUM_RE,
    SIGNS,
    SPACED_NUM_RE,
    count_noun_after,
    glues,
    in_link,
    is_label_or_date,
    paren_tolerance,
    read_core,
    share_list_units,
    word_value,
)
from annotator.nlp.units import WINDOW, Lexicon, lexicon_for

_PAREN = re.compile(r"\(([0-9]{1,4})\)")
_RATIO = re.compile(r"(?::[0-9]+(?:[.,][0-9]+)?)+(?![\w:])")
_DIMENSION = re.compile(r"\s?[×xX✕*]\s?(?=[0-9])")
_TOLERANCE = re.compile(r"\s?(?:±|\+/-|\+/−|\+-)\s?")
_DE = re.compile(r"\s+(?:de|d')\s*")
_CURRENCY_SIGN = re.compile(r"(?:R\$|US\$|[$€£¥₹])\s?")
# Reversed text before a number: "n = ", "± ", "pH of "
_N_EQUALS_REV = re.compile(r"\s?=\s?[nN](?!\w)")
_PLUS_MINUS_REV = re.compile(r"\s?(?:±|-/\+|−/\+)")
_PH_REV = re.compile(r"\s*(?:=|fo|fo seulav|fo eulav|ed)?\s*Hp(?!\w)")


@dataclass
class Quantity:
    start: int
    end: int
    value: float
    unit: str | None = None
    qualifier: str | None = None
    value_max: float | None = None
    tolerance: float | None = None
    words: bool = False  # the number is written in words
    currency: bool = False  # the unit came from a currency sign before the number
    scaled: bool = False  # a scale word multiplied it (million, mil, bn)
    factor: float = 1.0
    unit_kind: str | None = None
    numbers: list[str] = field(default_factory=list)  # digit strings as written, for label checks
    num_start: int = 0
    num_end: int = 0

    def as_dict(self, start: int, end: int) -> dict:
        out = {"start": start, "end": end, "value": float(self.value), "unit": self.unit, "qualifier": self.qualifier}
        if self.value_max is not None:
            out["value_max"] = float(self.value_max)
        if self.tolerance is not None:
            out["tolerance"] = float(self.tolerance)
        return out


class Grammar:
    """Finds quantities in text for one language; build once, use for every document."""

    def __init__(self, lang: str):
        self.lex: Lexicon = lexicon_for(lang)

    def find(self, text: str, suggest: bool = True) -> list[Quantity]:
        blocked = [m.span() for m in NON_NUMBER_RE.finditer(text)]
        found, last_end = [], 0
        for kind, match in self._cores(text):
            if match.start() < last_end or any(s < match.end() and match.start() < e for s, e in blocked):
                continue
            q = self._read(text, match, kind)
            if q is None:
                continue
            last_end = q.end  # a rejected reading still owns its numbers ("2019–2020")
            if not in_link(text, q.num_start, q.num_end) and not (suggest and is_label_or_date(text, q, self.lex)):
                found.append(q)
        share_list_units(text, found)
        return found

    def _cores(self, text: str):
        digits = [("digits", m) for m in (SPACED_NUM_RE if self.lex.space_groups else NUM_RE).finditer(text)]
        words = [("words", m) for m in self.lex.word_re.finditer(text)]
        return sorted(digits + words, key=lambda item: item[1].start()) if words else digits

    # -- one quantity ------------------------------------------------------------------------
    def _read(self, text: str, match: re.Match, kind: str) -> Quantity | None:
        if kind == "words":
            value, pos = word_value(self.lex, match)
            start, numbers = match.start(), []
        else:
            core = read_core(text, match, self.lex.decimal_comma)
            if core is None:
                return None
            start, pos, value, numbers = core.start, core.end, core.value, [core.digits]
        if value is None or not _left_ok(text, start):
            return None
        q = Quantity(start, pos, value, words=kind == "words", numbers=numbers, num_start=start, num_end=pos)
        if kind == "words" and match.group("fold"):
            q.unit, q.unit_kind = "×", "ratio"  # "fivefold"
        left = self._left(text, start, q)
        pos = self._right(text, pos, q, left)
        if pos is None or not _right_ok(text, pos, q):
            return None
        q.end = pos
        if q.unit == "arcmin" and text[q.num_end : q.num_end + 1] == "′" and q.value in (1, 2, 3, 4, 5):
            return None  # 5′-UTR, 3′ end: nucleotide positions, not arcminutes
        if (
            q.qualifier in ("more_than", "less_than")
            and left.get("over_under")
            and (q.unit_kind == "time" or count_noun_after(text, pos, self.lex) in self.lex.duration_nouns)
        ):
            q.qualifier, q.start = None, left["unqualified_start"]  # "over 40 days", "over three seasons": during
        return q

    def _left(self, text: str, start: int, q: Quantity) -> dict:
        """Currency, qualifier and range opener written before the number (sets q.start)."""
        left: dict = {}
        rev = text[max(0, start - WINDOW) : start][::-1]
        m = self.lex.prefix_rev.match(rev)
        if m:
            q.unit, q.currency = self.lex.prefixes[m.group("cur")[::-1]], True
            start, rev = start - m.end(), rev[m.end() :]
        left["unqualified_start"] = start
        if (m := self.lex.qualifier_rev.match(rev)) is not None:
            form = " ".join(m.group("q")[::-1].lower().split())
            q.qualifier = self.lex.qualifier_of.get(form)
            left["over_under"] = form in ("over", "under")
            start -= m.end()
        elif (m := _N_EQUALS_REV.match(rev) or _PLUS_MINUS_REV.match(rev)) is not None:
            if "=" not in m.group(0):
                q.tolerance = abs(q.value)  # "±60 years"
            start -= m.end()
        elif _PH_REV.match(rev):
            q.unit = "pH"
        elif (m := self.lex.opener_rev.match(rev)) is not None:
            left["opener_start"] = start - m.end()
        q.start = start
        return left

    def _right(self, text: str, pos: int, q: Quantity, left: dict) -> int | None:
        m = _PAREN.match(text, pos)
        if m and q.numbers and q.numbers[0]:
            q.tolerance, pos = paren_tolerance(q.numbers[0], m.group(1)), m.end()  # "10.234(2) Å"
        m = _RATIO.match(text, pos) if q.numbers and not q.unit else None
        if m:
            parts = [q.value] + [float(p.replace(",", ".")) for p in m.group(0).split(":")[1:]]
            if parts[1] == 0:
                return None
            q.value, q.unit = parts[0] / parts[1], "ratio"
            return m.end()
        while (m := _DIMENSION.match(text, pos)) and (side := NUM_RE.match(text, m.end())):
            pos = side.end()  # "20 × 20 m": one quantity, valued by its first side
        pos = self._scale(text, pos, q)
        pos = self._unit(text, pos, q)
        m = _TOLERANCE.match(text, pos)
        if m and q.tolerance is None and (tol := self._number_at(text, m.end())) is not None:
            q.tolerance = abs(tol.value)
            return self._unit(text, tol.end, q)
        return self._range(text, pos, q, left)

    def _number_at(self, text: str, pos: int):
        pos += 1 if text[pos : pos + 1] in SIGNS else 0
        m = NUM_RE.match(text, pos)
        return read_core(text, m, self.lex.decimal_comma) if m else None

    def _scale(self, text: str, pos: int, q: Quantity) -> int:
        m = (
            (q.currency and self.lex.currency_scale_re.match(text, pos))
            or self.lex.scale_re.match(text, pos)
            or self.lex.attached_scale_re.match(text, pos)
        )
        if not m:
            return pos
        form = m.group("scale")
        q.factor = (
            self.lex.scale_factor.get(" ".join(form.lower().split()))
            or self.lex.currency_scale.get(form)
            or self.lex.attached_scale[form]
        )
        q.value *= q.factor
        q.scaled = True
        de = _DE.match(text, m.end())  # "2 bilhões de reais"
        return de.end() if de and self.lex.read_unit(text, de.end()) else m.end()

    def _unit(self, text: str, pos: int, q: Quantity) -> int:
        """Read a unit at pos; attach it unless q already has a different one."""
        reading = self.lex.read_unit(text, pos)
        if reading is None:
            return pos
        canon, end = reading
        if q.unit in (None, "pH"):
            q.unit, q.unit_kind = canon, self.lex.kinds.get(canon)
        elif q.unit != canon:
            return pos  # "$5 per share": keep the currency, leave the rest
        return end

    def _range(self, text: str, pos: int, q: Quantity, left: dict) -> int:
        joiner = self.lex.opener_joiner_re.match(text, pos) if "opener_start" in left else None
        opened = joiner is not None
        joiner = joiner or self.lex.range_dash_re.match(text, pos)
        if joiner is None and (q.unit is None or q.currency):  # "10 to 20 m"; not "25% to 73%"
            joiner = self.lex.range_word_re.match(text, pos)
        end = self._second_end(text, joiner.end(), q) if joiner else None
        if end is None:
            return pos
        if opened:
            q.start = left["opener_start"]
        return end

    def _second_end(self, text: str, pos: int, q: Quantity) -> int | None:
        """Read the high end of a range into q (value, value_max, shared unit and scale)."""
        sign = _CURRENCY_SIGN.match(text, pos) if q.currency else None
        pos = sign.end() if sign else pos
        if q.words:
            m = self.lex.word_re.match(text, pos)
            value, end = word_value(self.lex, m) if m else (None, pos)
        else:
            core = self._number_at(text, pos)
            value, end = (core.value, core.end) if core else (None, pos)
        if value is None:
            return None
        high = Quantity(q.start, end, value, currency=q.currency)
        end = self._unit(text, self._scale(text, end, high), high)
        if high.unit is not None and q.unit not in (None, high.unit) and not q.currency:
            return None  # "500 Hz and 2 kHz" would need a conversion: no range value
        if not q.words:
            q.numbers.append(core.digits)
        if high.scaled and not q.scaled:
            q.value *= high.factor  # "$1–2 billion"
        if q.unit is None and high.unit is not None:
            q.unit, q.unit_kind = high.unit, high.unit_kind
        q.value, q.value_max = sorted((q.value, high.value))
        return end


def _left_ok(text: str, start: int) -> bool:
    """A number glued to what precedes it is part of a name or a code: H800, x2, /2, (CN)6, v1.2."""
    if start == 0:
        return True
    prev = text[start - 1]
    before = text[start - 2] if start >= 2 else " "
    if glues(prev) or prev in "_@#/\\^&)]":
        return False
    if prev in ".'’-‐–\u2212+(" and glues(before):
        return False  # v1.2, Fig.3, COVID-19, F(1, 23)
    return not (prev in ",:" and before.isdigit())


def _right_ok(text: str, end: int, q: Quantity) -> bool:
    """The reading must end at a word boundary: 14C, 5G, 1st, 24/7, 2-methyl, 24-well are no quantities."""
    if end >= len(text):
        return True
    nxt, after = text[end], text[end + 1 : end + 2]
    if glues(nxt) or nxt == "_" or (nxt in "/:.," and after.isdigit()) or (nxt in "×✕" and q.unit is None):
        return False  # 14C, 5G, 1st, 24/7, 63×/1.4
    if nxt in "-‐" and (after.isalpha() or after in "([") and q.unit is None:
        return False  # chemical locants and modifiers: 2-methyl, 4-(dimethylamino), 24-well
    return nxt not in "'’′"  # 1990's, 5′-UTR, 3'-end, 5'10"


_GRAMMARS: dict[str, Grammar] = {}


def normalise(text: str, lang: str = "en") -> dict | None:
    """Value, unit and qualifier of one quantity string (the longest reading in it), or None.
    normalise("até 1,1 TB/s", "pt") -> {"value": 1.1, "unit": "TB/s", "qualifier": "up_to"}"""
    grammar = _GRAMMARS.get(lang) or _GRAMMARS.setdefault(lang, Grammar(lang))
    found = grammar.find(text or "", suggest=False)
    if not found:
        return None
    best = max(found, key=lambda q: q.end - q.start)
    out = best.as_dict(best.start, best.end)
    del out["start"], out["end"]
    return out


def parsed_quantity(text: str, lang: str | None) -> dict:
    """QUANTITY_FIELDS of one quantity's text as the normaliser reads it in `lang`."""
    return dict(_parsed(text, lang or "en"))


@lru_cache(maxsize=8192)
def _parsed(text: str, lang: str) -> tuple:
    # a corpus repeats its quantities ("25", "50 %", "10 GB") and parsing one costs ~30 us;
    # a tuple of pairs, so no caller can change what the next one gets
    parsed = normalise(text, lang) or {}
    return tuple((k, parsed.get(k)) for k in QUANTITY_FIELDS)

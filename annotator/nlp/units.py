"""The unit table (annotator/data/units.json, read by unit_table.py) compiled into one
Lexicon per language.

The table is data so that the claim form validates units against the same list; this
module turns it into regular expressions once per language (cached), never per document.
Two choices keep matching cheap: unit forms are split into one expression per first
character (a position is tried against ~40 forms, not ~1,500), and words that stand
*before* a number (qualifiers, currency signs, "Fig.", months) are matched on the reversed
text just before it, so each check is a single anchored attempt instead of a search.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache, lru_cache

from annotator.nlp.numbers import GLUE
from annotator.unit_table import load_table, qualifier_codes

# A unit may carry a power: m2, m^2, m², s−1, L-1 (not "m-10" or "m-1.5", which start a range).
EXPONENT = r"(?:\^?[-\u2212\u2013]?[1-4](?![0-9]|[.,][0-9])|⁻?[¹²³⁴])"
_SUPER = str.maketrans("-1234", "⁻¹²³⁴")
_PLAIN = str.maketrans("⁻¹²³⁴\u2212\u2013", "-1234--")
WINDOW = 48  # characters before a number that can hold its qualifier, currency or label
ATTACHABLE = {
    "m",
    "g",
    "L",
    "l",
    "V",
    "W",
    "h",
    "K",
    "Å",
}  # "5m", "300K"; other letters glued to digits name things (5G, 3D, 14C)
_GAP = re.compile(r"-(?=[^\W\d_])|[ \t\u00a0\u2009\u202f]{0,2}")  # "5 m", "5m", "three-month", "16-h"
_SLASH = re.compile(r"\s?/\s?")
_PER = re.compile(r"\s+(?i:per|por)\s+")
_FACTOR = re.compile(r"[ ·⋅]")  # "mg L−1": a spaced factor must carry a power
# GLUE read case-sensitively even inside (?i:...): folding the case of its script ranges
# costs the compiler ~1 ms per copy, and a form list holds dozens (0.18 -> 0.05 s a
# language); whether a letter glues does not depend on its case
BOUNDARY = rf"(?-i:(?!{GLUE}))"


@lru_cache(maxsize=8)
def qualifier_words(lang: str = "en") -> dict[str, str]:
    """How each qualifier is said: its first form in `lang` (else its first form in any)."""
    table = load_table()["qualifiers"]
    return {name: _pick(table[name]["forms"], lang)[0] for name in qualifier_codes()}


def canonical_units() -> dict[str, str]:
    """Canonical unit -> kind, for a form that validates a unit typed by a person."""
    return {canon: entry["kind"] for canon, entry in load_table()["units"].items()}


def form_key(form: str) -> str:
    """Lookup key of a written form: micro and ohm signs folded, whitespace collapsed."""
    return " ".join(form.replace("µ", "μ").replace("\u2126", "Ω").split())


def _pattern(form: str, words: bool, reverse: bool = False) -> str:
    parts = form.split()
    if reverse:
        parts = [p[::-1] for p in reversed(parts)]
    return (r"\s+" if words else r"\s").join(re.escape(p).replace("μ", "[μµ]") for p in parts)


def _alternation(forms, words: bool, reverse: bool = False, bounded: bool = False) -> str:
    """Longest first, so "no more than" wins over "more than"; bounded adds a word boundary
    on the side away from the number to forms that start with a letter.

    The boundary follows each run of such forms, once, rather than each form: a|b then the
    boundary is tried just as a-then-boundary, b-then-boundary (the boundary failing after a
    backtracks into b), and its character class, ~1 ms to compile each time it is written,
    is compiled once a run (English: 55 qualifier forms, 62 ms down to a few)."""
    runs: list[tuple[bool, list[str]]] = []
    for f in sorted(set(forms), key=len, reverse=True):
        tail = bounded and f[:1].isalnum()
        if not runs or runs[-1][0] != tail:
            runs.append((tail, []))
        runs[-1][1].append(_pattern(f, words, reverse))
    out = [f"(?:{'|'.join(patterns)}){BOUNDARY}" if tail else "|".join(patterns) for tail, patterns in runs]
    return "|".join(out) or "(?!)"


def _pick(forms: dict, lang: str) -> list[str]:
    """Forms for lang (English where the table has none for it) plus language-neutral ones."""
    own = forms.get(lang) if lang in forms else forms.get("en", [])
    return list(own or []) + list(forms.get("any", []))


def _case(words: bool) -> str:
    return "?i:" if words else "?:"


@dataclass(frozen=True)
class UnitAtom:
    canonical: str
    power: int
    symbol: bool  # written as a symbol (case-sensitive), not as a word


class Lexicon:
    """Everything the grammar needs for one language, compiled once."""

    def __init__(self, lang: str):
        table = load_table()
        ctx = table["context"]
        self.lang = lang
        self.decimal_comma = lang in ctx["decimal_comma_languages"]
        self.space_groups = lang in ctx.get("space_group_languages", ())
        self._build_units(table["units"], lang)
        self._build_scales(table["scales"], lang)
        self._build_qualifiers(table["qualifiers"], lang)
        self._build_words(table["number_words"], lang)
        self._build_context(ctx, table["ranges"], lang)

    # -- units -----------------------------------------------------------------------------
    def _build_units(self, units: dict, lang: str) -> None:
        self.symbols, self.names, self.attached_only, self.prefixes, self.kinds = {}, {}, set(), {}, {}
        for canon, entry in units.items():
            self.kinds[canon] = entry["kind"]
            for form in entry.get("symbols", []) + entry.get("attached_symbols", []):
                self.symbols.setdefault(form_key(form), canon)
            self.attached_only.update(form_key(f) for f in entry.get("attached_symbols", []))
            for form in _pick(entry.get("names", {}), lang):
                self.names.setdefault(form_key(form).lower(), canon)
            for form in entry.get("prefix_symbols", []):
                self.prefixes.setdefault(form_key(form), canon)
        plain, powered = defaultdict(list), defaultdict(list)
        for form in self.symbols:
            for ch in {form[0], form[0].replace("μ", "µ")}:
                plain[ch].append((form, _pattern(form, False)))
                powered[ch].append((form, _pattern(form, False)))
        for form in self.names:
            for ch in {form[0].lower(), form[0].upper()}:
                plain[ch].append((form, rf"(?i:{_pattern(form, True)})"))
        self._units = ByFirstCharacter(plain, rf"(?P<exp>{EXPONENT})?(?!{GLUE})")
        self._powered = ByFirstCharacter(powered, rf"(?P<exp>{EXPONENT})(?!{GLUE})")
        self.prefix_rev = re.compile(rf"\s?(?P<cur>{_alternation(self.prefixes, False, True, True)})")

    def match_unit(self, text: str, pos: int, powered: bool = False) -> re.Match | None:
        """A unit form at pos (with a power if powered); the longest one that ends at a boundary."""
        pattern = (self._powered if powered else self._units).get(text[pos : pos + 1])
        return pattern.match(text, pos) if pattern else None

    def unit_atom(self, match: re.Match) -> UnitAtom | None:
        """Canonical unit and power of a match_unit match (None for a word with a power)."""
        key = form_key(match.group("sym"))
        exp = match.group("exp")
        if key in self.symbols:
            power = int(exp.translate(_PLAIN).lstrip("^")) if exp else 1
            return UnitAtom(self.symbols[key], power, True)
        canon = self.names.get(key.lower())
        return UnitAtom(canon, 1, False) if canon and not exp else None

    def read_unit(self, text: str, pos: int) -> tuple[str, int] | None:
        """Canonical unit written at pos and where it ends, with its compound continuation
        (mg/L, m s−1, terabytes per second)."""
        gap = _GAP.match(text, pos).group(0)
        m = self.match_unit(text, pos + len(gap))
        atom = self.unit_atom(m) if m else None
        if atom is None or not self._fits(text, m, gap):
            return None
        atoms, end = [atom], m.end()
        while len(atoms) < 5 and (part := self._compound_part(text, end)) is not None:
            atoms.append(part[0])
            end = part[1]
        return (atom.canonical if len(atoms) == 1 and atom.power == 1 else compose(atoms)), end

    def _compound_part(self, text: str, end: int) -> tuple[UnitAtom, int] | None:
        for sep, powered, invert in ((_SLASH, False, True), (_PER, False, True), (_FACTOR, True, False)):
            s = sep.match(text, end)
            m = self.match_unit(text, s.end(), powered) if s else None
            atom = self.unit_atom(m) if m else None
            if atom is not None and atom.canonical not in ("%", "×"):
                return (UnitAtom(atom.canonical, -atom.power, atom.symbol) if invert else atom), m.end()
        return None

    def _fits(self, text: str, m: re.Match, gap: str) -> bool:
        """Whether a unit form may stand where it was found: glued, spaced or hyphenated."""
        key = m.group("sym").strip()
        if key in self.attached_only:  # "38×", but not the variable in "0.42x + 1.3"
            return gap == "" and not re.match(r"\s*[-+=−*/^]", text[m.end() : m.end() + 3])
        if len(key) == 1 and key.isalpha():
            if gap == "" and key not in ATTACHABLE:
                return False
            if key.isupper() and (gap == "-" and key != "L" or re.match(r"[-–][^\W\d_]", text[m.end() : m.end() + 2])):
                return False  # "10-K filing", "19 U–Th ages", "2 T-cells"
        return True

    # -- scales, qualifiers, number words ------------------------------------------------------
    def _build_scales(self, scales: dict, lang: str) -> None:
        self.scale_factor, self.currency_scale, self.attached_scale = {}, {}, {}
        for name, entry in scales.items():
            if name.startswith("_"):
                continue
            for form in _pick(entry["forms"], lang):
                self.scale_factor.setdefault(form_key(form).lower(), entry["factor"])
            for form in entry.get("after_currency", []):
                self.currency_scale.setdefault(form, entry["factor"])
            for form in entry.get("attached", []):
                self.attached_scale.setdefault(form, entry["factor"])
        self.scale_re = re.compile(rf"\s?(?P<scale>(?i:{_alternation(self.scale_factor, True)}))(?!{GLUE})")
        self.currency_scale_re = re.compile(rf"\s?(?P<scale>{_alternation(self.currency_scale, False)})(?!{GLUE})")
        self.attached_scale_re = re.compile(rf"(?P<scale>{_alternation(self.attached_scale, False)})(?!{GLUE})")

    def _build_qualifiers(self, qualifiers: dict, lang: str) -> None:
        self.qualifier_of = {}
        for name, entry in qualifiers.items():
            if not name.startswith("_"):
                for form in _pick(entry["forms"], lang):
                    self.qualifier_of.setdefault(form_key(form).lower(), name)
        words = [f for f in self.qualifier_of if f[:1].isalnum()]
        signs = [f for f in self.qualifier_of if not f[:1].isalnum()]
        self.qualifier_rev = re.compile(
            rf"\s*(?P<q>(?i:{_alternation(words, True, True, True)})|{_alternation(signs, False, True)})"
        )

    def _build_words(self, number_words: dict, lang: str) -> None:
        words = number_words.get(lang) or number_words["en"]
        self.word_units = {k.lower(): v for k, v in words["units"].items()}
        self.word_multipliers = {k.lower(): v for k, v in words["multipliers"].items()}
        self.word_joiners = set(words["joiners"])
        self.word_fractions = {k.lower(): v for k, v in words.get("fractions", {}).items()}
        self.single_only_with_unit = set(words["single_only_with_unit"])
        one = _alternation(list(self.word_units) + list(self.word_multipliers), True)
        joiners = "|".join(re.escape(j) for j in self.word_joiners)
        fraction = _alternation(self.word_fractions, True)
        self.word_re = re.compile(
            rf"(?<!\w)(?i:(?P<words>(?:{one})(?:[\s-]+(?:(?:{joiners})\s+)?(?:{one}))*)"
            rf"(?:[\s-](?P<fraction>{fraction})|(?P<fold>fold))?)(?!\w)"
        )

    # -- words around numbers --------------------------------------------------------------------
    def _build_context(self, ctx: dict, ranges: dict, lang: str) -> None:
        # "Fig. 3 and |4", "Figs. 3, 4 and |5": a comma continues a list only after a plural head,
        # so "Experiment 2, |48 students" still counts students.
        heads = _pick(ctx["reference_heads"], lang)
        plural = _alternation([h for h in heads if h.endswith("s") or h in ("pp", "§§")], True, True)
        item = r"\s*[a-z]?[0-9]+(?:\.[0-9]+)*[A-Z]?"
        pair = rf"(?:\s*(?:&|–|-|(?i:dna|ro|ot|e|y|te|dnu)){item})*(?:\s*\()?\s*\.?"
        listed = rf"(?:\s*(?:,|&|–|-|(?i:dna|ro|ot|e|y|te|dnu)){item})*(?:\s*\()?\s*\.?"
        self.head_rev = re.compile(rf"(?:{pair}(?i:{_alternation(heads, True, True)})|{listed}(?i:{plural}))(?!\w)")
        months = _pick(ctx["months"], lang)
        case = _case(lang in ctx["months"] and lang not in ("en", "de"))
        self.month_rev = re.compile(rf"\s+(?:ed\s+)?,?\.?({case}{_alternation(months, True, True)})(?!\w)")
        more_days = r"(?:\s*(?:,|&|–|-|(?i:and|e|y|et|und))\s*[0-9]{1,2})*"  # "on 3 and 4 May"
        self.month_after_re = re.compile(rf"{more_days}\s*(?:(?:de|of)\s+)?({case}{_alternation(months, True)})(?!\w)")
        self.year_prepositions = {w.lower() for w in _pick(ctx["year_prepositions"], lang)}
        self.count_stopwords = {w.lower() for w in _pick(ctx["count_stopwords"], lang)}
        self.irregular_plurals = {w.lower() for w in _pick(ctx["irregular_plurals"], lang)}
        self.duration_nouns = {w.lower() for w in _pick(ctx["duration_nouns"], lang)}
        self.clock_words = {w.lower() for w in _pick(ctx["clock_words"], lang)}
        joiners = _pick(ranges["joiners"], lang)
        self.range_dash_re = re.compile(rf"\s?(?:{_alternation([j for j in joiners if not j.isalpha()], False)})\s?")
        self.range_word_re = re.compile(rf"\s+(?i:{_alternation([j for j in joiners if j.isalpha()], True)})\s+")
        openers = ranges["openers"].get(lang) or ranges["openers"]["en"]
        self.opener_rev = re.compile(rf"\s+(?P<opener>(?i:{_alternation(openers, True, True)}))(?!\w)")
        self.opener_joiner_re = re.compile(rf"\s+(?i:{_alternation(set(openers.values()), True)})\s+")


class ByFirstCharacter:
    """The unit pattern for the forms starting with a character, compiled when first asked
    for: a text meets a few dozen of the ~70 first characters, and compiling them all took
    most of a lexicon's build (some tenths of a second in every process that reads units)."""

    def __init__(self, alts: dict[str, list[tuple[str, str]]], tail: str):
        self._alts, self._tail, self._compiled = alts, tail, {}

    def get(self, ch: str) -> re.Pattern | None:
        pattern = self._compiled.get(ch)
        if pattern is None and ch in self._alts:
            pattern = self._compiled[ch] = _by_length(self._alts[ch], self._tail)
        return pattern


def _by_length(alts: list[tuple[str, str]], tail: str) -> re.Pattern:
    ordered = sorted(set(alts), key=lambda a: len(a[0]), reverse=True)
    return re.compile(rf"(?P<sym>{'|'.join(p for _, p in ordered)}){tail}")


@cache
def lexicon_for(lang: str) -> Lexicon:
    """The compiled lexicon for a spaCy language code (cached: one build per language)."""
    return Lexicon(lang or "en")


def compose(atoms: list[UnitAtom]) -> str:
    """Canonical string of a compound unit: mg, L⁻¹ -> 'mg/L'; μmol, m⁻², s⁻¹ -> 'μmol/(m²·s)'."""

    def power(atom: UnitAtom, sign: int) -> str:
        p = atom.power * sign
        return atom.canonical + (str(p).translate(_SUPER) if p != 1 else "")

    num = [power(a, 1) for a in atoms if a.power > 0]
    den = [power(a, -1) for a in atoms if a.power < 0]
    if not den:
        return "·".join(num)
    if not num:
        return "·".join(power(a, 1) for a in atoms)
    return "·".join(num) + "/" + (den[0] if len(den) == 1 else "(" + "·".join(den) + ")")

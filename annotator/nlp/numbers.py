"""Number parsing for the quantity layer: digit strings, scientific notation, the digit
strings that are not numbers (dates, clock times, phone numbers, links), and the words
around a number that make it a label, a date or a year rather than a quantity.

Everything works on raw text with expressions compiled once, because number formats
("3.2×10−5", "1,1", "10 000") tokenise differently in every spaCy language. Each expression
starts with a digit or a literal, which lets the regex engine skip the rest of the text fast.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from annotator.nlp.scripts import UNSPACED  # a number or unit touching their letters is not glued into a name

SIGNS = "-+\u2212\u2013"  # hyphen-minus, plus, minus sign, en dash (PDF text often has the dash)
NEGATIVE = "-\u2212\u2013"
_GROUP_SPACES = "\u00a0\u2009\u202f"  # no-break, thin and narrow no-break spaces group thousands
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺\u2212\u2013", "0123456789-+--")

GLUE = rf"[^\W{UNSPACED}]"  # a word character that would glue a number or unit into a name: H800, 5G
_UNSPACED_RE = re.compile(f"[{UNSPACED}]")


def glues(ch: str) -> bool:
    """Whether a character next to a number makes it part of a word or code."""
    return ch.isalnum() and not _UNSPACED_RE.match(ch)


NUM = rf"[0-9]+(?:[.,{_GROUP_SPACES}][0-9]+)*"
NUM_RE = re.compile(NUM)
# Where a plain space groups thousands too ("10 000", "3 000,5"): groups of exactly three.
SPACED_NUM_RE = re.compile(rf"(?<![0-9])[0-9]{{1,3}}(?: [0-9]{{3}})+(?:[.,][0-9]+)?(?![0-9])|{NUM}")
_SEPARATOR = re.compile(rf"[.,{_GROUP_SPACES} ]")
_SUP = "[⁰¹²³⁴⁵⁶⁷⁸⁹]"
# "× 10^5", "×10−5", "× 10⁵" or, where a PDF lost the superscript, "× 105" (one or two digits
# not starting with 0, so "3 × 100 mL" stays a product).
_TIMES_TEN = re.compile(
    rf"\s?[×xX✕⋅·*]\s?10(?P<exp>(?:\^|\*\*)\s?[-+\u2212\u2013]?[0-9]{{1,3}}|[-\u2212\u2013][0-9]{{1,2}}|[⁻⁺]?{_SUP}+|[1-9][0-9]?)(?![0-9])"
)
_E_NOTATION = re.compile(r"[eE](?P<exp>[-+\u2212]?[0-9]{1,3})(?![\w])")
# After a bare "10" only unmistakable powers count: 10^6, 10⁶, 10−3 (a minus sign, not a dash).
_POWER = re.compile(rf"(?P<exp>(?:\^|\*\*)\s?[-+\u2212]?[0-9]{{1,3}}|\u2212[0-9]{{1,2}}|[⁻⁺]?{_SUP}+)(?![0-9])")


@dataclass
class Core:
    start: int  # sign included
    end: int
    value: float
    digits: str  # the plain digit string ("" for scientific notation), for label checks


def read_core(text: str, m: re.Match, decimal_comma: bool) -> Core | None:
    """The number at a NUM_RE match: sign before it, scientific notation after it."""
    start, end, digits = m.start(), m.end(), m.group(0)
    value = parse_number(digits, decimal_comma)
    tail = _TIMES_TEN.match(text, end) or (_E_NOTATION.match(text, end) if digits.replace(".", "").isdigit() else None)
    if tail is None and digits == "10":
        tail = _POWER.match(text, end)
        value = 1.0 if tail else value
    if tail is not None:
        exponent = _exponent(tail.group("exp"))
        value = None if value is None or exponent is None else _finite(f"{value!r}e{exponent}")
        end, digits = tail.end(), ""
    if value is None:
        return None
    if digits.isdigit() and start and text[start - 1] == "." and (start < 2 or not text[start - 2].isalnum()):
        start -= 1  # ".001" as in "p < .001"
        value = _finite("0." + digits)
    if start and text[start - 1] in SIGNS and (start < 2 or not text[start - 2].isalnum()):
        start -= 1
        value = -value if text[start] in NEGATIVE else value
    return Core(start, end, value, digits)


def parse_number(text: str, decimal_comma: bool) -> float | None:
    """'1,234.5' -> 1234.5; '10.000' -> 10000 with decimal_comma else 10.0; '1,1' -> 1.1 either
    way (a thousands group has exactly three digits). None for digit strings no convention
    reads ('2.1.3', '1,2,3'): section numbers, versions or lists, not one number."""
    groups = _SEPARATOR.split(text)
    seps = _SEPARATOR.findall(text)
    if not seps:
        return _finite(text)
    marks = [s for s in seps if s in ".,"]
    last = seps[-1]
    if len(set(marks)) == 2:  # both marks: the last one is the decimal mark and occurs once
        decimal = last in ".," and marks.count(last) == 1
        if not decimal:
            return None
    elif len(marks) == 1 and last in ".,":
        decimal = not _could_be_thousands(groups) or (last == ",") == decimal_comma
    else:  # the same mark repeated, or only grouping spaces: all thousands separators
        decimal = False
    return _join(groups, decimal)


def _could_be_thousands(groups: list[str]) -> bool:
    head, tail = groups[-2], groups[-1]
    return len(tail) == 3 and (len(groups) > 2 or (len(head) <= 3 and head != "0"))


def _join(groups: list[str], decimal: bool) -> float | None:
    whole = groups[:-1] if decimal else groups
    if len(whole) > 1 and (len(whole[0]) > 3 or any(len(g) != 3 for g in whole[1:])):
        return None  # not a valid thousands grouping
    return _finite("".join(whole) + ("." + groups[-1] if decimal else ""))


def _finite(digits: str) -> float | None:
    try:
        value = float(digits)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _exponent(text: str) -> int | None:
    try:
        return int(text.translate(_SUPERSCRIPTS).lstrip("^*").strip())
    except ValueError:
        return None


def paren_tolerance(digits: str, paren: str) -> float | None:
    """'10.234(2)' gives ±0.002: the parenthesised digits count in the last decimal places."""
    decimals = len(digits.rsplit(".", 1)[1]) if "." in digits else 0
    value = _finite(paren)
    return None if value is None else value * 10.0**-decimals


def word_value(lex, match: re.Match) -> tuple[float, int]:
    """Value of a run of number words (a lex.word_re match) and where it ends, cut where the
    run stops making one number ("three and four" is 3, then another number)."""
    total, current, last, end = 0, 0, None, match.start()
    for part in re.finditer(r"[^\s-]+", match.group("words")):
        word = part.group(0).lower()
        if word in lex.word_joiners:
            continue
        if word in lex.word_units:
            value = lex.word_units[word]
            if last is not None and value >= _place(last):
                break
            current, last = current + value, value
        elif word in lex.word_multipliers:
            factor = lex.word_multipliers[word]
            current, last = (current or 1) * factor, factor
            if factor >= 1000:
                total, current = total + current, 0
        end = match.start() + part.end()
    value = float(total + current)
    if (match.group("fold") or match.group("fraction")) and end == match.end("words"):
        end = match.end()
        if match.group("fraction"):
            value /= lex.word_fractions[match.group("fraction").lower()]  # "two-thirds"
    return value, end


def _place(value: int) -> int:
    """Smallest power of ten dividing value's leading digit place: 100 -> 100, 20 -> 10, 5 -> 1."""
    place = 1
    while value % (place * 10) == 0 and value >= place * 10:
        place *= 10
    return place


# --- digit strings that are not numbers -------------------------------------------------
# Each starts with a digit (boundary checked after it: "[0-9](?<![\w.][0-9])") or a literal.
_B = r"(?<![\w.][0-9])"
_NON_NUMBERS = [
    rf"[0-9]{_B}[0-9]{{3}}-[0-9]{{1,2}}-[0-9]{{1,2}}(?:T[0-9:.]+Z?)?(?!\w)",  # ISO dates
    rf"[0-9]{_B}[0-9]?([/.-])[0-9]{{1,2}}\1(?:[0-9]{{4}}|[0-9]{{2}})(?![\w])",  # 28/01/2025, 1.2.2020
    rf"[0-9]{_B}[0-9]?/[0-9]{{4}}(?!\w)",  # 01/2025
    rf"[0-9]{_B}(?:(?<=[01])[0-9]|(?<=2)[0-3])?:[0-5][0-9]:[0-5][0-9](?!\w)",  # 10:30:00, not 70:15:15
    rf"[0-9]{_B}[0-9]?(?::[0-9]{{2}})?\s?(?:[ap]\.\s?m\.|[AaPp][Mm](?!\w)|o['’]clock)",  # 3 pm, 10:30 a.m.
    rf"[0-9]{_B}[0-9]?:[0-9]{{2}}\s?(?:h(?!\w)|hrs(?!\w)|UTC|GMT|CES?T|[EP][SD]T|BST|local time)",
    rf"0{_B}[0-9]:[0-9]{{2}}(?!\w)",  # 09:00 (ratios have no leading zero)
    rf"[0-9]{_B}[0-9]?h[0-9]{{2}}(?!\w)",  # 15h30
    rf"[0-9]{_B}[0-9]{{2}}[-.][0-9]{{3,4}}[-.][0-9]{{4}}(?!\w)",  # 555-123-4567
    rf"[0-9]{_B}[0-9]{{2}}-[0-9]{{1,5}}-[0-9]{{1,7}}-[0-9]{{1,7}}-[0-9Xx](?!\w)",  # ISBN-13
    r"\+[0-9]{1,3}(?:[\s.-]?\(?[0-9]{1,5}\)?){2,}",  # +44 20 7946 0958
    r"\([0-9]{2,4}\)\s?[0-9]{3,5}[\s.-]?[0-9]{4}(?!\w)",  # (11) 99999-9999
    r"\[\s*[0-9]+(?:\s*[-–,;]\s*[0-9]+)*\s*\]",  # citations [12], [3–5]
    r"\(\s*[0-9]{1,3}(?:\s*[,;]\s*[0-9]{1,3})+\s*\)",  # citations (1, 2)
    rf"[0-9]{_B}[0-9]*(?:[.,][0-9]+)?\s?[°º]\s?(?:[0-9]+(?:[.,][0-9]+)?\s?['′’]\s?)?"
    r"(?:[0-9]+(?:[.,][0-9]+)?\s?(?:[\"″”]|'')\s?)?[NSEWO](?![^\W\d_])",  # 47°48′N, 45.12° N
    rf"[0-9]{_B}[0-9]*\s?[°º]\s?[0-9]+(?:[.,][0-9]+)?\s?['′’]\s?[0-9]+(?:[.,][0-9]+)?\s?[\"″”]",  # 05°23′28″
]
NON_NUMBER_RE = re.compile("|".join(f"(?:{p})" for p in _NON_NUMBERS))
_TLD = re.compile(r"\.(?:com|org|net|gov|edu|io|ly|co|br|uk|de|cn|pt|fr|jp|info|me)(?:/|$)", re.IGNORECASE)


def in_link(text: str, start: int, end: int) -> bool:
    """Whether the number sits in a URL, e-mail address, @handle, #tag or DOI: the whole
    whitespace-free run around it is looked at, so only numbers pay for this check."""
    left = start
    while left > 0 and not text[left - 1].isspace() and start - left < 200:
        left -= 1
    right = end
    while right < len(text) and not text[right].isspace() and right - end < 200:
        right += 1
    token = text[left:right].strip("()[]<>\"'“”‘’.,;:")
    return bool(token) and (
        "://" in token
        or token[0] in "@#"
        or "@" in token[1:]
        or token.lower().startswith(("www.", "doi:"))
        or (token.startswith("10.") and "/" in token)
        or _TLD.search(token) is not None
    )


# --- numbers that are labels, dates or years --------------------------------------------
# These read the words around a reading (q: a quantities.Quantity, lex: a units.Lexicon).
_NEXT_WORD = re.compile(r"\s*([^\W\d_][\w'’-]*|\S)")
_CONFIDENCE = re.compile(r"\s*(?:CI|CrI|PI|HPD|UI|confidence|credible|prediction|uncertainty interval)\b")
_LIST_GAP = re.compile(r",\s*(?:(?:and|or|e|ou|y|et|und)\s+)?|\s+(?:and|or|e|ou|y|et|und)\s+")
_CLOCK = re.compile(r"[0-9]{1,2}:[0-5][0-9]")
_SENTENCE_END = ".!?:;\n\r•"
_OPENING = " \t\"'“‘(["


def is_label_or_date(text: str, q, lex) -> bool:
    """True when a reading names, dates or times something (Fig. 3, Site 1149, 2019,
    January 20, at 10:30) instead of measuring or counting it."""
    if q.words:
        return not _word_number_counts(text, q, lex)
    if q.unit == "%" and _CONFIDENCE.match(text, q.end):
        return True  # "95% CI" names the interval
    if q.unit in ("ratio", "h") and _clock_time(text, q, lex):
        return True
    if q.unit is not None:
        return False
    before = text[max(0, q.start - 64) : q.start][::-1]
    numbers = [n for n in q.numbers if n]
    years = bool(numbers) and all(_year_like(n) for n in numbers)
    if years and not _counted_year(text, q, lex):
        return True
    if (q.value <= 31 or years) and (lex.month_rev.match(before) or lex.month_after_re.match(text, q.end)):
        return True
    if q.qualifier is not None or q.scaled:
        return False
    if (
        lex.head_rev.match(before)
        or text[q.num_start - 2 : q.num_start].endswith(":")
        and text[q.num_start - 2 : q.num_start - 1].isalpha()
    ):
        return True  # "Fig. 3", "EPSG:4326", "PMID:123"
    integers = bool(numbers) and all(n.isdigit() for n in numbers)
    single = integers and q.value_max is None
    coded = integers and q.value_max is not None and "-" in text[q.num_start : q.end]  # "JCPDS 36-1451"
    enclosed = q.start == q.num_start and text[q.start - 1 : q.start] + text[q.end : q.end + 1] == "()"
    if single and enclosed or (single or coded) and _after_name(text, q.start):
        return True
    return _heading_number(text, q)


def share_list_units(text: str, found: list) -> None:
    """'24, 48 and 72 h': bare numbers listed before a number with a unit share that unit."""
    for a, b in reversed(list(zip(found, found[1:]))):
        if (
            a.unit is None
            and b.unit not in (None, "ratio", "pH")
            and not a.words
            and not b.currency
            and _LIST_GAP.fullmatch(text, a.end, b.start)
        ):
            a.unit, a.unit_kind = b.unit, b.unit_kind


def word_before(text: str, pos: int) -> tuple[str, int]:
    """The word ending just before pos (skipping spaces, quotes, brackets) and its start."""
    end = pos
    while end > 0 and text[end - 1] in _OPENING:
        end -= 1
    start = end
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "'’.-") and end - start < 40:
        start -= 1
    return text[start:end], start


def _clock_time(text: str, q, lex) -> bool:
    """'at 10:30', 'between 9:00 and 17:00', pt 'às 15h': times of day, not ratios or durations."""
    word = word_before(text, q.start)[0].lower()
    if q.unit == "h":
        return word in ("às", "as", "das") and word in lex.clock_words
    return word in lex.clock_words and _CLOCK.fullmatch(text, q.num_start, q.end) is not None


def _year_like(digits: str) -> bool:
    return len(digits) == 4 and digits.isdigit() and 1000 <= int(digits) <= 2100


def _counted_year(text: str, q, lex) -> bool:
    """'2000 samples' counts; 'in 2019 samples were taken' dates."""
    if q.value_max is not None or not count_noun_after(text, q.end, lex):
        return False
    return word_before(text, q.start)[0].lower() not in lex.year_prepositions


def _word_number_counts(text: str, q, lex) -> bool:
    if q.unit is not None or q.scaled or q.value != int(q.value):  # a unit, a scale or a fraction ("two-thirds")
        return True
    if text[q.num_start : q.num_end].lower() in lex.single_only_with_unit:
        return False
    return bool(count_noun_after(text, q.end, lex))


def count_noun_after(text: str, pos: int, lex) -> str:
    """The plural noun within the next few words, before any function word, or '' ('three
    independent replicates', 'two GPUs'; not 'two of them')."""
    for _ in range(4):
        m = _NEXT_WORD.match(text, pos)
        if not m:
            return ""
        word, pos = m.group(1), m.end()
        low = word.lower()
        if not word[0].isalpha() or low in lex.count_stopwords:
            return ""
        if low in lex.irregular_plurals or (
            len(low) > 3 and low.endswith("s") and (word != low or not low.endswith(("ss", "us", "is")))
        ):
            return low
    return ""


def _after_name(text: str, start: int) -> bool:
    """'Site 1149', 'Leg 185', 'Windows 10': an integer right after a capitalised word inside a
    sentence (not at its start, where 'Using 12 samples' is normal) is part of a name."""
    word, word_start = word_before(text, start)
    if not word or not word[0].isupper() or not text[word_start + len(word) : start].isspace():
        return False
    head = text[:word_start].rstrip(_OPENING)
    return bool(head) and head[-1] not in _SENTENCE_END


def _heading_number(text: str, q) -> bool:
    """A number alone on its line (page numbers, counters), or numbering a list item or heading."""
    line_start = text.rfind("\n", 0, q.start) + 1
    if text[line_start : q.start].strip():
        return False
    line_end = text.find("\n", q.end)
    rest = text[q.end : len(text) if line_end < 0 else line_end].strip()
    if rest in ("", ".", ")", ":") or re.match(r"[.)]\s", text[q.end : q.end + 2]):
        return True
    return "." in (q.numbers or [""])[0] and bool(re.match(r"\s+[A-Z]", text[q.end : q.end + 3]))

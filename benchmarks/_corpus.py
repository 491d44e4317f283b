"""Benchmark corpora grown from the seed articles.

Every document is a variant of one seed: its paragraphs shuffled, some swapped for
paragraphs of another seed in the same language, and some numbers rewritten, so every
text (and so every document id) differs while the size and the language mix of the seeds
stay: document i is a variant of seed i % 5, and one seed in five is Portuguese.
Everything is derived from a fixed random seed, so two runs measure the same corpus.
"""

from __future__ import annotations

import random
import re
from functools import cache, lru_cache

from ._common import SEEDS_DIR

NUMBER = re.compile(r"\d+")
DIGIT = re.compile(r"\d")
PARAGRAPH_BREAK = "\n\n"
CAPITALISED = re.compile(r"\b[A-Z][A-Za-z0-9]+")
PORTUGUESE_SEED = "001_"  # the one Portuguese article (detection agrees: four en, one pt)


@lru_cache(maxsize=1)
def seeds() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(language, text, paragraphs) per seed file, in file order."""
    out = []
    for path in sorted(SEEDS_DIR.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        lang = "pt" if path.name.startswith(PORTUGUESE_SEED) else "en"
        out.append((lang, text, tuple(p.strip() for p in text.split("\n") if p.strip())))
    return tuple(out)


def _perturb_numbers(text: str, rng: random.Random) -> str:
    """Rewrite about half the numbers digit by digit, keeping their length (and so the
    shape of the text: "910C" stays a chip name, "25 percent" a percentage)."""

    def swap(match: re.Match) -> str:
        digits = match.group()
        if rng.random() < 0.5:
            return digits
        first = str(rng.randint(1, 9)) if digits[0] != "0" else "0"
        return first + "".join(str(rng.randint(0, 9)) for _ in digits[1:])

    return NUMBER.sub(swap, text)


def variant(index: int, salt: int = 0) -> tuple[str, str]:
    """(language, text) of document `index`: a shuffled, mixed, renumbered seed."""
    rng = random.Random(f"{index}:{salt}")
    pool = seeds()
    lang, base, paragraphs = pool[index % len(pool)]
    title, body = paragraphs[0], list(paragraphs[1:])
    rng.shuffle(body)
    same_language = [p for i, (lg, _, ps) in enumerate(pool) if lg == lang and i != index % len(pool) for p in ps[1:]]
    for _ in range(rng.randint(0, 3) if same_language else 0):  # mix in paragraphs of a sibling
        body[rng.randrange(len(body))] = rng.choice(same_language)
    # keep the seed's size: stop adding paragraphs once the base length is reached
    target = len(base) * rng.uniform(0.85, 1.15)
    kept, size = [title], len(title)
    for paragraph in body:
        if size >= target:
            break
        kept.append(paragraph)
        size += len(paragraph) + 2
    return lang, _perturb_numbers(PARAGRAPH_BREAK.join(kept), rng)


def corpus(n: int) -> list[tuple[str, str]]:
    """n (language, text) pairs with pairwise different texts."""
    seen: set[str] = set()
    out = []
    for index in range(n):
        salt = 0
        lang, text = variant(index)
        while text in seen:  # rare: a variant equal to an earlier one
            salt += 1
            lang, text = variant(index, salt)
        seen.add(text)
        out.append((lang, text))
    return out


def spacy_tokens(lang: str, text: str) -> list[tuple[int, int]]:
    """The token boundaries spaCy's tokenizer gives (whitespace left out, as stored), fast.

    Paragraphs are tokenized independently (they are separated by blank lines) and
    renumbering keeps each number's length, so each distinct paragraph, digits masked,
    is tokenized once and reused with shifted offsets; checked equal to tokenizing the
    whole text on hundreds of documents.
    """
    tokens, offset = [], 0
    for paragraph in text.split(PARAGRAPH_BREAK):
        tokens.extend(
            (start + offset, end + offset) for start, end in _paragraph_tokens(lang, DIGIT.sub("0", paragraph))
        )
        offset += len(paragraph) + len(PARAGRAPH_BREAK)
    return tokens


@cache
def _paragraph_tokens(lang: str, paragraph: str) -> tuple[tuple[int, int], ...]:
    return tuple((t.idx, t.idx + len(t.text)) for t in _tokenizer(lang)(paragraph) if not t.is_space)


@cache
def _tokenizer(lang: str):
    import spacy

    return spacy.blank(lang).tokenizer


def prodigy_spans(text: str, rng: random.Random) -> list[dict]:
    """Three pre-annotations in the shape Prodigy writes: a number as QUANTITY and two
    capitalised words as ORG and PRODUCT (offsets are code points)."""
    spans = []
    numbers = list(NUMBER.finditer(text))
    names = list(CAPITALISED.finditer(text))
    if numbers:
        m = rng.choice(numbers)
        spans.append({"start": m.start(), "end": m.end(), "label": "QUANTITY"})
    for label in ("ORG", "PRODUCT"):
        m = rng.choice(names)
        spans.append({"start": m.start(), "end": m.end(), "label": label})
    while len(spans) < 3:
        m = rng.choice(names)
        spans.append({"start": m.start(), "end": m.end(), "label": "GPE"})
    return spans

"""Packed tokens made in whole-array steps are exactly the pairs tokenize() gives, packed."""

import pytest

from annotator.nlp.tokenizer import tokenize, tokenize_packed
from annotator.tokens import pack, unpack

TEXTS = [
    ("en", "Huawei sold 10,000 Ascend 910C chips in 2025 — up 25%."),
    ("en", "Line one\r\nline two 👩‍🔬 emoji\r\n\r\n  spaced   out  "),
    ("pt", "A fabricante vendeu 10.000 unidades, disse à Reuters."),
    ("de", "Die Straße ist 3,5 km lang."),
    ("ru", "Компания продала 10 000 чипов."),
    ("ja", "会社は1万個のチップを販売した。"),
    ("th", "บริษัทขายชิปได้ 10,000 ชิ้น"),
    ("ar", "باعت الشركة 10000 شريحة."),
    ("xx", "mixed 中文 and हिन्दी text"),
    ("en", "   \n\t  "),
    ("en", ""),
]


@pytest.mark.parametrize(("lang", "text"), TEXTS)
def test_packed_tokens_are_the_pairs_packed(lang, text):
    packed = tokenize_packed(text, lang)
    assert packed == pack(tokenize(text, lang))
    for start, end in unpack(packed):
        assert 0 <= start < end <= len(text)
        assert text[start:end].strip(), "whitespace-only tokens are left out"

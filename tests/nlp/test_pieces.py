"""Long texts cut into pieces: where the cuts fall, and that the pieces are the text."""

from __future__ import annotations

import pytest

from annotator.nlp.pieces import cuts, pieces
from annotator.nlp.tokenizer import tokenize


def joined(text: str, limit: int) -> list[tuple[int, str]]:
    parts = pieces(text, limit)
    assert "".join(piece for _offset, piece in parts) == text
    for offset, piece in parts:
        assert len(piece) <= limit and text[offset : offset + len(piece)] == piece
    return parts


def test_a_text_that_fits_is_one_piece():
    assert cuts("short text", 100) == [0]
    assert pieces("", 100) == [(0, "")]


def test_paragraph_breaks_come_before_sentences_and_spaces():
    text = "First sentence here. Second one follows.\n\nA new paragraph starts. And goes on a while."
    parts = joined(text, 60)
    assert parts[1][1].startswith("A new paragraph")


def test_sentence_ends_come_before_spaces():
    text = "One sentence ends here. Then another sentence runs on and on and on"
    parts = joined(text, 40)
    assert parts[1][1].startswith("Then another")


def test_cjk_sentence_marks_cut_without_spaces():
    text = "今日は晴れです。明日は雨が降るでしょう。" * 3
    for _offset, piece in joined(text, 25)[:-1]:
        assert piece.endswith("。")


@pytest.mark.parametrize(
    "text",
    [
        "a" * 9 + "\r\n" + "b" * 9,  # a hard cut never parts CR from LF
        "x" * 9 + "e\u0301" + "y" * 9,  # nor a letter from its combining accent
        "z" * 9 + "👍🏽" + "w" * 9,  # nor an emoji from its skin tone
        "q" * 9 + "👩\u200d💻" + "r" * 9,  # nor the parts of a joined emoji
    ],
)
def test_a_hard_cut_keeps_what_belongs_together(text):
    for offset in cuts(text, 10)[1:]:
        before, after = text[offset - 1], text[offset]
        assert (before, after) != ("\r", "\n")
        assert after not in "\u0301\U0001f3fd\u200d💻" and before != "\u200d"
    joined(text, 10)


def test_cuts_never_fall_inside_a_token():
    text = ("Nvidia's H100 delivers up to 3.35 TB/s of bandwidth 🚀.\r\nHuawei's Ascend 910C, rivals it. " * 40).strip()
    whole = tokenize(text, "en")
    for limit in (50, 97, 500):
        parts = joined(text, limit)
        cut = [(s + offset, e + offset) for offset, piece in parts for s, e in tokenize(piece, "en")]
        assert cut == whole


def test_a_limit_too_small_is_refused():
    with pytest.raises(ValueError, match="at least 2"):
        cuts("abc", 1)

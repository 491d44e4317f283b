"""Scripts written without spaces between words (Thai, Lao, Myanmar, Khmer, kana, CJK
ideographs), as character ranges for a regex class: the tokenizer splits a number or unit
from their letters, and the number parser does not glue one into a name ("に256GBの").
Kept apart from `numbers` so the tokenizer loads without the number grammar."""

UNSPACED = (
    "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff\uff66-\uff9f"
)

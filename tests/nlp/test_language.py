"""Language identification: fastText where it is sure, py3langid where it is not."""

from __future__ import annotations

import pytest

from annotator.nlp.language import SURE, WINDOW, _model, detect_language

SENTENCES = {
    "de": "Die Bundesregierung hat am Dienstag beschlossen, die Steuern um drei Prozent zu senken.",
    "fr": "Le gouvernement a annoncé mardi une baisse des impôts de trois pour cent.",
    "es": "El gobierno anunció el martes una reducción de impuestos del tres por ciento.",
    "ja": "東京都は火曜日、新しい条例を発表した。人口は約1400万人である。",
    "zh": "北京是中华人民共和国的首都，人口超过两千万。今天天气很好，我们去公园散步吧。",
    "ru": "Правительство во вторник объявило о снижении налогов на три процента.",
    "ar": "أعلنت الحكومة يوم الثلاثاء عن خفض الضرائب بنسبة ثلاثة في المئة.",
    "hi": "सरकार ने मंगलवार को करों में तीन प्रतिशत की कटौती की घोषणा की।",
    "th": "รัฐบาลประกาศลดภาษีร้อยละสามเมื่อวันอังคาร",
    "ko": "정부는 화요일 세금을 3퍼센트 인하한다고 발표했다.",
    "el": "Η κυβέρνηση ανακοίνωσε την Τρίτη μείωση των φόρων κατά τρία τοις εκατό.",
    "he": "הממשלה הודיעה ביום שלישי על הפחתת מסים בשלושה אחוזים.",
    "tr": "Hükümet salı günü vergilerin yüzde üç oranında düşürüleceğini açıkladı.",
    "uk": "Уряд у вівторок оголосив про зниження податків на три відсотки.",
    "vi": "Chính phủ hôm thứ Ba đã công bố giảm thuế ba phần trăm.",
}


@pytest.mark.parametrize("lang", sorted(SENTENCES))
def test_one_sentence_in_each_script_gets_its_language(lang):
    assert detect_language(SENTENCES[lang]) == lang


def test_line_and_page_breaks_do_not_cut_the_sample_short():
    # fastText reads one line: a break must not leave it only the first few words
    lines = "Short title\n" + "\u2028".join([SENTENCES["de"]] * 3) + "\r\n\f" + SENTENCES["de"]
    assert detect_language(lines) == "de"


def test_a_long_text_is_read_from_its_start_middle_and_end():
    # a menu in English before a German body of many windows
    text = "Home | News | Sport | Contact us\n" + " ".join([SENTENCES["de"]] * (6 * WINDOW // len(SENTENCES["de"])))
    assert detect_language(text) == "de"


def test_nothing_to_go_on_is_undetermined():
    for text in ("", "   ", "12 345,6 %", "🚀🎉", "\n\r\n"):
        assert detect_language(text) == "xx"


def test_where_fasttext_is_unsure_py3langid_decides():
    text = "A fabricante chinesa vendeu 10.000 unidades do acelerador no último trimestre, segundo a empresa."
    _labels, scores = _model().predict(text, k=1)
    assert scores[0] < SURE  # the fast model hesitates between Spanish and Portuguese here ...
    assert detect_language(text) == "pt"  # ... and the second opinion reads it right

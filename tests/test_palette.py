"""The label palette (annotator/palette.py) checked with coloraide: every pair of tints told
apart with normal vision and simulated protanopia and deuteranopia (Machado 2009), text
readable on every tint, lines visible against white, and labels coloured by position."""

from __future__ import annotations

from itertools import combinations

import pytest
from coloraide import Color

from annotator.palette import INK, OTHER, PALETTE, label_swatches, swatch
from annotator.web.filters import label_css

MIN_DELTA_E = 10  # CIEDE2000 units between any two tints of one kind
VISIONS = ("normal", "protan", "deutan")


def seen(hex_colour: str, vision: str) -> Color:
    colour = Color(hex_colour)
    if vision != "normal":
        colour = colour.filter(vision, method="machado")  # full-strength dichromacy
    return colour.convert("lab-d65")


def delta_e(a: str, b: str, vision: str) -> float:
    return seen(a, vision).delta_e(seen(b, vision), method="2000")


@pytest.mark.parametrize("vision", VISIONS)
@pytest.mark.parametrize("kind", ["sugg", "fill"])
def test_every_pair_of_tints_differs_enough(kind, vision):
    close = [
        (i, j, round(delta_e(getattr(a, kind), getattr(b, kind), vision), 2))
        for (i, a), (j, b) in combinations(enumerate(PALETTE), 2)
        if delta_e(getattr(a, kind), getattr(b, kind), vision) < MIN_DELTA_E
    ]
    assert close == [], f"{kind} tints closer than {MIN_DELTA_E} under {vision} vision: {close}"


@pytest.mark.parametrize("vision", VISIONS)
def test_suggestion_tints_stand_out_from_the_page(vision):
    assert min(delta_e(s.sugg, "#ffffff", vision) for s in PALETTE) >= MIN_DELTA_E


def test_text_reads_on_every_tint_and_lines_show_on_white():
    for s in (*PALETTE, OTHER):
        for tint in (s.sugg, s.fill):
            assert Color(INK).contrast(tint, method="wcag21") >= 4.5, tint
        assert Color(s.line).contrast("#ffffff", method="wcag21") >= 3, s.line


def test_the_checker_itself_flags_near_identical_colours():
    # the ORG and ENTITY tints, two light blues: the check must fail such a pair
    assert delta_e("#cfdfff", "#cfe3fb", "normal") < MIN_DELTA_E
    assert delta_e(PALETTE[3].sugg, "#e6e07a", "deutan") < MIN_DELTA_E  # yellow vs a near yellow


def test_labels_take_entries_in_configuration_order_under_any_scheme():
    scheme = ["Quantity", "MeasuredEntity", "MeasuredProperty", "Qualifier"]
    assert label_swatches(scheme) == {name: PALETTE[i] for i, name in enumerate(scheme)}
    assert label_swatches(list(reversed(scheme)))["Qualifier"] == PALETTE[0]
    assert swatch(len(PALETTE)) == PALETTE[0]  # more labels than entries: the palette again


def test_labels_css_carries_the_palette(app):
    with app.app_context():
        css = str(label_css())
    assert ".lbl-0{--label-color:" in css and f"--label-sugg:{PALETTE[0].sugg}" in css
    assert f"--label-fill:{PALETTE[1].fill};--label-line:{PALETTE[1].line}" in css.splitlines()[1]
    assert f"--label-line:{OTHER.line}" in css.splitlines()[-1]

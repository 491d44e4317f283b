"""The label palette: the colours marks, chips and the label bar are drawn in.

Labels take the palette's entries in the label configuration's order, whatever the scheme
calls them, so two runs (and two projects with the same order) always colour alike. Each
entry has the light tint a suggestion is filled with, the stronger fill of a confirmed span
and a dark line for underlines and borders. The entries were chosen together so that every
pair of suggestion tints, and every pair of fills, differs by at least 10 CIEDE2000 units with normal vision and under
simulated protanopia and deuteranopia (Machado et al. 2009), the text colour reads at 4.5:1
or more on every tint and every line stands at 3:1 or more against white; the tests check it.
A scheme with more labels than entries starts the palette again: the inline label tag still
names each mark, so nothing is told by colour alone.
"""

from __future__ import annotations

from typing import NamedTuple

INK = "#1d1f23"  # the page's text colour (app.css --fg)


class Swatch(NamedTuple):
    sugg: str  # a pending suggestion's fill
    fill: str  # a confirmed span's fill
    line: str  # underlines, borders, a chip's edge


PALETTE: tuple[Swatch, ...] = (
    Swatch("#98bfff", "#7daeff", "#2b64c3"),  # blue
    Swatch("#9094ff", "#7f80ff", "#5a58c2"),  # violet
    Swatch("#90d281", "#73c660", "#3b7a2c"),  # green
    Swatch("#e2e357", "#d3d300", "#6d6e00"),  # yellow
    Swatch("#99d7c0", "#70ccae", "#0c7b60"),  # teal
    Swatch("#a8a900", "#989900", "#6d6e00"),  # olive
    Swatch("#e4e1fe", "#d3cdff", "#685e9e"),  # pale lavender
    Swatch("#93ffc7", "#60f4af", "#007d51"),  # mint
    Swatch("#98a1bb", "#8191be", "#5365a3"),  # slate
    Swatch("#90a995", "#739f7c", "#397949"),  # sage
)
# marks of a label the configuration no longer has
OTHER = Swatch("#d9dbe0", "#c4c8cf", "#5f636b")


def swatch(position: int) -> Swatch:
    """The entry for the label at `position` in the configuration (0-based)."""
    return PALETTE[position % len(PALETTE)]


def label_swatches(labels: list[str]) -> dict[str, Swatch]:
    """{label: swatch} in configuration order."""
    return {name: swatch(i) for i, name in enumerate(labels)}

"""axe-core (from the project's npm packages) run in the page under test, WCAG 2.1 A and AA.

The script is evaluated through the browser's debugging protocol rather than added as a
<script> tag, so the app's Content-Security-Policy stays on while it runs.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@cache
def axe_source() -> str:
    if not AXE.is_file():  # make setup runs npm ci; without it the check cannot run at all
        raise FileNotFoundError(f"{AXE} is missing: run `make setup` (npm ci installs axe-core)")
    return AXE.read_text(encoding="utf-8")


def violations(page: Page, tags: list[str] = WCAG_21_AA) -> list[dict]:
    """axe's violations on the page as it is now, each with its rule, impact and nodes."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source() + "\n;undefined")
    return page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations",
        tags,
    )


def report(found: list[dict]) -> str:
    lines = []
    for v in found:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:5]:
            lines.append(f"    {', '.join(node['target'])}: {node['failureSummary'].splitlines()[-1].strip()}")
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    found = violations(page)
    assert not found, "axe-core found WCAG 2.1 AA violations:\n" + report(found)

"""What the page tests share: Debian's chromium driven by Playwright, and axe-core's verdict.

    with chromium() as browser:            # a module's `browser` fixture
        ...
    assert box_of(page.get_by_test_id("latest-number"))["height"] >= 160
    assert serious_axe_problems(page) == []
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect
# Tests wait for what a page should come to show, never for how soon: under a full suite on 2 cores a
# page can take seconds to catch up, and a test that fails only then is a flake, not a finding.
expect.set_options(timeout=10_000)

CHROMIUM = "/usr/bin/chromium"          # Debian's; Playwright downloads no browser of its own
ARGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run")
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"        # axe-core 4.14.1, MPL-2.0


@contextlib.contextmanager
def chromium(*extra_args: str) -> Iterator:
    """A headless chromium whose pages find elements by their `data-test-id`."""
    with playwright_sync.sync_playwright() as p:
        p.selectors.set_test_id_attribute("data-test-id")
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[*ARGS, *extra_args])
        try:
            yield browser
        finally:
            browser.close()


def box_of(locator) -> dict:
    """The element's box and font size once it is visible, read in one step inside the page.

    Not `locator.bounding_box()` right after a navigation or a click: that gives None while the element is
    not laid out yet (or is being re-rendered), which made tests fail under load and pass alone."""
    expect(locator).to_be_visible()
    return locator.evaluate("""e => { const r = e.getBoundingClientRect();
        return {x: r.x, y: r.y, width: r.width, height: r.height,
                font_px: parseFloat(getComputedStyle(e).fontSize)}; }""")


def serious_axe_problems(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line each (empty: none)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run()")
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"] if v["impact"] in ("serious", "critical")]

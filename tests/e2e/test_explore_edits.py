"""Counterfactual edits and overlaid texts on Explore, in headless Chromium."""
from __future__ import annotations

import urllib.parse

import pytest

from tests.conftest import TINY_RUN_ID
from tests.e2e.conftest import LSTM_RUN_ID
from tests.e2e.test_explore import STATE_JS, choose_model, drawn, js

pytestmark = pytest.mark.e2e

SLOTS_JS = """() => {
  const g = document.querySelector('#trajectory-graph .js-plotly-plot');
  if (!g || !g.layout || !g.layout.meta || g.layout.meta.edited === undefined) { return null; }
  const m = g.layout.meta, len = i => (g.data[i] && g.data[i].x) ? g.data[i].x.length : 0;
  return {
    run_id: m.run_id, traj: len(m.trajectory), edited: len(m.edited), edited_legend: !!g.data[m.edited].showlegend,
    edited_shown: g.data[m.edited].visible !== false,  // hidden while empty: Plotly then skips it
    overlays: m.overlays.filter(i => g.data[i].showlegend && g.data[i].visible !== false).map(i => ({name: g.data[i].name, n: len(i),
                                                                      color: g.data[i].line.color})),
    xrange: g.layout.xaxis.range ? Array.from(g.layout.xaxis.range) : null,
    href: window.location.href,
    chips: Array.from(document.querySelectorAll('#overlay-list .overlay-name')).map(e => e.textContent),
  };
}"""


# Polled on a timer, not on animation frames: on a loaded machine software WebGL can hold frames back for long.
TIMEOUT_MS, POLL_MS = 40_000, 200


def slots(page) -> dict:
    return page.evaluate(SLOTS_JS)


def wait_slots(page, condition: str) -> dict:
    try:
        page.wait_for_function(f"() => {{ const s = ({SLOTS_JS})(); return !!(s && ({condition})); }}",
                               timeout=TIMEOUT_MS, polling=POLL_MS)
    except Exception as err:
        raise AssertionError(f"timed out waiting for `{condition}`; saw {slots(page)}") from err
    return slots(page)


def open_explore(page, query: str, n: int) -> None:
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(page.base_url + "/" + query)
    page.wait_for_function(f"() => {{ const s = ({STATE_JS})(); return !!({drawn(TINY_RUN_ID, n)}); }}",
                           timeout=TIMEOUT_MS, polling=POLL_MS)


def test_swapping_a_word_draws_both_paths_and_states_the_change(page, artifacts):
    words = "red green red the and".split()
    open_explore(page, "?" + urllib.parse.urlencode({"text": " ".join(words)}), n=len(words))
    page.locator("#token-strip .tok").nth(0).click()
    page.wait_for_selector("#edit-menu:not([hidden])")
    assert "“red”" in page.inner_text("#edit-label")
    page.click("#edit-swap")
    page.click(".dash-dropdown-option:has(input[value='green'])")
    page.wait_for_selector("#edit-result:not([hidden])")
    s = wait_slots(page, "s.edited === 5 && s.edited_legend && s.edited_shown && s.traj === 5")  # both paths whole
    summary = page.inner_text("#edit-summary")
    assert summary.startswith("Swapping “red” for “green”:") and "linear prediction says" in summary
    assert "relative error" in summary
    curves = page.evaluate("""() => { const g = document.querySelector('#edit-graph .js-plotly-plot');
                                      return g.data.map(t => [t.name, t.y.length]); }""")
    assert curves == [["real change", 5], ["linear prediction", 5]]
    page.screenshot(path=str(artifacts / "explore-edit.png"))
    # a new text: the edit no longer applies and disappears
    page.fill("#sentence-input", "green green")
    s = wait_slots(page, "s.edited === 0 && !s.edited_shown && s.traj === 2")
    assert page.locator("#edit-result").get_attribute("hidden") is not None


def test_dropping_and_negating_a_word(page):
    words = "red green red the and".split()
    open_explore(page, "?" + urllib.parse.urlencode({"text": " ".join(words)}), n=len(words))
    page.locator("#token-strip .tok").nth(2).click()
    page.click("#edit-drop")
    wait_slots(page, "s.edited === 4")
    assert page.inner_text("#edit-summary").startswith("Dropping “red”:")
    page.click("#edit-negate")
    wait_slots(page, "s.edited === 6")
    assert page.inner_text("#edit-summary").startswith("Inserting “not” before “red”:")


def test_overlays_add_and_remove_keep_url_and_zoom(page, artifacts):
    query = "?" + urllib.parse.urlencode([("text", "red green"), ("overlay", "green"), ("overlay", "red red")])
    open_explore(page, query, n=2)
    s = wait_slots(page, "s.overlays.length === 2")
    assert [o["n"] for o in s["overlays"]] == [1, 2] and s["overlays"][0]["color"] != s["overlays"][1]["color"]
    assert s["overlays"][0]["name"].startswith("green → ") and len(s["chips"]) == 2
    page.evaluate("""() => { const g = document.querySelector('#trajectory-graph .js-plotly-plot');
                              const r = g.layout.xaxis.range; return window.Plotly.relayout(g,
                              {'xaxis.range': [r[0] + 0.1 * (r[1] - r[0]), r[1] - 0.1 * (r[1] - r[0])]}); }""")
    zoomed = slots(page)["xrange"]
    page.fill("#overlay-input", "green red green")
    page.click("#overlay-add")
    s = wait_slots(page, "s.overlays.length === 3")
    assert s["overlays"][2]["n"] == 3 and s["xrange"] == zoomed  # the view did not move
    assert urllib.parse.parse_qs(urllib.parse.urlparse(s["href"]).query)["overlay"] == ["green", "red red",
                                                                                        "green red green"]
    page.screenshot(path=str(artifacts / "explore-overlays.png"))
    page.locator(".overlay-remove").nth(0).click()
    s = wait_slots(page, f"s.overlays.length === 2 && s.href.indexOf({js('overlay=green&')}) < 0")
    assert [o["n"] for o in s["overlays"]] == [2, 3] and s["xrange"] == zoomed
    assert urllib.parse.parse_qs(urllib.parse.urlparse(s["href"]).query)["overlay"] == ["red red", "green red green"]
    assert [c.split(" → ")[0] for c in s["chips"]] == ["red red", "green red green"]
    # the link brings the overlays back
    page.goto(s["href"])
    s = wait_slots(page, "s.overlays.length === 2")
    assert s["overlays"][0]["name"].startswith("red red → ") and TINY_RUN_ID in s["href"]
    # another model (three classes: the slots move) draws the same texts through its own network
    choose_model(page, LSTM_RUN_ID)
    s = wait_slots(page, f"s.run_id === {js(LSTM_RUN_ID)} && s.overlays.length === 2")
    assert [o["n"] for o in s["overlays"]] == [2, 3]

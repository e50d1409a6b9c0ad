"""Explore in a classroom (issue 17): fits a 1280x720 projector, the path on its own layer over the cloud,
play speed and jump-to-word, the zoom and camera of the overlay mirrored on the cloud."""
from __future__ import annotations

import urllib.parse

import pytest

from tests.conftest import TINY_RUN_ID
from tests.e2e.conftest import watched_page
from tests.e2e.test_explore import drawn, open_explore, state, wait_state

pytestmark = pytest.mark.e2e

TEXT = "red green red the and green green red the red"


@pytest.fixture
def projector(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        yield from watched_page(context, live_server)
    finally:
        context.close()


def _box(page, selector: str) -> dict:
    return page.eval_on_selector(selector, "e => { const r = e.getBoundingClientRect(); "
                                           "return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; }")


def test_the_working_view_fits_a_1280x720_projector(projector, artifacts):
    open_explore(projector, "?" + urllib.parse.urlencode({"text": TEXT}), n=10)
    for selector in ("#model-picker", "#sentence-input", "#play-button", "#token-slider", "#prediction-text",
                     "#token-strip .tok >> nth=0", "#trajectory-graph .main-svg"):
        box = _box(projector, selector)
        assert 0 <= box["top"] and box["bottom"] <= 720, f"{selector} is outside the 1280x720 view: {box}"
    assert projector.evaluate("document.documentElement.scrollWidth") <= 1280
    projector.screenshot(path=str(artifacts / "explore-1280x720.png"))


def test_the_cloud_is_its_own_layer_and_typing_redraws_only_the_path(page):
    open_explore(page, "?" + urllib.parse.urlencode({"text": "red green"}), n=2)
    page.evaluate("() => { window.__cloudData = document.querySelector('#cloud-graph .js-plotly-plot').data; }")
    page.fill("#sentence-input", TEXT)
    s = wait_state(page, drawn(TINY_RUN_ID, 10))
    assert s["cloud_points"] > 100  # the cloud is drawn, underneath
    overlay_points = page.evaluate("""() => document.querySelector('#trajectory-graph .js-plotly-plot')._fullData
        .slice(0, 2).reduce((n, t) => n + t.x.filter(v => v !== null && !Number.isNaN(v)).length, 0)""")
    assert overlay_points == 0  # the overlay holds the cloud's legend entries, not its points
    # Dash replotting the cloud would hand Plotly a new figure (a new data array); resizing keeps it
    assert page.evaluate("() => document.querySelector('#cloud-graph .js-plotly-plot').data === window.__cloudData"), \
        "typing replotted the cloud"


def test_zooming_the_overlay_zooms_the_cloud_with_it(page):
    open_explore(page, "?" + urllib.parse.urlencode({"text": TEXT}), n=10)
    page.evaluate("""() => Plotly.relayout(document.querySelector('#trajectory-graph .js-plotly-plot'),
                                           {'xaxis.range': [-0.5, 0.5], 'yaxis.range': [-0.25, 0.25]})""")
    page.wait_for_function("""() => { const c = document.querySelector('#cloud-graph .js-plotly-plot');
        const o = document.querySelector('#trajectory-graph .js-plotly-plot');
        const same = a => JSON.stringify(c._fullLayout[a].range) === JSON.stringify(o._fullLayout[a].range);
        return same('xaxis') && same('yaxis') && c._fullLayout.xaxis.range[1] - c._fullLayout.xaxis.range[0] < 2; }""")


def test_rotating_the_3d_overlay_turns_the_cloud_camera(page):
    open_explore(page, "?" + urllib.parse.urlencode({"text": TEXT, "view": "3d"}), n=10)
    page.evaluate("""() => Plotly.relayout(document.querySelector('#trajectory-graph .js-plotly-plot'),
                                           {'scene.camera': {eye: {x: 0.3, y: -1.9, z: 0.4}}})""")
    page.wait_for_function("""() => { const e = document.querySelector('#cloud-graph .js-plotly-plot')
        ._fullLayout.scene.camera.eye; return Math.abs(e.x - 0.3) < 1e-9 && Math.abs(e.y + 1.9) < 1e-9; }""")


def test_legend_clicks_on_a_cloud_class_hide_that_class_of_the_cloud(page):
    open_explore(page, "?" + urllib.parse.urlencode({"text": TEXT}), n=10)
    page.click("#trajectory-graph .legend .traces >> nth=0")
    page.wait_for_function("""() => document.querySelector('#cloud-graph .js-plotly-plot')._fullData[0].visible
                                    === 'legendonly'""")
    assert page.evaluate("() => document.querySelector('#cloud-graph .js-plotly-plot')._fullData[1].visible") is True
    page.click("#trajectory-graph .legend .traces >> nth=0")  # a second click shows it again
    page.wait_for_function("() => document.querySelector('#cloud-graph .js-plotly-plot')._fullData[0].visible === true")


def test_a_double_click_on_a_cloud_legend_entry_changes_neither_the_entry_nor_the_cloud(page):
    open_explore(page, "?" + urllib.parse.urlencode({"text": TEXT}), n=10)
    page.dblclick("#trajectory-graph .legend .traces >> nth=0")
    page.wait_for_timeout(800)  # past plotly's double-click delay: a single click would have landed by now
    visible = page.evaluate("""() => [0, 1].map(i => [document.querySelector('#trajectory-graph .js-plotly-plot')
        ._fullData[i].visible, document.querySelector('#cloud-graph .js-plotly-plot')._fullData[i].visible])""")
    assert visible == [[True, True], [True, True]]


def test_clicking_a_word_jumps_there_and_speed_sets_the_pace(page):
    open_explore(page, "?" + urllib.parse.urlencode({"text": TEXT}), n=10)
    page.click("#token-strip .tok >> nth=3")
    s = wait_state(page, "s.traj === 4 && s.step.startsWith('4 / 10')")
    assert s["end"] == 1
    page.click("#play-speed")
    page.click(".dash-dropdown-option:has-text('10×')")
    page.wait_for_function("() => document.querySelector('#play-speed').innerText.includes('10×')")
    page.click("#play-button")  # plays on from word 4 at 35 ms a word
    s = wait_state(page, "s.traj === 10 && s.play.includes('Play') && !s.play.includes('Pause')", timeout=10_000)
    assert s["strip"] == TEXT.split() and state(page)["step"].startswith("10 / 10")


def test_the_decisive_word_is_the_strongest_coloured_on_the_review_model(real_page, real_store, artifacts):
    """Colours are the change of the predicted class's log-odds: near 99% confidence 'terrible' still shows
    as the strongest word (by the change of log p it was among the weakest)."""
    if not (real_store / "gru-imdb").is_dir():
        pytest.skip("gru-imdb is not bundled")
    text = "This movie was terrible."
    real_page.goto(real_page.base_url + "/?" + urllib.parse.urlencode({"model": "gru-imdb", "text": text}))
    real_page.wait_for_function("() => document.querySelectorAll('#token-strip .tok').length === 5")
    strip = real_page.eval_on_selector_all("#token-strip .tok", """els => els.map(e => ({
        tok: e.textContent, title: e.title,
        alpha: parseFloat((getComputedStyle(e).backgroundColor.match(/rgba?\\(([^)]*)\\)/)[1].split(',')[3] || '1'))}))""")
    strongest = max(strip, key=lambda t: t["alpha"])
    assert strongest["tok"] == "terrible", strip
    assert all("log-odds of negative" in t["title"] for t in strip)
    assert real_page.inner_text("#prediction-text").startswith("Prediction: negative")
    real_page.screenshot(path=str(artifacts / "explore-gru-imdb-terrible.png"))

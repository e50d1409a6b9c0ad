"""The partial plotly.js from assets/ draws the pages in a real browser (3D, heat maps, histograms), also when a page
served without it (Models) leads to one with graphs, and the full plotly.min.js Dash would otherwise fetch is never
requested."""
from __future__ import annotations

import pytest
from plotly.offline import get_plotlyjs_version

from tests.e2e.conftest import LSTM_RUN_ID

pytestmark = pytest.mark.e2e

# scatter3d (Explore in 3D), histogram and bars (fixed points), the angle heat map (geometry of a 3-class model)
PAGES = [("/?view=3d", 2), (f"/fixed-points?model={LSTM_RUN_ID}", 5), (f"/geometry?model={LSTM_RUN_ID}", 3)]
DRAWN = """n => { const gs = document.querySelectorAll('.js-plotly-plot');
  return gs.length >= n && Array.from(gs).every(g => g.querySelector('.main-svg') && g._fullLayout)
         && !document.querySelector('[data-dash-is-loading="true"]'); }"""


def test_pages_draw_with_the_partial_bundle_and_never_fetch_plotly_min_js(page):
    scripts, drawn = [], set()
    page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    # the Models page comes without plotly.js; a graph page reached from it in the app loads the partial bundle
    page.goto(page.base_url + "/models")
    page.wait_for_selector("#models-table a")
    assert page.evaluate("() => typeof window.Plotly") == "undefined"
    assert not any("plotly" in url and "plotly_url" not in url for url in scripts), scripts
    page.click("a.nav-link[href^='/words']")
    page.wait_for_function(DRAWN, arg=2, timeout=30_000)
    assert page.evaluate("() => window.Plotly.version") == get_plotlyjs_version()
    for path, n_graphs in PAGES:
        page.goto(page.base_url + path)
        page.wait_for_function(DRAWN, arg=n_graphs, timeout=30_000)
        types = page.evaluate("() => Array.from(document.querySelectorAll('.js-plotly-plot'))"
                              ".flatMap(g => g._fullData.map(t => t.type))")
        drawn |= set(types)
    assert {"scatter", "scatter3d", "heatmap"} <= drawn, drawn
    assert page.evaluate("() => window.Plotly.version") == get_plotlyjs_version()
    assert any("plotly-custom.min.js" in url for url in scripts)
    assert not [url for url in scripts if "plotly.min.js" in url and "plotly-custom" not in url]

"""Models page in headless Chromium: every bundle listed, broken ones with their reason, links to Explore."""
from __future__ import annotations

import pytest

from tests.conftest import BROKEN_RUN_ID, TINY_RUN_ID
from tests.e2e.conftest import LSTM_RUN_ID

pytestmark = pytest.mark.e2e

ROWS_JS = """() => Array.from(document.querySelectorAll('#models-table tbody tr')).map(tr => ({
  cls: tr.className, cells: Array.from(tr.querySelectorAll('td')).map(td => td.textContent.trim()),
  link: (tr.querySelector('a') || {}).href || null }))"""


def test_models_page_lists_good_and_broken_bundles(page, artifacts):
    page.goto(page.base_url + "/models")
    page.wait_for_selector("#models-table tbody tr")
    rows = {r["cells"][0]: r for r in page.evaluate(ROWS_JS)}
    assert set(rows) == {TINY_RUN_ID, LSTM_RUN_ID, BROKEN_RUN_ID}
    gru, lstm, broken = rows[TINY_RUN_ID], rows[LSTM_RUN_ID], rows[BROKEN_RUN_ID]
    assert gru["cells"][1:3] == ["Synthetic 2-class", "GRU-12"]
    assert lstm["cells"][1:3] == ["Synthetic 3-class", "LSTM-10"]
    for row in (gru, lstm):
        assert row["cells"][3].endswith("%") and row["link"].endswith(f"/?model={row['cells'][0]}")
    assert "broken" in broken["cls"] and broken["cells"][1] == "unavailable"
    assert "config.json is not valid JSON" in broken["cells"][2]
    assert broken["link"] is None
    assert "2 of 3 bundles load" in page.inner_text(".page")
    page.screenshot(path=str(artifacts / "models.png"))


def test_models_page_link_opens_model_in_explore(page):
    page.goto(page.base_url + "/models")
    page.click(f"#models-table a[href='/?model={LSTM_RUN_ID}']")
    page.wait_for_function("""() => { const g = document.querySelector('#trajectory-graph .js-plotly-plot');
        return g && g.layout && g.layout.meta && g.layout.meta.run_id === 'tiny-lstm'
               && g.data[g.layout.meta.trajectory].x.length > 0
               && document.querySelectorAll('#token-strip .tok').length === g.data[g.layout.meta.trajectory].x.length; }""")
    assert "tiny-lstm" in page.inner_text("#model-picker")

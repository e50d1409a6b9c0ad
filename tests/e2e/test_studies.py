"""Studies page in headless Chromium: a study's claim, figures and computed answer, the study in the URL, the
empty state, and a click on a point that opens that model on Explore with the task's example."""
from __future__ import annotations

import shutil

import pytest

from core.studies import summary_path, write_summary
from tests.conftest import TINY_RUN_ID
from tests.e2e.conftest import LSTM_RUN_ID

pytestmark = pytest.mark.e2e

EXAMPLE = "red red green"


@pytest.fixture
def width_study(e2e_store):
    """A width-study summary whose points are the e2e store's two tiny models (removed afterwards)."""
    points = [{"run_id": run_id, "cell": cell, "units": units, "task": "categorical", "seed": 0,
               "test_accuracy": acc, "heldout_accuracy": None, "weight_distance": 1.0 / units, "dims95": 3,
               "n_fixed_points": 2, "n_stable": 1, "train_s": 3.0, "analysis_s": 1.0, "example": EXAMPLE}
              for run_id, cell, units, acc in ((TINY_RUN_ID, "gru", 12, 0.9), (LSTM_RUN_ID, "lstm", 10, 0.8))]
    write_summary(e2e_store, {"version": 1, "name": "width", "title": "Width sweep (test)", "claim": "c",
                              "points": points, "runtime_s": 6.0, "machine": "test"})
    yield
    shutil.rmtree(summary_path("width", e2e_store).parent)


CLICK_POINT_JS = """([sel, curve, i]) => {
  const gd = document.querySelector(sel + ' .js-plotly-plot'), fl = gd._fullLayout, tr = gd._fullData[curve];
  const box = gd.getBoundingClientRect();
  return {x: box.left + fl.xaxis._offset + fl.xaxis.c2p(tr.x[i]), y: box.top + fl.yaxis._offset + fl.yaxis.c2p(tr.y[i])};
}"""


def test_study_page_shows_the_claim_answer_and_opens_a_point_on_explore(page, width_study, artifacts):
    page.goto(page.base_url + "/studies?study=width")
    page.wait_for_selector("#study-body .js-plotly-plot", timeout=60_000)  # plotly.js loads with the first graph
    body = page.inner_text("#study-body")
    assert "Claim tested:" in body and "Measured:" in body
    assert "too few widths that learned the task to fit a slope" in body  # one width per cell here: no slope to fit
    assert len(page.query_selector_all("#study-body .js-plotly-plot")) == 4
    page.screenshot(path=str(artifacts / "studies.png"), full_page=True)
    graph = "[id='{\"index\":1,\"type\":\"study-graph\"}']"  # weight distance vs width, log-log
    page.locator(graph).scroll_into_view_if_needed()
    at = page.evaluate(CLICK_POINT_JS, [graph, 0, 0])
    page.mouse.move(at["x"], at["y"])
    page.mouse.click(at["x"], at["y"])
    page.wait_for_url("**/?model=*", timeout=60_000)  # a loaded 2-core machine can take long here
    assert f"model={TINY_RUN_ID}" in page.url and "text=red+red+green" in page.url
    page.wait_for_function("""() => document.querySelectorAll('#token-strip .tok').length === 3""", timeout=60_000)
    assert TINY_RUN_ID in page.inner_text("#model-picker")


def test_study_in_the_url_and_the_empty_state(page):
    page.goto(page.base_url + "/studies?study=nothing-like-it")
    page.wait_for_selector(".study-claim")
    assert "There is no study named 'nothing-like-it'; showing cells." in page.inner_text("main")
    assert "has not been run here yet" in page.inner_text("#study-body")
    page.click("#study-pick")
    page.click("text=ReLU vs tanh feature bias on a balanced task (intensifiers)")
    page.wait_for_function("() => window.location.search === '?study=relu-tanh'")
    page.wait_for_function("() => document.querySelector('#study-body').innerText.includes('ReLU activation biases')")

"""Explore's training-time slider in headless Chromium: moving it replays the text under an earlier checkpoint."""
from __future__ import annotations

import shutil

import pytest

from tests.conftest import CKPT_RUN_ID, TINY_RUN_ID
from tests.e2e.conftest import app_server, watched_page, VIEWPORT

pytestmark = pytest.mark.e2e

GRAPH_JS = """() => {
  const g = document.querySelector('#training-graph .js-plotly-plot');
  const controls = document.querySelector('#training-controls');
  const out = {note: (document.querySelector('#training-note') || {}).textContent || '',
               hidden: !controls || controls.hidden, title: '', path_x: null};
  if (!g || !g._fullData || !g.layout) { return out; }
  const path = g._fullData.find(t => t.name === 'your text');
  out.title = (g.layout.title && g.layout.title.text) || '';
  out.path_x = path ? Array.from(path.x) : null;
  return out;
}"""


@pytest.fixture(scope="module")
def ckpt_server(ckpt_bundle_dir, analyzed_store, tmp_path_factory):
    root = tmp_path_factory.mktemp("ckpt_e2e_store")
    shutil.copytree(ckpt_bundle_dir, root / CKPT_RUN_ID)
    shutil.copytree(analyzed_store / TINY_RUN_ID, root / TINY_RUN_ID)
    with app_server(root, tmp_path_factory.mktemp("ckpt_server")) as (base, _log):
        yield base


def _wait(page, condition: str) -> dict:
    page.wait_for_function(f"() => {{ const s = ({GRAPH_JS})(); return !!({condition}); }}", timeout=30_000)
    return page.evaluate(GRAPH_JS)


def test_moving_the_training_slider_replays_the_text_at_an_earlier_checkpoint(browser, ckpt_server):
    context = browser.new_context(viewport=VIEWPORT)
    try:
        for page in watched_page(context, ckpt_server):
            page.goto(f"{ckpt_server}/?model={CKPT_RUN_ID}&text=red%20red%20green%20red")
            final = _wait(page, "s.path_x && s.path_x.length === 4 && s.title.startsWith('step')")
            assert not final["hidden"] and "Checkpoint" in final["note"]
            handle = page.locator("#training-slider [role='slider']").first
            handle.focus()
            page.keyboard.press("Home")  # the first checkpoint: before training
            early = _wait(page, "s.title.startsWith('before training') && s.path_x && s.path_x.length === 4")
            assert "Checkpoint 1 of" in early["note"]
            assert early["path_x"] != final["path_x"]  # the untrained network moves elsewhere
            page.goto(f"{ckpt_server}/?model={TINY_RUN_ID}&text=red")
            none = _wait(page, "s.hidden && s.note.includes('no training checkpoints')")
            assert none["hidden"]
    finally:
        context.close()


TRAINING_REQUEST = "training-graph.figure"  # show_checkpoint's outputs in a Dash callback request


def test_typing_redraws_the_training_panel_only_once_it_is_in_view(browser, ckpt_server):
    """Typing above the fold sends no request for the panel below it; scrolled into view, it shows the new text."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        for page in watched_page(context, ckpt_server):
            sent = []
            page.on("request", lambda r: sent.append(r.post_data or "") if "_dash-update-component" in r.url else None)
            page.goto(f"{ckpt_server}/?model={CKPT_RUN_ID}&text=red%20red%20green%20red")
            _wait(page, "s.path_x && s.path_x.length === 4")
            below = page.evaluate("() => document.getElementById('training-panel').getBoundingClientRect().top"
                                  " > window.innerHeight")
            assert below, "at 1280x720 the training panel starts below the fold"
            page.fill("#sentence-input", "green red green")
            page.wait_for_function("() => document.querySelectorAll('#token-strip .tok').length === 3")
            page.fill("#sentence-input", "green red green red red green")
            page.wait_for_function("() => document.querySelectorAll('#token-strip .tok').length === 6")
            page.wait_for_timeout(500)
            assert not [b for b in sent if TRAINING_REQUEST in b]
            assert len(_wait(page, "true")["path_x"]) == 4  # still the text it was drawn for
            page.locator("#training-panel").scroll_into_view_if_needed()
            shown = _wait(page, "s.path_x && s.path_x.length === 6")  # the newest text, once
            assert "Checkpoint" in shown["note"]
            assert len([b for b in sent if TRAINING_REQUEST in b]) == 1
    finally:
        context.close()

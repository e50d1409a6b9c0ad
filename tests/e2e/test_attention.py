"""The Attention page in headless Chromium with every bundled sequence model, over a copy of the real store.

Each model: the page decodes the URL's source, draws the attention with its four terms, the scores and the
state paths, shows the table of every sequence model, and leaks no exception; typing a new source redraws
and reaches the URL; picking an example fills the box. Screenshots land in test-artifacts/attention-*.png.
"""
from __future__ import annotations

import urllib.parse

import pytest

from core import seq_store
from core.tasks.seq2seq import target_for
from tests.e2e.conftest import ARTIFACTS, real_seq_run_ids
from tests.e2e.test_pages import GRAPHS_READY, LEAK

pytestmark = pytest.mark.e2e

SEQ_MODELS = real_seq_run_ids()


def _open(page, run_id: str, text: str) -> None:
    page.goto(f"{page.base_url}/attention?{urllib.parse.urlencode({'model': run_id, 'text': text})}")
    page.wait_for_function(GRAPHS_READY, arg=3)


def _no_leak(page) -> None:
    body = page.inner_text("main")
    leak = LEAK.search(body)
    assert leak is None, f"the page shows {leak.group(0)!r}"


@pytest.mark.skipif(not SEQ_MODELS, reason="no analyzed sequence models in models_store (python -m core bundle-all)")
@pytest.mark.parametrize("run_id", SEQ_MODELS)
def test_every_sequence_model_decodes_and_draws(real_page, real_store, run_id):
    bundle = seq_store.load_seq_path(real_store / run_id)
    text = bundle.examples[1]
    _open(real_page, run_id, text)
    _no_leak(real_page)
    assert real_page.query_selector(".page-body .empty-state") is None
    shown = real_page.inner_text("#attention-output").strip()
    assert shown == " ".join(bundle.translate(text).output)
    types = real_page.evaluate("() => Array.from(document.querySelectorAll('.js-plotly-plot'))"
                               ".map(g => g.data.map(t => t.type || 'scatter'))")
    assert types[0] == ["heatmap"] * 5 and types[1] == ["heatmap"] * 5
    rows = real_page.eval_on_selector_all("#attention-table tbody tr", "rs => rs.map(r => r.innerText)")
    assert len(rows) == len(SEQ_MODELS) and any(run_id in r for r in rows)
    real_page.screenshot(path=str(ARTIFACTS / f"attention-{run_id}.png"), full_page=True)


@pytest.mark.skipif(not SEQ_MODELS, reason="no analyzed sequence models in models_store (python -m core bundle-all)")
def test_typing_redraws_and_reaches_the_url_and_an_example_fills_the_box(real_page, real_store):
    run_id = next((r for r in SEQ_MODELS if "reverse" in r), SEQ_MODELS[0])
    bundle = seq_store.load_seq_path(real_store / run_id)
    _open(real_page, run_id, bundle.examples[0])
    source = " ".join(bundle.src_vocab.itos[2:6])
    box = real_page.locator("#attention-text")
    box.fill(source)
    box.press("Enter")
    want = " ".join(bundle.translate(source).output)
    real_page.wait_for_function("w => document.querySelector('#attention-output') && "
                                "document.querySelector('#attention-output').innerText.trim() === w", arg=want)
    real_page.wait_for_function("s => new URLSearchParams(location.search).get('text') === s", arg=source)
    assert new_model_in_url(real_page) == run_id
    real_page.click("#attention-example")
    real_page.locator(".dash-dropdown-option", has_text=bundle.examples[0]).first.click()  # Dash 4: in a popover
    real_page.wait_for_function("e => document.querySelector('#attention-text').value === e", arg=bundle.examples[0])
    _no_leak(real_page)
    if bundle.config.task.name != "seq-scan":
        assert target_for(bundle.config.task.name, source.split())  # the rule accepts what we typed


def new_model_in_url(page) -> str:
    return page.evaluate("() => new URLSearchParams(location.search).get('model')")


def test_a_classifier_page_never_offers_a_sequence_model(real_page):
    real_page.goto(f"{real_page.base_url}/geometry")
    real_page.wait_for_function(GRAPHS_READY, arg=1)
    real_page.click("#model-picker")
    real_page.wait_for_selector(".dash-dropdown-option")
    options = real_page.eval_on_selector_all(".dash-dropdown-option", "os => os.map(o => o.innerText)")
    assert options and not any(s in o for o in options for s in SEQ_MODELS)

"""Train page in headless Chromium, sequence-to-sequence (issue 18): picking a sequence task swaps the Cell field
for an encoder and hides Classes; a tiny encoder-decoder job runs to "done" in the user store (a folder of its
own, apart from the bundled store), and its card's link opens it on the Attention page, decoded and drawn,
without a server restart. Its own live server, over a copy of the analyzed tiny GRU."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core import seq_store
from tests.conftest import TINY_RUN_ID
from tests.e2e.conftest import VIEWPORT, job_server, watched_page
from tests.e2e.test_pages import GRAPHS_READY
from tests.e2e.test_train import card, wait_no_leftovers, watch

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stores(analyzed_store, tmp_path_factory) -> tuple[Path, Path]:
    bundled, user = tmp_path_factory.mktemp("seq_bundled"), tmp_path_factory.mktemp("seq_user")
    shutil.copytree(analyzed_store / TINY_RUN_ID, bundled / TINY_RUN_ID)
    return bundled, user


@pytest.fixture(scope="module")
def live_server(stores, tmp_path_factory):
    bundled, user = stores
    yield from job_server(bundled, tmp_path_factory.mktemp("seq_server"), user_store=user)


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport=VIEWPORT)
    yield from watched_page(context, live_server)
    context.close()


def choose(page, field: str, value: str) -> None:
    page.click(f"#train-{field}")
    page.click(f".dash-dropdown-option:has(input[value='{value}'])")


def test_a_tiny_sequence_job_trains_and_opens_on_the_attention_page(page, stores, artifacts):
    bundled, user = stores
    run_id = "e2e-seq"
    page.goto(page.base_url + "/train")
    page.wait_for_selector("#train-jobs > *")
    assert page.is_visible("#train-classes")
    choose(page, "task", "seq-translate")
    page.wait_for_function("() => !document.querySelector('#train-classes') || "
                           "!document.querySelector('#train-classes').offsetParent")
    choose(page, "cell", "ff")  # the feed-forward encoder is an option now; LSTM is not
    page.click("#train-cell")
    options = page.eval_on_selector_all(".dash-dropdown-option input", "es => es.map(e => e.value)")
    assert options == ["gru", "ff"], options
    page.keyboard.press("Escape")
    for name, value in {"units": "8", "embed": "4", "steps": "10", "run_id": run_id}.items():
        page.fill(f"#train-{name}", value)
    page.click("#train-start")
    page.wait_for_function(f"() => document.querySelector('#train-form-message').textContent === 'Queued {run_id}.'")
    done, _seen = watch(page, run_id, lambda c: c["cls"] not in ("running", "queued"), 120, "finished")
    assert done["cls"] == "succeeded" and done["progress"] == 100, done
    assert done["link"] == f"/attention?model={run_id}"
    assert not (bundled / run_id).exists() and wait_no_leftovers(user) == []
    bundle = seq_store.load_seq_path(user / run_id)
    assert bundle.config.model.encoder == "ff" and bundle.has_analysis and bundle.info["bundled"] is False
    page.wait_for_function(f"() => document.querySelector('#train-user-runs').innerText.includes('{run_id}')")
    page.screenshot(path=str(artifacts / "train-seq.png"), full_page=True)

    page.click(f".job-card:has(.job-line b:text-is('{run_id}')) a")
    page.wait_for_function(GRAPHS_READY, arg=3)
    assert page.evaluate("() => new URLSearchParams(location.search).get('model')") == run_id
    assert page.input_value("#attention-text") == bundle.examples[1]  # the page starts from an example
    want = " ".join(bundle.translate(bundle.examples[1]).output)
    page.wait_for_function("w => document.querySelector('#attention-output').innerText.trim() === w", arg=want)
    assert card(page, run_id) is None  # left the Train page

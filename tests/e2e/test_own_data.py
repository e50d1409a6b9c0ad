"""The Train page's "Your own data and model" card in headless Chromium against a live `python app.py` (jobs in
detached local processes) on this module's own store (issue 20).

Covers: a CSV with one label is refused in one sentence and a good one is summarized, trained as a background
job to "done" and saved with its provenance; an upload over the cap is refused by the browser before it is
sent; a model exported from a bundle is uploaded as its two files, imported and analyzed as a job, and
predicts exactly as the bundle it came from.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from core import store
from core.importer import export_folder
from tests.conftest import TINY_RUN_ID
from tests.core.test_importer import TEXTS
from tests.core.test_user_data import _csv
from tests.e2e.conftest import VIEWPORT, click_until_shown, job_server, watched_page
from tests.e2e.test_train import card, watch

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def own_store(analyzed_store, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("own_store")
    shutil.copytree(analyzed_store / TINY_RUN_ID, root / TINY_RUN_ID)
    return root


@pytest.fixture(scope="module")
def live_server(own_store, tmp_path_factory):
    yield from job_server(own_store, tmp_path_factory.mktemp("own_server"))


@pytest.fixture(scope="module")
def _session(browser, live_server):
    context = browser.new_context(viewport=VIEWPORT)
    yield context
    context.close()


@pytest.fixture
def page(_session, live_server):
    yield from watched_page(_session, live_server)


def done(c: dict) -> bool:
    return c["cls"] in ("succeeded", "failed", "cancelled")


def upload(page, box: str, *files: tuple[str, bytes]) -> None:
    page.set_input_files(f".{box} input[type=file]", files=[
        {"name": name, "mimeType": "application/octet-stream", "buffer": data} for name, data in files])


def wait_text(page, selector: str, start: str) -> str:
    page.wait_for_function("([s, t]) => (document.querySelector(s) || {}).textContent?.startsWith(t)",
                           arg=[selector, start])
    return page.inner_text(selector)


def test_a_csv_is_checked_then_trained_as_a_job(page, own_store):
    page.goto(page.base_url + "/train")
    page.wait_for_selector(".own-csv-upload")
    upload(page, "own-csv-upload", ("one.csv", b"text,label\n" + b"".join(b"t%d,pos\n" % i for i in range(30))))
    assert "a classifier needs 2 to 10 different labels" in wait_text(page, "#own-csv-summary", "Every row")
    upload(page, "own-csv-upload", ("reviews.csv", _csv()))
    assert wait_text(page, "#own-csv-summary", "Ready:") == "Ready: 60 examples, 2 labels: neg 30, pos 30."
    for name, value in {"units": "8", "embed": "4", "steps": "30", "run_id": "my-csv-run"}.items():
        page.fill(f"#own-csv-{name}", value)
    page.click("#own-csv-start")
    assert wait_text(page, "#own-csv-message", "Queued") == "Queued my-csv-run."
    final, _ = watch(page, "my-csv-run", done, timeout=240, what="finished")
    assert final["cls"] == "succeeded", final
    meta = json.loads((own_store / "my-csv-run" / "config.json").read_text())
    assert meta["run"]["task"]["name"] == "csv" and meta["provenance"]["dataset"]["file"] == "reviews.csv"
    assert store.load_path(own_store / "my-csv-run").analysis.pca is not None


def test_an_upload_over_the_cap_never_leaves_the_browser(page):
    page.goto(page.base_url + "/train")
    page.wait_for_selector(".own-csv-upload")
    upload(page, "own-csv-upload", ("huge.csv", b"x" * (5 * 2**20 + 10)))
    assert wait_text(page, "#own-csv-summary", "The upload is") == \
        "The upload is 5.0 MB, over the limit of 5 MB; use a smaller file."


def test_a_model_is_uploaded_imported_and_analyzed(page, own_store, tmp_path):
    source = store.load_path(own_store / TINY_RUN_ID)
    folder = export_folder(source, tmp_path / "export")
    spec = json.loads((folder / "model.json").read_text())
    (folder / "model.json").write_text(json.dumps({**spec, "run_id": "my-import", "texts": TEXTS * 8}))
    page.goto(page.base_url + "/train")
    page.wait_for_selector(".own-csv-upload")
    click_until_shown(page, ".own-data .tab >> text=Import a model", ".own-model-upload")
    upload(page, "own-model-upload", *[(p.name, p.read_bytes()) for p in sorted(folder.iterdir())])
    assert wait_text(page, "#own-model-summary", "Ready:").startswith("Ready: A GRU with 12 units, 2 classes")
    assert page.get_attribute("#own-model-run-id", "placeholder") == "my-import"
    page.click("#own-model-start")
    wait_text(page, "#own-model-message", "Queued the analysis of my-import")
    final, _ = watch(page, "my-import", done, timeout=240, what="finished")
    assert final["cls"] == "succeeded" and final["link"] == "/?model=my-import", final
    imported = store.load_path(own_store / "my-import")
    np.testing.assert_array_equal(imported.predict(TEXTS), source.predict(TEXTS))
    assert imported.analysis.fixed_points is not None and card(page, "my-import")["progress"] == 100

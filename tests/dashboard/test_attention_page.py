"""The Attention page (/attention) as functions, over a store holding one tiny trained sequence model: it
decodes and draws, explains empty, unknown, broken and unanalyzed models, keeps the URL's model and text,
and classifier pages never offer a sequence model."""
from __future__ import annotations

import shutil

import dash
import numpy as np
import plotly.graph_objects as go
import pytest

from core import seq_store, store
from core.config import TrainConfig
from core.seq2seq.analysis import analyze_seq_bundle
from core.seq2seq.config import SeqModelConfig, SeqRunConfig, SeqTaskConfig
from core.seq2seq.pipeline import train_seq_run
from dashboard import figures_attention as fat, ids
from tests.dashboard.test_analysis_pages import _graphs

RUN = "tiny-sort"
CONFIG = SeqRunConfig(RUN, SeqModelConfig("ff", 12, 8),
                      SeqTaskConfig("seq-sort", min_len=3, max_len=6, n_train=300, n_val=30, n_test=40),
                      TrainConfig(steps=30, batch_size=32, lr=1e-2, eval_every=30, patience=10))


@pytest.fixture(scope="module")
def seq_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("seq_page_store")
    train_seq_run(CONFIG, store_path=root)
    analyze_seq_bundle(seq_store.load_seq(RUN, root))
    return root


@pytest.fixture
def page(app_ctx, seq_root, tmp_path, monkeypatch):
    """The page module over a copy of the sequence store (tests may damage it), next to the tiny classifier."""
    from dashboard import seq_bundles
    from dashboard.pages import attention
    from dashboard.runtime import bundles

    root = tmp_path / "store"
    shutil.copytree(seq_root, root)
    classifiers = bundles().summaries()

    class Listing:
        @staticmethod
        def summaries():
            return classifiers + store.list_bundles(root)

    monkeypatch.setattr(attention, "bundles", lambda: Listing)
    monkeypatch.setattr(seq_bundles, "stores", lambda: (root,))
    attention.root = root
    return attention


def _text(component) -> str:
    """Every prop of the component tree, as Dash's (recursive) repr shows them."""
    return repr(component)


def test_the_page_decodes_and_draws_every_figure(page):
    body = page._body(RUN, "3 1 2", "2D", page.seq_summaries(page.bundles().summaries()))
    graphs = _graphs(body)
    assert len(graphs) == 3 and all(isinstance(g.figure, go.Figure) for g in graphs)
    heat = graphs[0].figure
    assert [t.type for t in heat.data] == ["heatmap"] * 5 and heat.data[0].x == ("1·3", "2·1", "3·2")
    assert heat.layout.coloraxis.cmin == 0 and heat.layout.coloraxis.cmax == 1
    text = _text(body)
    assert ids.ATTENTION_OUTPUT in text and ids.ATTENTION_TABLE in text and RUN in text


def test_three_d_view_and_unknown_words(page):
    body = page._body(RUN, "3 banana 2", "3D", page.seq_summaries(page.bundles().summaries()))
    trajectory = _graphs(body)[2].figure
    assert {t.type for t in trajectory.data} == {"scatter3d"}
    assert "banana?" in _text(body) and "does not know" in _text(body)


@pytest.mark.parametrize("text, message", [("", "Type a source sequence"), ("   ", "Type a source sequence"),
                                           (None, "Type a source sequence")])
def test_empty_text_says_what_to_do(page, text, message):
    assert message in _text(page._body(RUN, text, "2D", page.seq_summaries(page.bundles().summaries())))


def test_a_broken_or_unknown_model_is_explained(page):
    rows = page.seq_summaries(page.bundles().summaries())
    assert "unavailable" in _text(page._body("no-such-model", "3 1", "2D", rows))
    assert "not a valid run id" in _text(page._body("../etc", "3 1", "2D", rows))
    (page.root / RUN / "model.safetensors").write_bytes(b"junk")
    assert "model.safetensors" in _text(page._body(RUN, "3 1", "2D", rows))


def test_an_empty_store_says_how_to_build_models(page):
    assert "bundle-all" in _text(page._body(None, "3 1", "2D", []))


def test_the_layout_keeps_the_url_model_and_text_and_explains_unknown_names(page):
    layout = _text(page.layout(model=RUN, text="5 4"))
    assert "value='5 4'" in layout and "There is no model" not in layout
    assert "There is no model named 'nope'" in _text(page.layout(model="nope"))
    from tests.conftest import TINY_RUN_ID
    assert "There is no model" not in _text(page.layout(model=TINY_RUN_ID))  # a classifier from the navbar
    assert len(_text(page.layout(model=RUN, text="1 " * 200_000))) < 300_000  # the shared text cap


def test_an_example_fills_the_text_and_a_model_change_offers_its_examples(page):
    examples = seq_store.load_seq(RUN, page.root).examples
    assert page.example_update(ids.ATTENTION_EXAMPLE, examples[0], RUN) == (examples[0], dash.no_update)
    assert page.example_update(ids.ATTENTION_EXAMPLE, "not an example", RUN)[0] is dash.no_update
    assert page.example_update(ids.ATTENTION_MODEL, None, RUN) == (examples[1], examples)


def test_classifier_pickers_never_offer_a_sequence_model(page):
    from dashboard.components.model_picker import default_run_id, picker_options

    rows = page.bundles().summaries()
    assert any(r.kind == "seq2seq" for r in rows)
    assert RUN not in [o["value"] for o in picker_options(rows)]
    assert default_run_id([r for r in rows if r.kind == "seq2seq"]) is None


def test_the_models_page_sends_a_sequence_model_to_the_attention_page(page, monkeypatch):
    from dashboard.pages import models

    rows = page.bundles().summaries()
    monkeypatch.setattr(models, "bundles", lambda: page.bundles())
    text = repr(models.layout())
    assert f"/attention?model={RUN}" in text and "Sequence: sorting" in text
    assert f"/?model={RUN}" not in text and any(r.kind == "classifier" for r in rows)


def test_row_softmax_and_score_scale():
    scores = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    soft = fat.row_softmax(scores)
    np.testing.assert_allclose(soft.sum(1), 1.0)
    assert soft[0].argmax() == 2 and np.allclose(soft[1], 1 / 3)
    terms = {n: scores * k for k, n in enumerate(["mu.mu", "mu.chi", "chi.mu", "chi.chi"], start=1)}
    fig = fat.score_terms_figure(scores, terms, ["a", "b", "c"], ["x", "y"])
    assert fig.layout.coloraxis.cmax == 12.0 and fig.layout.coloraxis.cmin == -12.0

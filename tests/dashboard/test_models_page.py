"""The Models page lists every bundle, and a broken one as unavailable with its reason."""
from __future__ import annotations

import re

import pytest

from tests.conftest import BROKEN_RUN_ID, TINY_RUN_ID


def _text(component) -> str:
    if isinstance(component, (str, int, float)):
        return str(component)
    if isinstance(component, (list, tuple)):
        return " ".join(_text(c) for c in component)
    children = getattr(component, "children", None)
    return _text(children) if children is not None else ""


def test_models_page_lists_good_and_broken_bundles(app_ctx):
    from dashboard.pages import models

    page = _text(models.layout())
    assert TINY_RUN_ID in page and "Synthetic 2-class" in page and "GRU-12" in page
    assert BROKEN_RUN_ID in page and "unavailable" in page and "not valid JSON" in page
    assert "1 of 2 bundles load" in page


def test_picker_disables_broken_bundles(app_ctx):
    from dashboard.components.model_picker import picker_options
    from dashboard.runtime import bundles

    options = {o["value"]: o for o in picker_options(bundles().summaries())}
    assert options[BROKEN_RUN_ID]["disabled"] is True
    assert "unavailable" in options[BROKEN_RUN_ID]["label"]
    assert options[TINY_RUN_ID]["disabled"] is False


def test_pickers_leave_study_points_out_unless_one_is_shown():
    from core.studies import STUDIES
    from dashboard.components.model_picker import picker_options

    point = STUDIES["cells"].points[0].run_id
    fake = type("S", (), dict(kind="classifier", ok=True, analysis_damaged=False, has_analysis=True, metrics={},
                              task="negation", num_classes=2, cell="gru", units=32))
    rows = [type("A", (fake,), {"run_id": point})(), type("B", (fake,), {"run_id": "st-mine"})()]
    assert [o["value"] for o in picker_options(rows)] == ["st-mine"]  # a user's run named st-… is no study point
    assert sorted(o["value"] for o in picker_options(rows, point)) == sorted([point, "st-mine"])


# ---- damaged bundles and analyses (see tests/core/test_damaged_bundles.py) ---------------------
@pytest.fixture
def damaged_app(app_ctx, analyzed_store, tmp_path, monkeypatch):
    """The app serving a store with a good bundle and one per kind of damage: run id -> (part, fragment)."""
    from dashboard.cache import BundleCache
    from tests.core.test_damaged_bundles import make_damaged_store

    expected = make_damaged_store(analyzed_store / TINY_RUN_ID, tmp_path / "store")
    monkeypatch.setitem(app_ctx.server.config, "ATTRACTORSCOPE_BUNDLES", BundleCache(tmp_path / "store"))
    return expected


def test_models_page_explains_damaged_analyses(damaged_app):
    from dashboard.pages import models
    from dashboard.runtime import bundles

    assert "6 of 11 bundles load" in _text(models.layout())  # five models load but lack a usable analysis
    rows = {s.run_id: _text(models._row(s)) for s in bundles().summaries()}
    assert "open in Explore" in rows["good"]
    assert "not analyzed yet" in rows["missing"] and "python -m core analyze missing" in rows["missing"]
    for run_id, (part, fragment) in damaged_app.items():
        if part == "bundle":
            assert "unavailable" in rows[run_id] and fragment in rows[run_id], rows[run_id]
        elif part == "analysis" and run_id != "missing":
            assert "analysis unusable: analysis.npz" in rows[run_id] and fragment in rows[run_id], rows[run_id]
            assert f"python -m core analyze {run_id}" in rows[run_id]


def test_picker_disables_damaged_analyses_with_the_reason(damaged_app):
    from dashboard.components.model_picker import default_run_id, picker_options
    from dashboard.runtime import bundles

    summaries = bundles().summaries()
    options = {o["value"]: o for o in picker_options(summaries)}
    for run_id, (part, fragment) in damaged_app.items():
        fragment = "not analyzed" if run_id == "missing" else fragment
        assert options[run_id]["disabled"] is bool(part), run_id
        assert fragment in options[run_id]["label"], (run_id, options[run_id]["label"])
    assert default_run_id(summaries) == "good"


def test_cache_refuses_damaged_bundles_and_serves_the_good_one(damaged_app):
    from dashboard.cache import ModelUnavailable
    from dashboard.runtime import bundles

    for run_id, (part, fragment) in damaged_app.items():
        if not part:
            assert bundles().get(run_id).analysis.fixed_points is not None
            continue
        with pytest.raises(ModelUnavailable, match=re.escape(fragment)):
            bundles().get(run_id)

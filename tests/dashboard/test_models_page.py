"""The Models page lists every bundle, and a broken one as unavailable with its reason."""
from __future__ import annotations

from tests.conftest import TINY_RUN_ID
from tests.conftest import BROKEN_RUN_ID


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

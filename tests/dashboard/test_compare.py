"""Compare (issue 17): the default partner learnt the same task (and the page says so when there is none), the 3D
views keep their axis titles in the frame, and the picker's accuracy has the table's one decimal."""
from __future__ import annotations

import math

from core.store import BundleSummary
from dashboard.components.model_picker import picker_options
from tests.conftest import TINY_RUN_ID


def _s(run_id, task="categorical", k=3, cell="gru", acc=0.9):
    return BundleSummary(run_id, True, task=task, cell=cell, units=128, num_classes=k, has_analysis=True,
                         metrics={"test_accuracy": acc})


def _text(component) -> str:
    if isinstance(component, (list, tuple)):
        return " ".join(_text(c) for c in component)
    if isinstance(component, str):
        return component
    return _text(getattr(component, "children", None) or "")


def test_a_snippet_model_is_never_paired_with_another_task(dash_app):  # pages import after the app exists
    from dashboard.pages.compare import default_partner, partner_note

    rows = [_s("gru-reviews", task="reviews", k=2), _s("gru-cat3"), _s("lstm-cat3", cell="lstm"),
            _s("gru-imdb", task="imdb", k=2)]
    assert default_partner(rows, "gru-reviews") == "gru-reviews"
    note = partner_note(rows, "gru-reviews", "gru-reviews")
    assert "No other analyzed model" in note and "Movie snippets" in note
    assert default_partner(rows, "gru-cat3") == "lstm-cat3" and partner_note(rows, "gru-cat3", "lstm-cat3") == ""
    assert "different tasks" in partner_note(rows, "gru-reviews", "gru-cat3")  # a pair the user chose


def test_the_page_says_when_there_is_no_partner_of_the_same_task(app_ctx):
    from dashboard.pages import compare

    assert "No other analyzed model" in _text(compare._body(TINY_RUN_ID, TINY_RUN_ID, "red green"))


def test_the_3d_views_keep_their_axis_titles_in_the_frame(app_ctx):
    from dashboard.pages import compare
    from dashboard.runtime import bundles

    scene = compare._base_figure(TINY_RUN_ID, bundles().get(TINY_RUN_ID))["layout"]["scene"]
    eye = scene["camera"]["eye"]
    # a camera this far back keeps the box, and the titles at its edges, inside a half-page-wide view (1280x720)
    assert math.dist((0, 0, 0), (eye["x"], eye["y"], eye["z"])) >= 2.5
    assert all(scene[f"{axis}axis"]["title"]["text"] for axis in "xyz")


def test_the_picker_shows_accuracy_with_one_decimal_like_the_table():
    [option] = picker_options([_s("gru-cat3", acc=0.9966)])
    assert "99.7% test acc." in option["label"]

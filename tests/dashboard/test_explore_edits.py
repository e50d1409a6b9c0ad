"""Explore's counterfactual edits and overlays as plain functions: menus, edits, stale or tampered inputs,
overlay lists from the URL, the slot traces the patches fill."""
from __future__ import annotations

import json

import pytest

from dashboard import ids
from dashboard.edit_logic import (MAX_OVERLAY_CHARS, apply_edit, change_overlays, edit_menu, overlay_items,
                                  overlay_texts)
from dashboard.explore_logic import load_model_view
from dashboard.figures_counterfactual import MAX_OVERLAYS, OVERLAY_COLORS, first_slot, slot_patch
from tests.conftest import BROKEN_RUN_ID, TINY_RUN_ID

TEXT = "red green red the and"


def test_menu_names_the_clicked_word_and_suggests_swaps(app_ctx):
    menu = edit_menu(TINY_RUN_ID, TEXT, 1)
    assert not menu.hidden and "“green”" in menu.label and "token 2" in menu.label
    words = [o["value"] for o in menu.swap_options]
    assert "green" not in words and all(isinstance(w, str) for w in words)


@pytest.mark.parametrize("index", [None, -1, 5, 99, True, "1", 1.5])
def test_menu_hides_for_a_token_that_is_not_there(app_ctx, index):
    assert edit_menu(TINY_RUN_ID, TEXT, index).hidden


def test_menu_hides_without_a_model(app_ctx):
    assert edit_menu(BROKEN_RUN_ID, TEXT, 0).hidden and edit_menu(None, TEXT, 0).hidden


@pytest.mark.parametrize("op, word, n_edited", [("swap", "green", 5), ("drop", None, 4), ("insert", None, 6)])
def test_edit_draws_both_paths_and_states_the_change(app_ctx, op, word, n_edited):
    result = apply_edit(TINY_RUN_ID, TEXT, 0, op, word)
    assert result.figure is not None and result.n_classes == 2 and result.n_tokens == 5
    assert len(result.edited["xyz_tx3"]) == n_edited == len(result.edited["hover"])
    real, linear = result.figure.data
    assert len(real.y) == len(linear.y) == 5 and real.y[0] != 0  # the first token was edited
    assert "prediction" in result.summary and "linear prediction says" in result.summary
    assert result.summary.startswith({"swap": "Swapping “red” for “green”", "drop": "Dropping “red”",
                                      "insert": "Inserting “not” before “red”"}[op])
    json.dumps(result.figure.to_plotly_json(), default=lambda a: a.tolist())  # the browser gets it as JSON


def test_negation_outside_the_vocabulary_is_said(app_ctx):
    assert "“not” is not in this model's vocabulary" in apply_edit(TINY_RUN_ID, TEXT, 2, "insert").summary


@pytest.mark.parametrize("index, op, word", [(7, "drop", None), (True, "drop", None), (0, "rotate", None),
                                             (0, "swap", None), (0, "swap", "  "), (0, "swap", "x" * 500),
                                             (0, "swap", ["red"])])
def test_bad_edits_get_a_sentence_not_a_crash(app_ctx, index, op, word):
    result = apply_edit(TINY_RUN_ID, TEXT, index, op, word)
    assert result.figure is None and result.summary.endswith(".")


def test_overlay_list_from_url_values():
    assert overlay_texts("good") == ["good"]
    assert overlay_texts(["good", " not good ", "good", 3, None, ""]) == ["good", "not good"]
    assert overlay_texts({"a": 1}) == [] and overlay_texts(None) == []
    assert len(overlay_texts([f"t{i}" for i in range(20)])) == MAX_OVERLAYS
    assert overlay_texts("x" * 1000) == ["x" * MAX_OVERLAY_CHARS]


def test_add_and_remove_overlays():
    texts = change_overlays([], add="good")
    texts = change_overlays(texts, add="not good")
    assert texts == ["good", "not good"]
    assert change_overlays(texts, add="good") == texts  # no repeats
    assert change_overlays(texts, remove=0) == ["not good"]
    assert change_overlays(texts, remove=5) == texts and change_overlays(texts, remove=True) == texts
    assert change_overlays("tampered", add="x") == ["tampered", "x"]


def test_overlay_items_have_paths_and_legend_names(app_ctx):
    items, k = overlay_items(TINY_RUN_ID, ["red red", "green", "🙂"])
    assert k == 2 and [i["text"] for i in items] == ["red red", "green", "🙂"]
    assert items[0]["xyz_tx3"].shape == (2, 3) and len(items[0]["hover"]) == 2
    assert "→" in items[0]["name"] and items[1]["name"] != items[0]["name"]
    assert overlay_items(BROKEN_RUN_ID, ["red"]) == ([], 0)


def test_overlay_names_are_escaped_for_plotly(app_ctx):
    items, _ = overlay_items(TINY_RUN_ID, ["<b>red</b>"])
    assert "<b>" not in items[0]["name"] and "&lt;" in items[0]["name"] and "<b>" in items[0]["label"]


@pytest.mark.parametrize("view", ["2d", "3d"])
def test_slots_sit_where_the_patches_write(app_ctx, view):
    fig = load_model_view(TINY_RUN_ID, view).figure
    fig = fig if isinstance(fig, dict) else fig.to_plotly_json()
    meta, data = fig["layout"]["meta"], fig["data"]
    assert meta["edited"] == first_slot(2) and meta["overlays"][0] == first_slot(2) + 2
    assert len(data) == first_slot(2) + 2 + MAX_OVERLAYS
    assert data[meta["overlays"][1]]["line"]["color"] == OVERLAY_COLORS[1]
    assert data[meta["edited"]]["legend"] == "legend2"
    items, _ = overlay_items(TINY_RUN_ID, ["red", "green green"])
    ops = slot_patch(2, view == "3d", overlays=items).to_plotly_json()["operations"]
    written = {(op["location"][1], op["location"][2]): op["params"]["value"] for op in ops}
    assert written[(meta["overlays"][1], "x")].__len__() == 2 and written[(meta["overlays"][1], "showlegend")]
    assert written[(meta["overlays"][2], "showlegend")] is False  # the unused slots are emptied
    assert ((meta["overlays"][0], "z") in written) == (view == "3d")


def _find(component, target):
    if getattr(component, "id", None) == target:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        found = _find(child, target) if child is not None and hasattr(child, "to_plotly_json") else None
        if found is not None:
            return found
    return None


def test_layout_reads_overlays_from_the_url(app_ctx):
    from dashboard.pages import explore

    store = _find(explore.layout(text="red", overlay=["green", "red red", 5]), ids.OVERLAY_TEXTS)
    assert store.data == ["green", "red red"]
    assert _find(explore.layout(text="red", overlay="green"), ids.OVERLAY_TEXTS).data == ["green"]
    assert _find(explore.layout(text="red"), ids.OVERLAY_TEXTS).data == []


def test_swap_suggestions_of_the_tiny_model_point_the_other_way(app_ctx):
    """On the two-colour task "red" votes for one class: the suggestions are words of the other (e.g. green)."""
    menu = edit_menu(TINY_RUN_ID, TEXT, 0)
    assert [o["value"] for o in menu.swap_options] == ["green"]


def test_swap_word_is_read_as_the_tokenizer_reads_it(app_ctx):
    assert apply_edit(TINY_RUN_ID, TEXT, 0, "swap", " GREEN ").summary.startswith("Swapping “red” for “green”")
    assert apply_edit(TINY_RUN_ID, TEXT, 0, "swap", "very green").summary == "Choose a single word to swap in."
    assert "\ud800" not in apply_edit(TINY_RUN_ID, TEXT, 0, "swap", "\ud800").summary


def test_overlays_cannot_carry_lone_surrogates_into_json():
    assert overlay_texts(["\ud800good"]) == ["?good"]
    json.dumps(overlay_texts(["\udfff", "ok"]))


@pytest.mark.parametrize("left_in_the_swap_box", ["\ud800", "<b>zzz</b>", "blue"])
def test_a_drop_ignores_whatever_the_swap_box_holds(app_ctx, left_in_the_swap_box):
    """Found by the fuzzer: a drop echoed the swap box's raw value (a lone surrogate made the response a 500)."""
    result = apply_edit(TINY_RUN_ID, TEXT, 0, "drop", left_in_the_swap_box)
    assert result.summary.startswith("Dropping “red”:") and "vocabulary" not in result.summary
    json.dumps([result.summary], ensure_ascii=False).encode("utf-8")  # raises on a lone surrogate

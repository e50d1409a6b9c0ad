"""Explore page callbacks as plain functions: payload shape, caps, unknown words, broken models."""
from __future__ import annotations

import json

import dash
import pytest

from dashboard.explore_logic import load_model_view, next_text_for_model, trajectory_for
from dashboard.payload import trajectory_payload
from tests.conftest import TINY_RUN_ID
from tests.conftest import BROKEN_RUN_ID


def test_trajectory_has_one_point_per_token(app_ctx):
    payload = trajectory_for(TINY_RUN_ID, "red green red the and")
    assert payload["n"] == 5
    assert payload["tokens"] == ["red", "green", "red", "the", "and"]
    assert len(payload["xyz"]) == 3 * 5
    assert len(payload["probs"]) == payload["k"] * 5
    assert len(payload["ev"]) == len(payload["toward"]) == 5
    assert payload["run_id"] == TINY_RUN_ID
    assert payload["prediction"].startswith("Prediction: ")


def test_probabilities_sum_to_one_per_token(app_ctx):
    payload = trajectory_for(TINY_RUN_ID, "red red green the")
    k = payload["k"]
    for t in range(payload["n"]):
        assert sum(payload["probs"][t * k:(t + 1) * k]) == pytest.approx(1.0, abs=5e-3)


def test_unknown_words_are_flagged_and_announced(app_ctx):
    payload = trajectory_for(TINY_RUN_ID, "red zebra green quux")
    assert payload["unk"] == [1, 3]
    assert "2 words not in this model's vocabulary" in payload["notice"]


def test_text_without_a_known_word_says_so_instead_of_a_confident_prediction(app_ctx):
    payload = trajectory_for(TINY_RUN_ID, "🙂 🙃 zebra")
    assert payload["n"] == 3 and payload["unk"] == [0, 1, 2]
    assert "confident" not in payload["prediction"]
    assert "No word of this text is in the model's vocabulary" in payload["prediction"]


@pytest.mark.parametrize("text", ["", "   \n\t ", None, 42])
def test_empty_or_wrong_type_text_gives_a_hint(app_ctx, text):
    payload = trajectory_for(TINY_RUN_ID, text)
    assert payload["n"] == 0 and payload["xyz"] == []
    assert "Type or paste" in payload["notice"]


def test_long_text_is_capped_with_a_notice(app_ctx):
    payload = trajectory_for(TINY_RUN_ID, "red green " * 1500)
    assert payload["n"] == 2000 and payload["truncated"]
    assert "first 2,000 tokens" in payload["notice"]


def test_huge_paste_is_clipped_not_crashing(app_ctx):
    payload = trajectory_for(TINY_RUN_ID, "x" * 150_000 + " red")
    assert payload["truncated"] and payload["n"] >= 1


def test_hostile_text_is_returned_as_plain_tokens(app_ctx):
    payload = trajectory_for(TINY_RUN_ID, "<script>alert(1)</script> 😀 مرحبا \x00\x07 e\u0301")
    assert "<" in payload["tokens"] and "script" in payload["tokens"]
    assert all("\x00" not in tok and "\x07" not in tok for tok in payload["tokens"])
    json.dumps(payload)  # serializable as-is


def test_update_for_a_100_word_text_is_small(app_ctx):
    text = " ".join(["red", "green", "the", "and", "of"] * 20)
    payload = trajectory_for(TINY_RUN_ID, text)
    assert payload["n"] == 100
    assert len(json.dumps(payload)) < 10_000


def test_broken_bundle_gives_a_message_not_an_exception(app_ctx):
    view = load_model_view(BROKEN_RUN_ID)
    assert "cannot be loaded" in view.message and "config.json" in view.message
    assert trajectory_for(BROKEN_RUN_ID, "red")["n"] == 0


@pytest.mark.parametrize("run_id", ["../etc", "/etc/passwd", "no-such-model", "A B"])
def test_bad_model_ids_never_touch_the_filesystem_outside_the_store(app_ctx, run_id):
    view = load_model_view(run_id)
    assert view.message
    assert trajectory_for(run_id, "red")["n"] == 0


def test_model_view_carries_run_id_and_trace_roles(app_ctx):
    view = load_model_view(TINY_RUN_ID)
    meta = view.figure["layout"]["meta"]
    assert meta["run_id"] == TINY_RUN_ID
    assert view.figure["data"][meta["trajectory"]]["name"] == "your text"
    assert view.info["class_names"] == ["red", "green"] and len(view.info["colors"]) == 2
    assert not view.message


def test_switching_model_keeps_user_text_but_replaces_old_examples():
    old = {"examples": ["red red", "green"]}
    assert next_text_for_model("red red", old, ["a film", "a dull film"]) == "a film"
    assert next_text_for_model("", old, ["a film", "a dull film"]) == "a film"
    assert next_text_for_model("my own words", old, ["a film"]) is dash.no_update


def test_payload_matches_bundle_trajectory(app_ctx, analyzed_store):
    from core import store

    bundle = store.load_path(analyzed_store / TINY_RUN_ID)
    traj = bundle.trajectory("green red red")
    payload = trajectory_payload(bundle, "green red red", 2000, 100_000)
    assert payload["xyz"] == pytest.approx(traj.xyz_tx3.ravel().tolist(), abs=1e-3)


@pytest.mark.parametrize("view", ["2d", "3d"])
def test_cloud_and_overlay_line_up_and_split_the_points(app_ctx, analyzed_store, view):
    """The cloud graph holds every visited state; the overlay holds the rest, with the cloud's classes as
    point-less legend entries; both have the same fixed margins and axis ranges, so they coincide."""
    import numpy as np
    from core import store

    bundle = store.load_path(analyzed_store / TINY_RUN_ID)
    state = load_model_view(TINY_RUN_ID, view)
    cloud, overlay = state.cloud_figure, state.figure
    k = overlay["layout"]["meta"]["cloud_proxies"]
    assert k == len(bundle.class_names) + 1 == len(cloud["data"]) == overlay["layout"]["meta"]["slow_points"] + 1
    assert sum(len(np.atleast_1d(t["x"]) if not isinstance(t["x"], dict) else go_decode(t["x"]))
               for t in cloud["data"][:-1]) == len(bundle.analysis.attractor.cloud_xyz_bx3)
    assert cloud["data"][-1]["name"] == "slow points"
    assert all(all(v is None for v in t["x"]) for t in overlay["data"][:k])
    assert cloud["layout"]["margin"] == overlay["layout"]["margin"] and cloud["layout"]["margin"]["autoexpand"] is False
    axes = ("xaxis", "yaxis", "zaxis") if view == "3d" else ("xaxis", "yaxis")
    for axis in axes:
        lay_c = cloud["layout"]["scene"][axis] if view == "3d" else cloud["layout"][axis]
        lay_o = overlay["layout"]["scene"][axis] if view == "3d" else overlay["layout"][axis]
        assert lay_c["range"] == lay_o["range"] and lay_c["autorange"] is False is lay_o["autorange"]
    if view == "3d":
        assert cloud["layout"]["scene"]["aspectratio"] == overlay["layout"]["scene"]["aspectratio"]
        assert cloud["layout"]["scene"]["camera"] == overlay["layout"]["scene"]["camera"]
    meta = overlay["layout"]["meta"]
    assert overlay["data"][meta["trajectory"]]["name"] == "your text" and overlay["layout"]["paper_bgcolor"] == "rgba(0,0,0,0)"


def go_decode(arr) -> list:
    """Plotly's base64 typed-array form ({dtype, bdata}) back to a list."""
    import base64

    import numpy as np
    return np.frombuffer(base64.b64decode(arr["bdata"]), dtype=arr["dtype"]).tolist()

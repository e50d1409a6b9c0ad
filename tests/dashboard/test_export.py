"""Explore's server-side exports (dashboard/figures_export.py, components/export_buttons.py): each file parses as
its format and holds what it claims; the browser's PNG/SVG are in tests/e2e/test_export.py."""
from __future__ import annotations

import base64
import csv
import io
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from core import store
from dashboard import figures_export as fx
from dashboard.components.export_buttons import export_filename, make_export
from tests.conftest import TINY_RUN_ID

TEXT = "red red the green and red"


@pytest.fixture(scope="module")
def analyzed(analyzed_store):
    bundle = store.load_path(analyzed_store / TINY_RUN_ID)
    return bundle, bundle.trajectory(TEXT)


def test_csv_has_a_row_per_token_and_the_trajectorys_numbers(analyzed):
    bundle, traj = analyzed
    rows = list(csv.DictReader(io.StringIO(fx.trajectory_csv(traj, bundle.class_names))))
    assert list(rows[0]) == fx.csv_columns(bundle.class_names)
    assert [r["token"] for r in rows] == traj.tokens and len(rows) == len(traj.tokens)
    pcs = np.array([[float(r[f"pc{i}"]) for i in (1, 2, 3)] for r in rows])
    np.testing.assert_allclose(pcs, traj.xyz_tx3, rtol=1e-5, atol=1e-5)
    probs = np.array([[float(r[f"p_{n}"]) for n in bundle.class_names] for r in rows])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    np.testing.assert_allclose([float(r["evidence"]) for r in rows], traj.evidence_t, rtol=1e-5, atol=1e-6)
    assert [int(r["position"]) for r in rows] == list(range(1, len(traj.tokens) + 1))


def test_csv_defuses_spreadsheet_formulas(analyzed):
    bundle, traj = analyzed
    from dataclasses import replace
    evil = replace(traj, tokens=["=cmd|'/c calc'!a1", "+1", "@sum", *traj.tokens[3:]])
    rows = list(csv.DictReader(io.StringIO(fx.trajectory_csv(evil, bundle.class_names))))
    assert [r["token"] for r in rows[:3]] == ["'=cmd|'/c calc'!a1", "'+1", "'@sum"]


@pytest.mark.parametrize("three_d", [False, True])
def test_html_is_standalone_and_holds_the_figure_with_the_path(analyzed, three_d):
    bundle, traj = analyzed
    view = {"camera": {"eye": {"x": 2.0, "y": 0.1, "z": 0.3}}} if three_d else {"xaxis": [-1, 1], "yaxis": [-2, 2]}
    fig = fx.export_figure(bundle.analysis, bundle.class_names, False, traj, TINY_RUN_ID, three_d, view)
    page = fx.figure_html(fig)
    assert page.lstrip().lower().startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    assert not re.search(r"<script[^>]*\bsrc=", page)                  # plotly.js inlined, no network
    assert "Plotly.newPlot" in page and len(page) > 1_000_000        # the library itself is in the file
    path = next(t for t in fig.data if t.name == "your text")
    np.testing.assert_allclose(np.asarray(path.x, float), traj.xyz_tx3[:, 0], rtol=1e-6)
    assert '"your text"' in page and f"#{len(traj.tokens)} red" in page and TINY_RUN_ID in page
    if three_d:
        assert fig.layout.scene.camera.eye.x == 2.0
    else:
        assert list(fig.layout.xaxis.range) == [-1.0, 1.0]


def test_html_shows_a_hostile_text_as_text(analyzed):
    bundle, _ = analyzed
    traj = bundle.trajectory("</script><script>alert(1)</script> red")
    page = fx.figure_html(fx.export_figure(bundle.analysis, bundle.class_names, False, traj, TINY_RUN_ID, False))
    assert "<script>alert(1)" not in page


@pytest.mark.parametrize("state, three_d, expected", [
    (None, True, {}), ("x", False, {}), ({"camera": {"eye": {"x": float("nan"), "y": 0, "z": 0}}}, True, {}),
    ({"camera": {"eye": {"x": 1, "y": 2, "z": 3}, "up": {"x": "a"}}}, True,
     {"camera": {"eye": {"x": 1.0, "y": 2.0, "z": 3.0}}}),
    ({"xaxis": [0, 1], "yaxis": [2, 2]}, False, {"xaxis": [0.0, 1.0]}),
    ({"xaxis": [True, 1]}, False, {}),
])
def test_view_state_keeps_only_finite_numbers(state, three_d, expected):
    assert fx.safe_view_state(state, three_d) == expected


def test_frame_ends_cover_every_token_or_cap_the_frames():
    assert fx.gif_frame_ends(0) == []
    assert fx.gif_frame_ends(5) == [1, 2, 3, 4, 5]
    ends = fx.gif_frame_ends(2000, 60)
    assert len(ends) == 60 and ends[0] == 1 and ends[-1] == 2000 and ends == sorted(set(ends))


@pytest.mark.parametrize("three_d", [False, True])
def test_gif_has_one_frame_per_token_and_loops(analyzed, three_d):
    bundle, traj = analyzed
    gif = fx.trajectory_gif(bundle.analysis, bundle.class_names, False, traj, three_d)
    assert gif[:6] == b"GIF89a"
    image = Image.open(io.BytesIO(gif))
    assert image.n_frames == len(traj.tokens) and image.size == fx.GIF_SIZE_PX
    assert image.info.get("loop") == 0
    image.seek(0)
    first = np.asarray(image.convert("RGB"), dtype=np.int16)
    image.seek(image.n_frames - 1)
    last = np.asarray(image.convert("RGB"), dtype=np.int16)
    assert np.abs(first - last).sum() > 0  # the path grows: frames differ


def test_gif_caps_its_frames(analyzed):
    bundle, _ = analyzed
    traj = bundle.trajectory(" ".join(["red green the"] * 10))
    gif = fx.trajectory_gif(bundle.analysis, bundle.class_names, False, traj, False, max_frames=7)
    assert Image.open(io.BytesIO(gif)).n_frames == 7


def test_filename_is_safe():
    assert export_filename("gru-imdb", "Not good, at ALL!", "csv") == "gru-imdb_not-good-at-all.csv"
    assert export_filename("m", "../../etc/passwd", "gif") == "m_etc-passwd.gif"
    assert re.fullmatch(r"m_text\.html", export_filename("m", "¿¡", "html"))


@pytest.mark.parametrize("kind, check", [
    ("csv", lambda raw: raw.decode().startswith("position,token")),
    ("html", lambda raw: b"Plotly.newPlot" in raw),
    ("gif", lambda raw: Image.open(io.BytesIO(raw)).format == "GIF"),
])
def test_make_export_answers_a_download(app_ctx, kind, check):
    data, status = make_export(kind, TINY_RUN_ID, TEXT, "2d", {"xaxis": [0, 1], "yaxis": [0, 1]})
    raw = base64.b64decode(data["content"]) if data["base64"] else data["content"].encode()
    assert check(raw) and data["filename"].endswith("." + kind) and status.startswith("Saved")


@pytest.mark.parametrize("kind, run_id, text, words", [
    ("csv", TINY_RUN_ID, "   ", "no text"), ("csv", None, TEXT, "no model"), ("pdf", TINY_RUN_ID, TEXT, ""),
    ("gif", "no-such-model", TEXT, "no-such-model"), ("csv", TINY_RUN_ID, 42, "no text"),
])
def test_make_export_refuses_in_one_sentence(app_ctx, kind, run_id, text, words):
    data, status = make_export(kind, run_id, text, "2d", None)
    assert data is None
    assert words in status.lower() if words else status == ""
    assert "Traceback" not in status and "\n" not in status


@given(state=st.recursive(st.one_of(st.none(), st.booleans(), st.floats(), st.integers(), st.text(max_size=4)),
                          lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                  st.dictionaries(st.sampled_from(["camera", "eye", "up", "center",
                                                                                   "x", "y", "z", "xaxis", "yaxis"]),
                                                                  inner, max_size=4)), max_leaves=12),
       three_d=st.booleans())
@settings(max_examples=200, deadline=None)
def test_any_view_state_gives_only_finite_numbers(state, three_d):
    view = fx.safe_view_state(state, three_d)
    numbers = [v for part in view.get("camera", {}).values() for v in part.values()] if three_d else \
        [v for r in view.values() for v in r]
    assert all(isinstance(v, float) and np.isfinite(v) for v in numbers)
    assert set(view) <= ({"camera"} if three_d else {"xaxis", "yaxis"})

"""Lesson mode's tours (dashboard/tours.py, tours/*.json) and page (dashboard/pages/lesson.py): bad tours are
refused in one sentence; the shipped tours load, and what their captions say is true of the bundled models."""
from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest

from core import store
from dashboard.tours import TourError, list_tours, load_tour, parse_tour, tour_step_index
from tests.conftest import TINY_RUN_ID

REPO = Path(__file__).resolve().parents[2]
REAL_STORE = REPO / "models_store"
SHIPPED = ("line-attractor", "negation", "triangle")
STEP = {"model": "m", "text": "good", "view": "2d", "caption": "A caption."}


def _tour(**changes) -> str:
    return json.dumps({"title": "T", "steps": [{**STEP, **changes}]})


def test_a_valid_tour_parses():
    tour = parse_tour("t", _tour(tokens=2, check={"predicted": "positive"}), known_models={"m"})
    assert tour.title == "T" and tour.steps[0].tokens == 2 and tour.steps[0].check == {"predicted": "positive"}
    assert parse_tour("t", _tour()).steps[0].tokens is None  # "all" by default


@pytest.mark.parametrize("raw, words", [
    ("{not json", "not valid json"),
    (json.dumps({"title": "T"}), "list of steps"),
    (json.dumps({"title": "T", "steps": []}), "between 1 and"),
    (json.dumps({"title": "T", "steps": [STEP], "extra": 1}), "unknown fields extra"),
    (_tour(model="nope"), "model 'nope', which is not in this store"),
    (_tour(view="4d"), "view '4d'"),
    (_tour(tokens=-1), "tokens -1"),
    (_tour(tokens=True), "tokens true"),
    (_tour(caption=""), "caption"),
    (_tour(caption="x" * 5000), "at most"),
    (_tour(text=7), "text"),
    (_tour(colour="red"), "unknown fields colour"),
    (_tour(check={"predicted": 1}), "check"),
    (json.dumps({"title": "T", "steps": ["a step"]}), "not an object"),
])
def test_bad_tours_are_refused_in_one_sentence(raw, words):
    with pytest.raises(TourError) as err:
        parse_tour("t", raw, known_models={"m"})
    message = str(err.value)
    assert words in message.lower() and "\n" not in message and message.endswith(".")


@pytest.mark.parametrize("slug, words", [("../etc/passwd", "lower-case"), ("Line", "lower-case"), (None, "lower-case"),
                                         ("no-such-tour", "no tour named 'no-such-tour'; the tours are: ")])
def test_tour_names_are_checked_before_any_path(slug, words):
    with pytest.raises(TourError, match=words.replace("(", r"\(")):
        load_tour(slug)


@pytest.mark.parametrize("step, expected", [(None, (0, "")), ("1", (0, "")), ("5", (4, "")), (3, (2, ""))])
def test_step_numbers_count_from_one(step, expected):
    assert tour_step_index(step, 5) == expected


@pytest.mark.parametrize("step", ["0", "6", "-1", "two", "1e9"])
def test_a_bad_step_is_explained_and_the_first_shown(step):
    index, message = tour_step_index(step, 5)
    assert index == 0 and "steps 1 to 5" in message and "showing step 1" in message


def test_the_three_tours_ship_and_load():
    assert set(SHIPPED) <= set(list_tours())
    for slug in SHIPPED:
        assert 3 <= len(load_tour(slug).steps) <= 8


def test_the_lesson_page_explains_a_bad_tour(app_ctx):
    from dashboard.pages import lesson
    text = str(lesson.layout(tour="no-such-tour"))
    assert "There is no tour named 'no-such-tour'" in text
    text = str(lesson.layout(tour="line-attractor"))  # its model is not in the test store
    assert "uses the model 'gru-imdb', which is not in this store" in text
    text = str(lesson.layout(model="nope", text="red green"))
    assert "There is no model named 'nope'" in text


def test_a_tour_step_sets_model_text_view_caption_and_links_its_neighbours(app_ctx, tmp_path, monkeypatch):
    from dash import dcc

    from dashboard import ids, tours
    from dashboard.pages import lesson
    steps = [{"model": TINY_RUN_ID, "text": f"red green red {'the ' * i}", "caption": f"Caption {i}.", "tokens": i}
             for i in range(1, 4)]
    (tmp_path / "tiny-tour.json").write_text(json.dumps({"title": "Tiny tour", "steps": steps}))
    monkeypatch.setattr(tours, "TOURS_DIR", tmp_path)
    page = lesson.layout(tour="tiny-tour", step="2")
    found = {}

    def walk(node):
        if getattr(node, "id", None):
            found[node.id] = node
        if isinstance(node, dcc.Link):
            found.setdefault("links", []).append((node.children, node.href))
        children = getattr(node, "children", None)
        for child in children if isinstance(children, list) else [children] if children is not None else []:
            walk(child)

    walk(page)
    assert found[ids.LESSON_CAPTION].children == "Caption 2." and not found[ids.LESSON_CAPTION].hidden
    assert found[ids.LESSON_STEP].data == 2 and found[ids.LESSON_TOUR_STEP].children == "step 2 / 3"
    assert found[ids.LESSON_DATA].data[TINY_RUN_ID]["tokens"] == ["red", "green", "red", "the", "the"]
    hrefs = dict(found["links"])
    assert hrefs["◀ back"] == "/lesson?tour=tiny-tour&step=1" and hrefs["next ▶"] == "/lesson?tour=tiny-tour&step=3"
    assert found[ids.LESSON_MESSAGE].hidden
    assert lesson.layout(tour="tiny-tour", step="3").children[2].data == 3


# ---- the captions, checked on the bundled models -----------------------------------------------------------

def _real(run_id: str):
    if not (REAL_STORE / run_id / "analysis.npz").exists():
        pytest.skip(f"{run_id} is not in {REAL_STORE}")
    return _load(run_id)


@functools.cache
def _load(run_id: str):
    return store.load_path(REAL_STORE / run_id)  # read-only use: one load per model for the whole module


@pytest.mark.parametrize("slug", SHIPPED)
def test_every_step_holds_on_the_bundled_models(slug):
    real = {p.name for p in REAL_STORE.iterdir() if (p / "analysis.npz").exists()}
    tour = load_tour(slug, known_models=real)
    for step in tour.steps:
        bundle = _real(step.model)
        traj = bundle.trajectory(step.text)
        assert all(traj.known), f"{slug}: a word of {step.text!r} is unknown to {step.model}"
        if "predicted" in step.check:
            assert bundle.class_names[traj.predicted] == step.check["predicted"], (slug, step.text)


def _pc1(bundle, text):
    return bundle.trajectory(text).xyz_tx3[:, 0]


def test_line_attractor_captions():
    bundle = _real("gru-imdb")
    att, fps, names = bundle.analysis.attractor, bundle.analysis.fixed_points, bundle.class_names
    assert bundle.analysis.pca.explained_variance_ratio_c_[0] > 0.5                    # "more than half"
    pos, neg = names.index("positive"), names.index("negative")
    left = np.sign(att.readout_pc_kx3[neg, 0] - att.readout_pc_kx3[pos, 0]) > 0       # "positive (left) side"
    assert left
    wonderful, terrible = _pc1(bundle, "a wonderful film"), _pc1(bundle, "a terrible film")
    assert wonderful[1] - wonderful[0] < -0.5 and terrible[1] - terrible[0] > 0.5      # opposite directions
    mixed = _pc1(bundle, "the acting was superb but the plot was awful, a waste of time")
    awful = 8
    assert mixed[3] < -1.0 and mixed[awful] < 0 < mixed[-1]                         # far left, then back across
    assert mixed[awful] - mixed[awful - 1] > 0.5                                    # 'awful' moves it part of the way
    stable = fps.is_converged_p & fps.is_stable_p
    ends = np.sort(att.fp_xyz_px3[stable, 0])
    line = bundle.analysis.slow_line.xyz_px3[:, 0]
    assert len(ends) == 2 and line.min() < ends[0] < 0 < ends[1] < line.max()          # on the line, one each side
    gaps = np.linalg.norm(att.fp_xyz_px3[stable][:, None] - bundle.analysis.slow_line.xyz_px3[None], axis=2).min(1)
    assert gaps.max() < 0.1 * (line.max() - line.min())                               # "sit on the line"
    assert np.median(bundle.analysis.slow_line.top_eig_p) > 0.99                      # "|λ| close to 1"


def test_triangle_captions():
    bundle = _real("gru-cat3")
    att, fps, names = bundle.analysis.attractor, bundle.analysis.fixed_points, bundle.class_names
    assert bundle.analysis.pca.explained_variance_ratio_c_[:2].sum() > 0.6            # "most of the variance"
    stable_xy = att.fp_xyz_px3[fps.is_converged_p & fps.is_stable_p, :2]
    unstable_xy = att.fp_xyz_px3[fps.is_converged_p & ~fps.is_stable_p, :2]
    assert len(stable_xy) == 3

    def corner(xy):
        return int(np.argmin(np.linalg.norm(stable_xy - xy, axis=1)))

    corners = [corner(bundle.trajectory(" ".join([c] * 6)).xyz_tx3[-1, :2]) for c in names]
    assert sorted(corners) == [0, 1, 2]                                                  # one corner per colour
    mixed = bundle.trajectory("the red and the green and the blue")
    end = mixed.xyz_tx3[-1, :2]
    assert mixed.probs_txk[-1].max() < 0.6                                               # undecided
    assert np.linalg.norm(unstable_xy - end, axis=1).min() < np.linalg.norm(stable_xy - end, axis=1).min() / 3
    steps = np.linalg.norm(np.diff(mixed.xyz_tx3[:, :2], axis=0), axis=1)
    filler = [i + 1 for i, t in enumerate(mixed.tokens[1:]) if t in ("the", "and")]
    colour = [i + 1 for i, t in enumerate(mixed.tokens[1:]) if t in names]
    assert steps[[i - 1 for i in filler]].mean() < 0.5 * steps[[i - 1 for i in colour]].mean()  # barely move
    race = bundle.trajectory("red red green green green blue").xyz_tx3[:, :2]
    assert names[corners.index(corner(race[1]))] == "red" and names[corners.index(corner(race[-1]))] == "green"


def test_negation_captions():
    bundle = _real("gru-imdb")
    pos = bundle.class_names.index("positive")

    def p_pos(text):
        return bundle.trajectory(text).probs_txk[:, pos]

    assert _pc1(bundle, "good")[0] < 0 < _pc1(bundle, "not")[0]    # 'good' to the positive (left) side, 'not' right
    not_good = p_pos("not good")
    assert not_good[0] < 0.5 and not_good[1] <= not_good[0]        # 'not' negative; 'good' does not bring it back
    plain, negated = p_pos("the movie was good"), p_pos("the movie was not good")
    assert plain[3] > plain[2] and negated[4] <= negated[3]        # 'good' raises it, except after 'not'
    not_bad = p_pos("not bad")
    assert not_bad[1] < not_bad[0] < 0.5                            # 'not bad' ends negative: no flip

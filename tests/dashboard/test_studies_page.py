"""The Studies page as functions: a study's claim, figures, measured answer and table from its summary; empty
and error states; clicks that open Explore; study jobs queued from the page."""
from __future__ import annotations

import pytest

from core.studies import STUDIES, summary_path, write_summary
from dashboard.figures_studies import explore_href, study_figures
from tests.dashboard.test_models_page import _text


def width_summary() -> dict:
    return {"version": 1, "name": "width", "title": "Width sweep", "claim": "x", "runtime_s": 120.0,
            "machine": "2 CPU cores", "points": [
                {"run_id": f"st-width-negation-{c}{u}-s0", "cell": c, "units": u, "task": "negation", "seed": 0,
                 "test_accuracy": 0.9, "heldout_accuracy": 0.8, "weight_distance": 2.0 / u ** 0.5, "dims95": 4,
                 "n_fixed_points": 3, "n_stable": 2, "train_s": 30.0, "analysis_s": 5.0,
                 "example": "the film was not good"} for c in ("tanh", "gru") for u in (16, 64)]}


@pytest.fixture
def page(app_ctx, tmp_path, monkeypatch):
    from dashboard.pages import studies

    monkeypatch.setattr(studies, "summary_stores", lambda: (tmp_path,))
    return studies


def test_a_study_shows_its_claim_figures_answer_and_table(page, tmp_path):
    write_summary(tmp_path, width_summary())
    text = _text(page.layout(study="width"))
    assert "Claim tested:" in text and STUDIES["width"].claim in text
    assert "weight distance ~ width^-0.50, lazier with width" in text   # computed from the numbers above
    assert "weight distance" in text and "n fixed points" in text    # the table's header
    figures = study_figures(width_summary())
    assert len(figures) == 4
    trace = figures[1].data[0]
    assert figures[1].layout.yaxis.type == "log" and figures[1].layout.xaxis.type == "log"
    assert list(trace.customdata[0]) == ["st-width-negation-tanh16-s0", "the film was not good"]


def test_empty_unknown_and_damaged_studies(page, tmp_path):
    assert "has not been run here yet" in _text(page.layout(study="relu-tanh"))
    assert "start it below" in _text(page.study_body("width-large"))
    text = _text(page.layout(study="../../etc"))
    assert "There is no study named '../../etc'; showing cells." in text
    path = summary_path("cells", tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{broken")
    assert "cannot be read" in _text(page.show_study("cells"))
    assert "Claim tested:" in _text(page.show_study({"not": "a name"}))   # a tampered value shows the default


@pytest.mark.parametrize("click, href", [
    ({"points": [{"customdata": ["st-cells-bigram-mrnn32-s0", "sun rise & moon"]}]},
     "/?model=st-cells-bigram-mrnn32-s0&text=sun+rise+%26+moon"),
    ({"points": [{"customdata": ["m", ""]}]}, "/?model=m"),
    ({"points": [{"customdata": "x"}]}, None), ({"points": []}, None), (None, None), ("junk", None),
    ({"points": [{"customdata": [3, "x"]}]}, None),
])
def test_a_clicked_point_opens_explore(page, click, href):
    assert page.clicked_href(click) == href


def test_explore_href_caps_what_it_carries():
    href = explore_href(["a" * 100, "b" * 1000])
    assert href.count("a") == 64 and href.count("b") == 500


def test_run_study_queues_a_job_the_page_lists(page, monkeypatch):
    from dashboard import jobs
    from dashboard.runtime import settings

    launched = []
    monkeypatch.setattr(jobs.JobLauncher, "launch", lambda self, job_id: launched.append(job_id))
    monkeypatch.setattr(jobs.JobLauncher, "dispatch", lambda self: None)
    assert "Pick a study" in page.run_study_job(1, "nope")
    # the server's time limit (60 min by default) applies to each model: 1024 units is over it
    assert "over this server's limit of 60 min" in page.run_study_job(1, "width-large") and not launched
    message = page.run_study_job(1, "relu-tanh")
    assert message.startswith("Queued study relu-tanh") and len(launched) == 1
    cards = _text(page.show_jobs(1))
    assert "study-relu-tanh" in cards and "waiting" in cards
    assert "exists or is being trained" in page.run_study_job(1, "relu-tanh") and len(launched) == 1
    settings().job_registry().update(launched[0], state="succeeded", stage="done", progress=1.0)
    done = page.show_jobs(2)
    assert "Open in Studies" in _text(done) and "/studies?study=relu-tanh" in str(done)
    settings().job_registry().delete(launched[0])

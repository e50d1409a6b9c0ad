"""Job cards, the live training curve and the table of user-trained runs (Train page)."""
from __future__ import annotations

from dash import dcc, html

from core.job_registry import ACTIVE_STATES, JobStatus, queue_positions
from dashboard import ids
from dashboard.figures import FONT
from dashboard.runtime import bundles

__all__ = ["job_cards", "loss_figure", "curve_job", "curve_options", "user_runs_table", "runs_signature"]

STATE_LABELS = {"queued": "waiting", "running": "running", "succeeded": "done", "failed": "failed",
                "cancelled": "cancelled"}
MAX_CARDS = 8


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def _card(job: JobStatus, position: int, mine: bool) -> html.Div:
    pct = int(round(100 * job.progress))
    details = [html.B(job.run_id), html.Span(f" · {STATE_LABELS.get(job.state, job.state)}", className=f"state {job.state}")]
    if job.state == "running":
        details.append(html.Span(f" · {job.stage} · elapsed {_duration(job.elapsed_s)} · "
                                 f"about {_duration(job.remaining_s)} left"))
    elif job.state == "queued":
        details.append(html.Span(f" · position {position} in the queue (estimated {_duration(job.estimate_s)})"))
    actions = []
    if job.state in ACTIVE_STATES and not job.cancel_requested and mine:
        actions.append(html.Button("Cancel", id={"type": ids.JOB_CANCEL, "index": job.job_id}, className="small-button"))
    if job.state == "succeeded":
        study = job.config.get("study") if isinstance(job.config, dict) else None
        page, href = ("Studies", f"/studies?study={study}") if isinstance(study, str) else \
            _page_of(getattr(job, "kind", "classifier"), job.run_id)
        actions.append(dcc.Link(f"Open in {page} →", href=href, className="job-link"))
    return html.Div(className=f"job-card {job.state}", id=ids.job_card(job.job_id), children=[
        html.Div(details + actions, className="job-line"),
        html.Div(className="progress", children=[html.Div(className="progress-bar", style={"width": f"{pct}%"})],
                 title=f"{pct}%", **{"data-progress": str(pct)}),
        html.Div(job.message, className="job-message") if job.message else None,
    ])


def _page_of(kind: str, run_id: str) -> tuple[str, str]:
    """The page that opens a finished run, and its address: Attention for an encoder-decoder, else Explore."""
    return ("Attention", f"/attention?model={run_id}") if kind == "seq2seq" else ("Explore", f"/?model={run_id}")


def job_cards(jobs: list[JobStatus], owner: str) -> html.Div | str:
    """The latest jobs, newest first; only the jobs ``owner`` (this browser session) queued can be cancelled."""
    if not jobs:
        return html.P("No jobs yet: fill in the form and press Start.", className="note")
    positions = queue_positions(jobs)
    return html.Div([_card(j, positions.get(j.job_id, 0), bool(owner) and j.owner == owner)
                     for j in reversed(jobs[-MAX_CARDS:])])


def curve_job(jobs: list[JobStatus], picked) -> JobStatus | None:
    """The job whose curves the Train page shows: the one picked in its list if it is still there, else the
    running one, else the latest (so a finished job's curve stays up until another starts or is picked)."""
    chosen = next((j for j in jobs if isinstance(picked, str) and j.job_id == picked), None)
    return chosen or next((j for j in reversed(jobs) if j.state == "running"), jobs[-1] if jobs else None)


def curve_options(jobs: list[JobStatus]) -> list[dict]:
    """The recent jobs, newest first, as the options of the "curves of" picker."""
    return [{"label": f"{j.run_id} · {STATE_LABELS.get(j.state, j.state)}", "value": j.job_id}
            for j in reversed(jobs[-MAX_CARDS:])]


def loss_figure(job: JobStatus | None) -> dict:
    """The training curves as figure JSON: the Train page redraws it on every poll, and validating a
    go.Figure would cost ~50 ms each time. Without a job: no axes at all (the page shows an empty state)."""
    curve = job.curve if job else []
    steps = [p.get("step") for p in curve]
    # an encoder-decoder is validated on whole decoded sequences (core.seq2seq.training: exact match)
    measure = "exact match" if job is not None and job.kind == "seq2seq" else "accuracy"
    return {"data": [
        {"type": "scatter", "x": steps, "y": [p.get("train_loss") for p in curve], "name": "training loss",
         "mode": "lines+markers"},
        {"type": "scatter", "x": steps, "y": [p.get("val_accuracy") for p in curve], "name": f"validation {measure}",
         "mode": "lines+markers", "yaxis": "y2"},
    ], "layout": {
        "height": 260, "margin": dict(l=50, r=50, t=30, b=40), "font": dict(FONT, size=12),
        "title": dict(text=f"{job.run_id}" if job else "training curves appear here", font=dict(size=13)),
        "xaxis": dict(title=dict(text="step"), gridcolor="#EEE", tickformat="d"),
        "yaxis": dict(title=dict(text="loss"), gridcolor="#EEE", rangemode="tozero"),
        "yaxis2": dict(title=dict(text=f"val. {measure}"), overlaying="y", side="right", range=[0, 1], dtick=0.25,
                       tickformat=".0%", showgrid=False),
        "legend": dict(orientation="h", y=-0.3), "plot_bgcolor": "white", "paper_bgcolor": "white",
        "uirevision": "curve",
        **({} if job else {"xaxis": {"visible": False}, "yaxis": {"visible": False},
                           "yaxis2": {"visible": False, "overlaying": "y"}, "showlegend": False}),
    }}


def runs_signature(owner: str) -> list:
    """What the runs table shows to ``owner``, to redraw it only when that changes."""
    return [[s.run_id, s.ok, s.has_analysis, s.owner == owner] for s in bundles().summaries() if not s.bundled]


def _accuracy(metrics: dict) -> str:
    """The test accuracy, or a dash for a model that has none (an imported one)."""
    acc = metrics.get("test_accuracy")
    return f"{acc:.1%}" if isinstance(acc, float) else "—"


def user_runs_table(owner: str) -> html.Div:
    """Every user-trained run; the ones ``owner`` (this browser session) trained have a Delete button."""
    rows = [s for s in bundles().summaries() if not s.bundled]
    if not rows:
        return html.P("Models you train appear here; the bundled ones are read-only.", className="note")
    body = [html.Tr([html.Td(html.B(s.run_id)), html.Td(s.task or "—"), html.Td(f"{s.cell.upper()}-{s.units}" if s.ok else "—"),
                     html.Td(_accuracy(s.metrics) if s.ok else s.reason),
                     html.Td(dcc.Link(*_page_of(s.kind, s.run_id)) if s.ok and s.has_analysis else ""),
                     html.Td(_delete_control(s.run_id) if owner and s.owner == owner else "")])
            for s in rows]
    header = html.Tr([html.Th(h) for h in ("Run", "Task", "Cell", "Test accuracy", "", "")])
    return html.Table([html.Thead(header), html.Tbody(body)], className="models-table")


def _delete_control(run_id: str) -> html.Details:
    """Delete in two steps: "Delete…" opens a confirmation with the button that really deletes (no browser dialog)."""
    return html.Details(className="delete-confirm", children=[
        html.Summary("Delete…", className="small-button", style={"display": "inline-block", "cursor": "pointer"}),
        html.Span(f"Delete {run_id} for good? ", className="note"),
        html.Button("Yes, delete", id={"type": ids.RUN_DELETE, "index": run_id}, className="small-button danger"),
    ])

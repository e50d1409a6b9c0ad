"""Pure figure builders for the Studies page: one builder per study kind, from a study summary
(``core.studies``) to Plotly figures. Every point carries ``customdata = [run_id, example]`` so a click can
open that model on Explore with the task's example."""
from __future__ import annotations

import math
from urllib.parse import urlencode

import plotly.graph_objects as go

from dashboard.figures import FONT, PALETTE

__all__ = ["CELL_COLORS", "study_figures", "explore_href", "RULE_RATIO"]

CELL_COLORS = {"tanh": PALETTE[0], "relu": PALETTE[4], "gru": PALETTE[1], "lstm": PALETTE[2], "mrnn": PALETTE[3]}
CELL_ORDER = ("tanh", "relu", "gru", "lstm", "mrnn")
RULE_RATIO = {"negation": -1.0, "intensifiers": 2.0, "bigram": -1.0}  # what the task's rule says the ratio is
PERCENT = ".0%"


def explore_href(customdata) -> str | None:
    """The Explore link of a clicked point: its model and example text, or None for anything malformed."""
    if not isinstance(customdata, (list, tuple)) or len(customdata) != 2 or not isinstance(customdata[0], str):
        return None
    run_id, text = customdata[0][:64], str(customdata[1] or "")[:500]
    return "/?" + urlencode({"model": run_id, **({"text": text} if text else {})})


def _layout(fig: go.Figure, title: str, height: int = 340) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=60, r=20, t=40, b=50), font=dict(FONT, size=13),
                      plot_bgcolor="white", paper_bgcolor="white", title=dict(text=title, font=dict(size=14)),
                      legend=dict(title="cell"), clickmode="event")
    fig.update_xaxes(gridcolor="#EEE", zeroline=False)
    fig.update_yaxes(gridcolor="#EEE", zeroline=False)
    return fig


def _num(value) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


def _cells(points: list[dict]) -> list[str]:
    present = {p.get("cell") for p in points}
    return [c for c in CELL_ORDER if c in present] + sorted(c for c in present - set(CELL_ORDER) if isinstance(c, str))


def _custom(p: dict) -> list:
    return [p.get("run_id", ""), p.get("example", "")]


def _hover(label: str, fmt: str) -> str:
    return f"%{{customdata[0]}}<br>{label} %{{y:{fmt}}}<br><i>click: open on Explore</i><extra></extra>"


def _grouped_bars(points: list[dict], key: str, title: str, y_title: str, fmt: str, rule: dict | None = None):
    tasks = list(dict.fromkeys(p.get("task") for p in points))
    fig = go.Figure()
    for cell in _cells(points):
        mine = {p.get("task"): p for p in points if p.get("cell") == cell}
        rows = [mine[t] for t in tasks if t in mine]
        fig.add_bar(x=[p.get("task") for p in rows], y=[_num(p.get(key)) for p in rows], name=cell,
                    marker_color=CELL_COLORS.get(cell, "#777"), customdata=[_custom(p) for p in rows],
                    hovertemplate=_hover(y_title, fmt))
    for i, task in enumerate(tasks):
        if rule and task in rule:
            fig.add_shape(type="line", xref="x", x0=i - 0.45, x1=i + 0.45, y0=rule[task], y1=rule[task],
                          line=dict(color="#333", dash="dash"))
    _layout(fig, title).update_layout(barmode="group")
    fig.update_yaxes(title=y_title, tickformat=fmt if fmt == PERCENT else None)
    return fig


def _cells_figures(points: list[dict]) -> list[go.Figure]:
    acc = _grouped_bars(points, "test_accuracy", "Test accuracy", "accuracy", PERCENT)
    acc.update_yaxes(range=[0.4, 1.02])
    held = _grouped_bars(points, "heldout_accuracy", "Accuracy on held-out word combinations", "accuracy", PERCENT)
    held.update_yaxes(range=[0, 1.02])
    kick = _grouped_bars(points, "kick_ratio", "Kick of a sentiment word after the modifier / after a neutral word "
                         "(dashed: the rule)", "kick ratio", ".2f", RULE_RATIO)
    return [acc, held, kick]


def _by_width(points: list[dict], key: str, title: str, y_title: str, fmt: str, log_y: bool = False) -> go.Figure:
    fig = go.Figure()
    for cell in _cells(points):
        rows = sorted((p for p in points if p.get("cell") == cell), key=lambda p: _num(p.get("units")))
        fig.add_scatter(x=[p.get("units") for p in rows], y=[_num(p.get(key)) for p in rows], name=cell,
                        mode="lines+markers", marker=dict(size=10, color=CELL_COLORS.get(cell, "#777")),
                        line=dict(color=CELL_COLORS.get(cell, "#777")), customdata=[_custom(p) for p in rows],
                        hovertemplate=_hover(y_title, fmt))
    _layout(fig, title)
    fig.update_xaxes(title="hidden units", type="log", tickvals=sorted({p.get("units") for p in points}))
    fig.update_yaxes(title=y_title, type="log" if log_y else "linear", tickformat=fmt if fmt == PERCENT else None)
    return fig


def _width_figures(points: list[dict]) -> list[go.Figure]:
    return [_by_width(points, "test_accuracy", "Test accuracy vs width", "accuracy", PERCENT),
            _by_width(points, "weight_distance", "Relative distance of trained weights from initialization, |W−W₀|/|W₀| "
                      "(log–log)", "|W−W₀| / |W₀|", ".3f", log_y=True),
            _by_width(points, "dims95", "PCs for 95% of the visited states' variance", "dims for 95%", "d"),
            _by_width(points, "n_fixed_points", "Fixed points found", "fixed points", "d")]


def _relu_figures(points: list[dict]) -> list[go.Figure]:
    fig = go.Figure()
    for cell in _cells(points):
        rows = [p for p in points if p.get("cell") == cell]
        fig.add_scatter(x=[_num(p.get("neutral_bias")) for p in rows], y=[_num(p.get("kick_asymmetry")) for p in rows],
                        name=cell, mode="markers", marker=dict(size=12, color=CELL_COLORS.get(cell, "#777")),
                        customdata=[_custom(p) for p in rows], text=[f"seed {p.get('seed')}" for p in rows],
                        hovertemplate="%{customdata[0]} (%{text})<br>neutral bias %{x:.3f}<br>asymmetry %{y:.3f}"
                                      "<br><i>click: open on Explore</i><extra></extra>")
    _layout(fig, "Each model (one per seed): readout of neutral texts vs asymmetry of word kicks")
    fig.update_xaxes(title="neutral-text margin / mean |margin| (0 = unbiased)", zeroline=True, zerolinecolor="#999")
    fig.update_yaxes(title="(A₊ − A₋) / (A₊ + A₋)", zeroline=True, zerolinecolor="#999")
    return [fig]


def study_figures(summary: dict) -> list[go.Figure]:
    """The figures of one study summary (an empty list for a summary with no points)."""
    points = [p for p in summary.get("points", []) if isinstance(p, dict)]
    if not points:
        return []
    name = str(summary.get("name", ""))
    if name.startswith("width"):
        return _width_figures(points)
    if name == "relu-tanh":
        return _relu_figures(points)
    return _cells_figures(points)

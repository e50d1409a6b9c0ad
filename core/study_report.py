"""A study summary (``core.studies``) as text: its table and the measured answer to its claim.

Every sentence is computed from the summary's numbers (thresholds named below), never written in advance;
the CLI prints them and the Studies page shows them under each figure.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["TABLE_COLUMNS", "table_rows", "format_table", "answer", "ADDITIVE", "MULTIPLICATIVE"]

ADDITIVE, MULTIPLICATIVE = ("tanh", "relu"), ("mrnn", "gru", "lstm")
MARGIN = 0.05           # accuracy points by which one family must beat the other to count as "better"
LAZY_SLOPE = -0.2       # log-log slope of weight distance vs width below which training counts as lazier
LEARNED = 0.75          # test accuracy below which a width did not learn the task: left out of the slope
BIAS_FACTOR = 1.5       # ReLU's mean |bias| must exceed tanh's by this factor to support the claim
MIN_EFFECT = 0.1        # ... and be at least this large (10% of a typical margin; 10% asymmetry) to count at all
TABLE_COLUMNS = {
    "cells": ("task", "cell", "test_accuracy", "heldout_accuracy", "kick_ratio", "context_separation", "dims95",
              "n_fixed_points", "train_s"),
    "width": ("cell", "units", "test_accuracy", "heldout_accuracy", "weight_distance", "dims95", "n_fixed_points",
              "n_stable", "train_s"),
    "relu-tanh": ("cell", "seed", "test_accuracy", "neutral_bias", "kick_positive", "kick_negative",
                  "kick_asymmetry", "train_s"),
}


def _kind(summary: dict) -> str:
    return "width" if summary.get("name", "").startswith("width") else summary.get("name", "")


def _num(value) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


def table_rows(summary: dict) -> tuple[tuple[str, ...], list[list]]:
    columns = TABLE_COLUMNS.get(_kind(summary), ("cell", "units", "task", "test_accuracy"))
    return columns, [[p.get(c) for c in columns] for p in summary.get("points", [])]


def _cell_text(value) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.3g}"
    return "-" if value is None else str(value)


def format_table(summary: dict) -> str:
    columns, rows = table_rows(summary)
    cells = [list(columns)] + [[_cell_text(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    return "\n".join("  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in cells)


def _mean(points: list[dict], key: str, **match) -> float:
    values = [_num(p.get(key)) for p in points if all(p.get(k) == v for k, v in match.items())]
    values = [v for v in values if not math.isnan(v)]
    return float(np.mean(values)) if values else math.nan


def _cells_answer(summary: dict) -> list[str]:
    points, out, wins = summary["points"], [], 0
    tasks = sorted({p["task"] for p in points})
    for task in tasks:
        add = max(_mean(points, "test_accuracy", task=task, cell=c) for c in ADDITIVE)
        mul = max(_mean(points, "test_accuracy", task=task, cell=c) for c in MULTIPLICATIVE)
        mr = _mean(points, "test_accuracy", task=task, cell="mrnn")
        held = {c: _mean(points, "heldout_accuracy", task=task, cell=c) for c in (*ADDITIVE, *MULTIPLICATIVE)}
        best_held = max(held, key=lambda c: -1 if math.isnan(held[c]) else held[c])
        base = summary.get("baselines", {}).get(task, {}).get("unigram", {}).get("test", math.nan)
        wins += mul > add + MARGIN
        out.append(f"{task}: best additive cell {add:.0%}, best multiplicative {mul:.0%} (mRNN {mr:.0%}); "
                   f"held-out combinations best by {best_held} ({held[best_held]:.0%}); bag of words {base:.0%}.")
    verdict = "supported" if wins > len(tasks) / 2 else "not supported"
    out.insert(0, f"Multiplicative cells beat additive ones by more than {MARGIN:.0%} on {wins} of {len(tasks)} "
                  f"tasks: the claim is {verdict} here.")
    return out


def _slope(points: list[dict], cell: str, key: str) -> float:
    pts = [(p["units"], _num(p.get(key))) for p in points if p["cell"] == cell and _num(p.get(key)) > 0]
    if len(pts) < 2:
        return math.nan
    x, y = np.log([u for u, _ in pts]), np.log([v for _, v in pts])
    return float(np.polyfit(x, y, 1)[0])


def _width_answer(summary: dict) -> list[str]:
    points, out = summary["points"], []
    for cell in sorted({p["cell"] for p in points}):
        mine = sorted((p for p in points if p["cell"] == cell), key=lambda p: p["units"])
        failed = [p["units"] for p in mine if not _num(p.get("test_accuracy")) >= LEARNED]
        slope = _slope([p for p in mine if p["units"] not in failed], cell, "weight_distance")
        accs = [_num(p.get("test_accuracy")) for p in mine]
        dims = [p.get("dims95") for p in mine]
        fps = [p.get("n_fixed_points") for p in mine]
        note = f" (widths {failed} did not learn the task, accuracy < {LEARNED:.0%}, and are left out)" if failed else ""
        trend = (f"weight distance ~ width^{slope:.2f}{note}, "
                 + ("lazier with width" if slope < LAZY_SLOPE else "not clearly lazier with width")) \
            if np.isfinite(slope) else f"too few widths that learned the task to fit a slope{note}"
        out.append(f"{cell}: {trend}; accuracy {min(accs):.0%}–{max(accs):.0%} "
                   f"from {mine[0]['units']} to {mine[-1]['units']} units; dims for 95% {dims}; fixed points {fps}.")
    return out


def _relu_answer(summary: dict) -> list[str]:
    points = summary["points"]
    stats = {c: (_mean([{**p, "b": abs(_num(p.get("neutral_bias")))} for p in points], "b", cell=c),
                 _mean([{**p, "a": abs(_num(p.get("kick_asymmetry")))} for p in points], "a", cell=c))
             for c in ("relu", "tanh")}
    (rb, ra), (tb, ta) = stats["relu"], stats["tanh"]
    bias_ok, asym_ok = rb > max(BIAS_FACTOR * tb, MIN_EFFECT), ra > max(BIAS_FACTOR * ta, MIN_EFFECT)
    verdict = "supported" if bias_ok and asym_ok else ("partly supported" if bias_ok or asym_ok else "not supported")
    return [f"The claim predicts larger |neutral bias| and |kick asymmetry| for ReLU than for tanh (here: {BIAS_FACTOR}x "
            f"and at least {MIN_EFFECT}); measured mean over seeds: |neutral bias| ReLU {rb:.2f} vs tanh {tb:.2f}, |asymmetry| ReLU "
            f"{ra:.2f} vs tanh {ta:.2f}: {verdict}."]


def answer(summary: dict) -> list[str]:
    """The measured answer to the study's claim, one sentence per line (empty for a study with no points)."""
    if not summary.get("points"):
        return []
    kind = _kind(summary)
    lines = {"cells": _cells_answer, "width": _width_answer, "relu-tanh": _relu_answer}.get(kind, lambda s: [])(summary)
    trained = sum(_num(p.get("train_s")) + _num(p.get("analysis_s")) for p in summary["points"])
    if not math.isnan(trained):  # the bundles' own timings: a resumed run's wall time would hide the training
        lines.append(f"Training and analysis of its {len(summary['points'])} models took {trained / 60:.0f} min "
                     f"({summary.get('machine', 'this machine')}, shared with other work).")
    return lines

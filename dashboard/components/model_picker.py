"""The model picker: every bundle in the store, grouped by task, broken ones disabled with the reason. The points of
the studies (dozens of small models) are left out, unless one is the model shown: /studies opens them."""
from __future__ import annotations

from dash import dcc

from core.store import BundleSummary
from core.studies import is_study_run
from dashboard import ids

__all__ = ["TASK_LABELS", "task_label", "picker_options", "model_picker", "default_run_id", "classifiers"]

TASK_LABELS = {"categorical": "Synthetic {k}-class", "ordered": "Synthetic ratings ({k})",
               "multilabel": "Synthetic multi-label ({k})", "imdb": "IMDB movie reviews",
               "reviews": "Movie snippets (one sentence)",
               "stars": "Clothing reviews (1–5 stars)",
               "seq-translate": "Sequence: translation", "seq-reverse": "Sequence: reversal",
               "seq-sort": "Sequence: sorting", "seq-scan": "Sequence: SCAN-like commands",
               "negation": "Study: negation (not good)", "intensifiers": "Study: intensifiers (very good)",
               "bigram": "Study: word pairs (bigram)"}
TASK_ORDER = ("imdb", "reviews", "stars", "categorical", "ordered", "multilabel", "negation", "intensifiers", "bigram")
PREFERRED_DEFAULT = ("gru-imdb", "gru-reviews", "gru-cat3")


def task_label(task: str, num_classes: int) -> str:
    return TASK_LABELS.get(task, task).format(k=num_classes)


def _sort_key(s: BundleSummary):
    return (not s.ok, TASK_ORDER.index(s.task) if s.task in TASK_ORDER else 99, s.run_id)


def classifiers(summaries: list[BundleSummary]) -> list[BundleSummary]:
    """The classifier bundles: sequence-to-sequence ones (kind "seq2seq") have their own page, /attention."""
    return [s for s in summaries if getattr(s, "kind", "classifier") == "classifier"]


def picker_options(summaries: list[BundleSummary], value: str | None = None) -> list[dict]:
    options = []
    for s in sorted(classifiers(summaries), key=_sort_key):
        if s.run_id != value and is_study_run(s.run_id):
            continue
        if not s.ok:
            options.append({"label": f"⚠ {s.run_id} — unavailable: {s.reason}", "value": s.run_id, "disabled": True})
            continue
        if s.analysis_damaged:
            options.append({"label": f"⚠ {s.run_id} — analysis unusable: {s.analysis_reason}", "value": s.run_id,
                            "disabled": True})
            continue
        acc = s.metrics.get("test_accuracy")
        acc_text = f" · {acc:.1%} test acc." if isinstance(acc, (int, float)) else ""  # as the tables: 99.7%
        note = "" if s.has_analysis else " · not analyzed"
        options.append({"label": f"{task_label(s.task, s.num_classes)} — {s.run_id} "
                                 f"({s.cell.upper()}-{s.units}{acc_text}{note})",
                        "value": s.run_id, "disabled": not s.has_analysis})
    return options


def default_run_id(summaries: list[BundleSummary]) -> str | None:
    usable = [s.run_id for s in classifiers(summaries) if s.ok and s.has_analysis]
    for run_id in PREFERRED_DEFAULT:
        if run_id in usable:
            return run_id
    return usable[0] if usable else None


def model_picker(summaries: list[BundleSummary], value: str | None,
                 component_id: str = ids.MODEL_PICKER) -> dcc.Dropdown:
    return dcc.Dropdown(id=component_id, options=picker_options(summaries, value), value=value, clearable=False,
                        searchable=False, placeholder="Choose a model", className="model-picker")

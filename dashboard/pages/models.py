"""Models (/models): every bundle, bundled (read-only) and user-trained, with its task, cell, size and metrics, broken
ones explained."""
from __future__ import annotations

import dash
from dash import dcc, html

from core.store import BundleSummary
from dashboard import ids
from dashboard.components.model_picker import task_label
from dashboard.runtime import bundles

dash.register_page(__name__, path="/models", name="Models", title="attractorscope · Models", order=10,
                   eager_plotly=False)


def _metric(metrics: dict, key: str, fmt: str) -> str:
    value = metrics.get(key)
    return format(value, fmt) if isinstance(value, (int, float)) else "—"


def _row(s: BundleSummary) -> html.Tr:
    if not s.ok:
        return html.Tr(className="broken", children=[
            html.Td(s.run_id), html.Td("unavailable", colSpan=2), html.Td(s.reason, colSpan=5)])
    return html.Tr([
        html.Td(html.B(s.run_id)), html.Td(task_label(s.task, s.num_classes)), html.Td(f"{s.cell.upper()}-{s.units}"),
        html.Td(_metric(s.metrics, "test_accuracy", ".1%")),
        html.Td(_metric(s.metrics, "test_mae", ".2f")),
        html.Td(f"{s.size_bytes / 1e6:.1f} MB"), html.Td(_origin(s)), html.Td(_analysis_cell(s)),
    ])


def _origin(s: BundleSummary) -> str:
    """Where the run comes from: shipped with the app (read-only) or trained here (the user store)."""
    return "bundled (read-only)" if s.bundled else "trained here"


def _analysis_cell(s: BundleSummary):
    if s.has_analysis and s.kind == "seq2seq":
        return dcc.Link("open in Attention", href=f"/attention?model={s.run_id}")
    if s.has_analysis:
        return dcc.Link("open in Explore", href=f"/?model={s.run_id}")
    command = html.Code(f"python -m core analyze {s.run_id}")
    if not s.analysis_damaged:
        return html.Span(["not analyzed yet — run ", command])
    return html.Span(className="analysis-broken",
                     children=[f"analysis unusable: {s.analysis_reason} — run ", command])


def layout(**_query) -> html.Div:
    rows = sorted(bundles().summaries(), key=lambda r: (not r.ok, r.run_id))  # broken ones last
    if not rows:
        return html.Div(className="empty-state", children=[
            html.H3("No models yet"),
            html.P("Train one with `python -m core train --preset gru-cat3`, or regenerate every bundled model "
                   "with `python -m core bundle-all`.")])
    header = html.Tr([html.Th(h) for h in ("Run", "Task", "Cell", "Test accuracy", "MAE (classes)", "Size", "Origin", "")])
    return html.Div([
        html.H2("Models in the store"),
        html.P(f"{sum(r.ok for r in rows)} of {len(rows)} bundles load. A bundle that cannot be used says why. "
               "Bundled models ship with attractorscope and are read-only; the ones trained here (on the Train page "
               "or with python -m core train) are kept in a separate store and can be deleted on the Train page."),
        html.Table([html.Thead(header), html.Tbody([_row(r) for r in rows])], id=ids.MODELS_TABLE,
                   className="models-table"),
    ])

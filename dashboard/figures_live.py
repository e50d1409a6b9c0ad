"""Figures redrawn live, on every keystroke or search (Words, Linearization).

They are plain figure dicts (numpy arrays for every long list, which Dash's JSON encoder copies
in one go): building them as go.Figure objects costs ~40 ms a figure in plotly's per-property
validation, most of each keystroke. The tests wrap every builder's output in go.Figure, so a
misspelt property still fails there.
"""
from __future__ import annotations

import numpy as np

from dashboard.figures import FONT, axis_titles, class_colors

__all__ = ["word_scatter", "log_odds_scatter", "linearization_figure", "one_step_error_figure", "d1_d4_figure",
           "NEUTRAL"]

NEUTRAL = "#B8BEC8"
GRID = dict(gridcolor="#EEE", zeroline=False, automargin=True)


def _figure(data: list[dict], layout: dict) -> dict:
    return dict(data=data, layout=layout)


def _strings(values) -> np.ndarray:
    return np.asarray(list(values), dtype=str)


def _layout(height: int, **kwargs) -> dict:
    layout = dict(height=height, margin=dict(l=60, r=20, t=30, b=50), font=dict(FONT, size=13),
                  plot_bgcolor="white", paper_bgcolor="white", xaxis=dict(GRID), yaxis=dict(GRID))
    for key, value in kwargs.items():
        layout[key] = {**layout[key], **value} if isinstance(layout.get(key), dict) else value
    return layout


def _rule(axis: str, value: float, color: str, dash: str = "solid", width: float = 1, ref: str = "") -> dict:
    """A horizontal (axis "y") or vertical ("x") line across the plot at ``value``."""
    other = "x" if axis == "y" else "y"
    span = {f"{other}ref": f"{other}{ref} domain", f"{other}0": 0, f"{other}1": 1}
    return dict(type="line", **span, **{f"{axis}ref": f"{axis}{ref}", f"{axis}0": value, f"{axis}1": value},
                line=dict(color=color, dash=dash, width=width))


def _label_annotations(x, y, text) -> list[dict]:
    """Searched words as labels on a white box just above their point, readable over a dense cloud."""
    return [dict(x=float(xi), y=float(yi), text=str(word), showarrow=True, arrowhead=0, arrowwidth=1, ax=0, ay=-22,
                 font=dict(size=15, color="#111"), bgcolor="rgba(255,255,255,0.85)", bordercolor="#111",
                 borderwidth=1, borderpad=2)
            for xi, yi, word in zip(x, y, text) if np.isfinite(xi) and np.isfinite(yi)]


def _word_traces(words, x_w, y_w, class_w, class_names, ordered, hover: str) -> list[dict]:
    """One scattergl per colour class (neutral words first, in grey, so class words sit on top)."""
    colors = class_colors(class_names, ordered)
    words = np.asarray(words, dtype=object)
    traces = []
    for k, name, color in [(-1, "neutral", NEUTRAL)] + list(zip(range(len(class_names)), class_names, colors)):
        mask = class_w == k
        traces.append(dict(type="scattergl", x=x_w[mask], y=y_w[mask], mode="markers", text=_strings(words[mask]),
                           name=name if k < 0 else f"favours {name}", hovertemplate=hover,
                           marker=dict(size=6, color=color, opacity=0.45 if k < 0 else 0.75)))
    return traces


def _search_trace(x, y, text, hover: str, marker: dict) -> dict:
    return dict(type="scatter", x=x, y=y, mode="markers", text=_strings(text), name="search", showlegend=False,
                hovertemplate=hover, marker=marker)


def word_scatter(words, x_w, y_w, class_w, class_names, x_title, y_title, highlight=None, ordered=False) -> dict:
    """One point per vocabulary word, coloured by the class its log-odds favour (``class_w``, -1:
    neutral); words in ``highlight`` enlarged, outlined and labelled (last trace, named "search")."""
    x_w, y_w, class_w = np.asarray(x_w, float), np.asarray(y_w, float), np.asarray(class_w)
    hover = "<b>%{text}</b><br>" + x_title + ": %{x:.3f}<br>" + y_title + ": %{y:.3f}<extra></extra>"
    hit = np.array([w in (highlight or ()) for w in words], dtype=bool)
    colors = class_colors(class_names, ordered) + [NEUTRAL]
    hit_words = np.asarray(words, object)[hit]
    data = _word_traces(words, x_w, y_w, class_w, class_names, ordered, hover) + [_search_trace(
        x_w[hit], y_w[hit], hit_words, hover,
        dict(size=14, color=[colors[k] for k in class_w[hit]], line=dict(width=2, color="#111")))]
    layout = _layout(460, legend=dict(orientation="h", y=1.1, itemsizing="constant"),
                     xaxis=dict(title=dict(text=x_title)), yaxis=dict(title=dict(text=y_title)),
                     shapes=[_rule("y", 0, "#BBB"), _rule("x", 0, "#BBB")],
                     annotations=_label_annotations(x_w[hit], y_w[hit], hit_words))
    return _figure(data, layout)


def log_odds_scatter(words, deflection_wxc, log_odds_wxc, class_w, class_names, r_c, highlight=None,
                     ordered=False) -> dict:
    """Each word's deflection toward a class (y) against its log-odds for that class in the training
    data (x). Two classes: one column (positive vs negative), coloured like ``word_scatter``. More
    classes: one trace per class c (all words, coloured by c, r in the legend)."""
    d, o = np.atleast_2d(np.asarray(deflection_wxc, float)), np.atleast_2d(np.asarray(log_odds_wxc, float))
    words = np.asarray(words, dtype=object)
    hover = "<b>%{text}</b><br>log-odds %{x:.2f}<br>deflection %{y:.3f}<extra></extra>"
    if d.shape[1] == 1:
        data = _word_traces(words, o[:, 0], d[:, 0], np.asarray(class_w), class_names, ordered, hover)
        x_title, y_title = f"log-odds {class_names[-1]} vs {class_names[0]} in training data", \
            f"deflection {class_names[-1]} − {class_names[0]}"
    else:
        colors = class_colors(class_names, ordered)
        data = [dict(type="scattergl", x=o[:, c], y=d[:, c], mode="markers", text=_strings(words),
                     name=f"{name} (r = {r:.2f})", marker=dict(size=5, color=colors[c], opacity=0.6),
                     hovertemplate=hover)
                for c, (name, r) in enumerate(zip(class_names, r_c))]
        x_title, y_title = "log-odds of class c vs the rest", "deflection toward class c"
    hit = np.array([w in (highlight or ()) for w in words], dtype=bool)
    column = 0 if d.shape[1] == 1 else None
    hx = o[hit, column] if column is not None else o[hit].max(axis=1)
    hy = d[hit, column] if column is not None else d[hit][np.arange(hit.sum()), o[hit].argmax(axis=1)]
    data.append(_search_trace(hx, hy, words[hit], hover,
                              dict(size=14, color="rgba(0,0,0,0)", line=dict(width=2, color="#111"))))
    # r at the right end of the legend row, so the two never overlap
    title = dict(text=f"Pearson r = {r_c[0]:.2f}", font=dict(size=15), x=0.98, xanchor="right", y=0.97) \
        if d.shape[1] == 1 else None
    zero = dict(zeroline=True, zerolinecolor="#BBB")
    layout = _layout(460, title=title, legend=dict(orientation="h", y=1.1, x=0, itemsizing="constant"),
                     xaxis=dict(title=dict(text=x_title), **zero), yaxis=dict(title=dict(text=y_title), **zero),
                     annotations=_label_annotations(hx, hy, words[hit]))
    return _figure(data, layout)


def linearization_figure(full_tx3, lin_tx3, tokens, anchor_3, fp_xyz_px3, explained_c) -> dict:
    """Left: the true trajectory and the linear system's in PC1–PC2, around the expansion point h*.
    Right: both along PC1, token by token."""
    full, lin = np.asarray(full_tx3, float), np.asarray(lin_tx3, float)
    titles = axis_titles(np.asarray(explained_c))
    steps = np.arange(1, len(full) + 1)
    hover = _strings(f"#{i + 1} {tok}" for i, tok in enumerate(tokens))
    left, right = dict(xaxis="x", yaxis="y"), dict(xaxis="x2", yaxis="y2")
    data = [dict(type="scatter", x=fp_xyz_px3[:, 0], y=fp_xyz_px3[:, 1], mode="markers", name="fixed points",
                 marker=dict(size=7, symbol="diamond", color="#C8CDD6"), hoverinfo="skip", **left)]
    for xyz, name, color, dash in ((full, "full RNN", "#111", "solid"), (lin, "linearized around h*", "#D55E00", "dash")):
        line = dict(color=color, width=3, dash=dash)
        data.append(dict(type="scatter", x=xyz[:, 0], y=xyz[:, 1], mode="lines+markers", name=name, legendgroup=name,
                         line=line, marker=dict(size=5, color=color), text=hover,
                         hovertemplate="%{text}<extra>" + name + "</extra>", **left))
        data.append(dict(type="scatter", x=steps, y=xyz[:, 0], mode="lines", name=name, legendgroup=name,
                         showlegend=False, line=line, text=hover,
                         hovertemplate="%{text}: %{y:.3f}<extra>" + name + "</extra>", **right))
    data.append(dict(type="scatter", x=[float(anchor_3[0])], y=[float(anchor_3[1])], mode="markers",
                     name="expansion point h*", hoverinfo="name",
                     marker=dict(size=15, symbol="diamond", color="#0072B2", line=dict(width=2, color="#fff")), **left))
    if len(full):
        data.append(dict(type="scatter", x=[full[0, 0]], y=[full[0, 1]], mode="markers", name="first token",
                         marker=dict(size=12, symbol="circle-open", color="#111", line=dict(width=2)),
                         hoverinfo="name", **left))
    layout = _layout(440, legend=dict(orientation="h", y=1.12, itemsizing="constant"),
                     xaxis=dict(title=dict(text=titles[0]), domain=[0, 0.5], anchor="y"),
                     yaxis=dict(title=dict(text=titles[1]), anchor="x"),
                     xaxis2=dict(GRID, title=dict(text="token"), domain=[0.6, 1], anchor="y2"),
                     yaxis2=dict(GRID, title=dict(text=titles[0]), anchor="x2"))
    return _figure(data, layout)


def _token_axis(steps, words) -> dict:
    """Ticks named by the tokens for a short text, a plain "token" axis for a long one."""
    return dict(tickmode="array", tickvals=steps, ticktext=words, tickangle=-45) if 0 < len(words) <= 40 \
        else dict(title=dict(text="token"))


def _error_axes(lines) -> dict:
    """The percent-error y axis, with a horizontal rule per (y, colour, dash, text) line, named in the legend
    (labels on the plot sat on the bars and on each other when the values were close)."""
    return dict(yaxis=dict(title=dict(text="one-step error (%)"), rangemode="tozero"), showlegend=True,
                legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0, font=dict(size=12)),
                shapes=[{**_rule("y", y, color, dash, 2), "name": text, "showlegend": True}
                        for y, color, dash, text in lines])


def one_step_error_figure(err_t, tokens, reference: float = 0.10, heldout_median: float | None = None) -> dict:
    """Relative error of one linearized step per token, in percent, with the paper's ~10% marked."""
    err = np.asarray(err_t, float) * 100
    steps = np.arange(1, len(err) + 1)
    colors = np.where(err <= reference * 100, "#0072B2", "#E69F00")
    data = [dict(type="bar", x=steps, y=err, marker=dict(color=colors), customdata=_strings(tokens), name="this text",
                 showlegend=False, hovertemplate="#%{x} %{customdata}: %{y:.1f}%<extra></extra>")]
    lines = [(reference * 100, "#D55E00", "dash", f"paper: ~{reference:.0%}")]
    if heldout_median is not None and np.isfinite(heldout_median):
        lines.append((heldout_median * 100, "#009E73", "dot", f"median on held-out texts: {heldout_median:.1%}"))
    x_axis = _token_axis(steps, _strings(tokens))
    layout = _layout(320, bargap=0.15, xaxis=x_axis, **_error_axes(lines))
    return _figure(data, layout)


def d1_d4_figure(d1_t, d4_t, tokens, reference: float = 0.10, d1_median: float | None = None,
                 d4_median: float | None = None) -> dict:
    """D1 and D4 per token (grouped bars, percent), with the paper's ~10% and the held-out medians marked."""
    steps = np.arange(1, len(tokens) + 1)
    words = _strings(tokens)
    data = [dict(type="bar", x=steps, y=np.asarray(err, float) * 100, name=name, customdata=words,
                 marker=dict(color=color), hovertemplate="#%{x} %{customdata}: " + name + " %{y:.1f}%<extra></extra>")
            for err, name, color in ((d1_t, "D1 (state and word linearized)", "#E69F00"),
                                     (d4_t, "D4 (state only, exact word)", "#0072B2"))]
    lines = [(reference * 100, "#D55E00", "dash", f"paper: ~{reference:.0%}")]
    for value, name, color in ((d1_median, "D1", "#B86E00"), (d4_median, "D4", "#005A8C")):
        if value is not None and np.isfinite(value):
            lines.append((value * 100, color, "dot", f"held-out median {name}: {value:.1%}"))
    x_axis = _token_axis(steps, words)
    layout = _layout(340, bargap=0.15, barmode="group", xaxis=x_axis, **_error_axes(lines))
    return _figure(data, layout)

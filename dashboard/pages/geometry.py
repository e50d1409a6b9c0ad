"""Geometry (/geometry): the attractor's dimension, its readout directions and their angles."""
from __future__ import annotations

import dash
from dash import Input, Output, callback, dcc, html

from core.geometry import count_plane
from dashboard import figures_analysis as fa, ids
from dashboard.components.page_shell import load_analyzed, page_frame, resolve_run_id, section, url_sync
from dashboard.runtime import model_memo

dash.register_page(__name__, path="/geometry", name="Geometry", title="attractorscope · Geometry", order=2)

PATH = "/geometry"
INTRO = ("Aitken et al. (2020) found that a network trained on N classes integrates evidence on an (N−1)-dimensional "
         "attractor: a line for 2 classes, a triangle-like plane for 3, a plane for ordered ratings. Below: how many "
         "principal components the final states need, the readout directions in PC space and the angles between "
         "them (a regular simplex has arccos(−1/(N−1)) between every pair), and, for the synthetic tasks, the final "
         "states next to the word counts that decide the label.")


def layout(model=None, **_query):
    run_id = resolve_run_id(model)
    return page_frame(PATH, "Geometry of the attractor", INTRO, run_id, _body(run_id), requested=model)


url_sync(PATH)


@callback(Output("geometry-body", "children"), Input(ids.MODEL_PICKER, "value"), prevent_initial_call=True)
def show_model(run_id):
    return _body(run_id)


def _metric(value: str, label: str) -> html.Div:
    return html.Div(className="metric", children=[html.Div(value, className="value"), html.Div(label, className="label")])


def _body(run_id):
    needed = ("final_explained_ratio_k", "readout_angles_kxk", "final_xyz_bx3", "readout_pc_kx3")
    bundle, problem = load_analyzed(run_id, needed, "Attractor geometry")
    if problem is not None:
        return problem
    return model_memo().get("geometry", bundle, (), lambda: _sections(bundle))


def _sections(bundle):
    a = bundle.analysis
    names, ordered = bundle.class_names, bool(bundle.info.get("ordered"))
    k = len(names)
    ratio = a["final_explained_ratio_k"]
    metrics = html.Div(className="metric-row", children=[
        _metric(f"{ratio[:max(k - 1, 1)].sum():.1%}", f"final-state variance in the first N−1 = {k - 1} PCs"),
        *([_metric(f"{a['relaxed_explained_ratio_k'][:max(k - 1, 1)].sum():.1%}",
                   "the same once the last words' kicks decay (20 steps without input)")]
          if "relaxed_explained_ratio_k" in a else []),
        _metric(str(int(a["final_dims90"])), "PCs for 90% of final-state variance"),
        _metric(str(int(a["final_dims95"])), "PCs for 95%"),
        _metric(f"{float(a['final_participation_ratio']):.2f}", "participation ratio (final states)"),
        _metric(f"{float(a['participation_ratio']):.2f}", "participation ratio (all visited states)"),
    ])
    children = [
        section("Dimension", metrics, dcc.Graph(figure=fa.explained_variance_figure(
            a["pca_explained_variance_ratio_k"], ratio, k, a.get("relaxed_explained_ratio_k")))),
        html.Div(className="two-col", children=[
            section("Readout directions in PC space", dcc.Graph(figure=fa.readout_arrows_figure(
                a["final_xyz_bx3"], a["final_label_b"], a["centre_xyz_3"], a["readout_pc_kx3"], names, ordered)),
                note="Final states (one per held-out example) coloured by their true label; arrows: readout "
                     "directions projected on PC1–PC2."),
            section("Angles between readout directions", dcc.Graph(figure=fa.angle_heatmap(
                a["readout_angles_kxk"], names, float(a["simplex_angle"]))),
                note="Angles between class readout vectors after removing their mean (softmax ignores it)."),
        ]),
    ]
    if "final_counts_bxk" in a:
        children.append(_evidence_section(a, names, ordered))
    return children


def _evidence_section(a, names, ordered):
    plane = count_plane(a["final_counts_bxk"])
    labels = a["final_label_b"]
    words = [str(w) for w in a["evidence_words_k"]]
    learned = fa.evidence_plane_figure(a["final_xyz_bx3"][:, :2], labels, names, "PC1 of final state",
                                       "PC2 of final state", ordered)
    predicted = fa.evidence_plane_figure(plane, labels, names, "evidence axis 1", "evidence axis 2", ordered)
    return section("Learned vs predicted geometry", html.Div(className="two-col", children=[
        dcc.Graph(figure=learned), dcc.Graph(figure=predicted)]),
        note=f"Left: where each sequence ends (PC1–PC2). Right: the same sequences placed only by how often they "
             f"contain {', '.join(words)} (counts centred and projected on the plane orthogonal to 'all words "
             f"equally'). When the network integrates evidence, the two pictures match up to rotation and scale.")

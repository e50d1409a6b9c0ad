"""Geometry (/geometry): the attractor's dimension, its readout directions and their angles."""
from __future__ import annotations

import dash
from dash import Input, Output, callback, dcc, html

from core.geometry import count_plane
from dashboard import figures_analysis as fa, ids
from dashboard.components.page_shell import load_analyzed, metric, page_frame, resolve_run_id, section, url_sync
from dashboard.runtime import model_memo

dash.register_page(__name__, path="/geometry", name="Geometry", title="attractorscope · Geometry", order=2)

PATH = "/geometry"
INTRO = ("Aitken et al. (2020) found that a network trained on N unordered classes integrates evidence on an "
         "(N−1)-dimensional attractor (a line for 2 classes, a triangle-like plane for 3), and that one trained on "
         "ordered ratings (1–5 stars) uses a plane whatever N is. Below: how many principal components the final "
         "states need, the readout directions in PC space and the angles between them (a regular simplex has "
         "arccos(−1/(N−1)) between every pair), and, for the synthetic tasks, the final states next to the word "
         "counts that decide the label.")


def layout(model=None, **_query):
    run_id = resolve_run_id(model)
    return page_frame(PATH, "Geometry of the attractor", INTRO, run_id, _body(run_id), requested=model)


url_sync(PATH)


@callback(Output(ids.page_body(PATH), "children"), Input(ids.MODEL_PICKER, "value"), prevent_initial_call=True)
def show_model(run_id):
    return _body(run_id)


def _body(run_id):
    bundle, problem = load_analyzed(run_id, ("geometry",), "Attractor geometry")
    if problem is not None:
        return problem
    return model_memo().get("geometry", bundle, (), lambda: _sections(bundle))


def _sections(bundle):
    a = bundle.analysis
    geo, names, ordered = a.geometry, bundle.class_names, bool(bundle.info.get("ordered"))
    k = len(names)
    ratio = geo.final_explained_ratio_c
    relaxed = geo.relaxed_explained_ratio_c
    dims, shape = fa.expected_dimension(k, ordered)
    metrics = html.Div(className="metric-row", children=[
        metric(f"{ratio[:dims].sum():.1%}", f"final-state variance in the first {dims} PC{'s' if dims > 1 else ''}, "
                                            f"the dimension expected: {shape}"),
        *([metric(f"{relaxed[:dims].sum():.1%}",
                   "the same once the last words' kicks decay (20 steps without input)")]
          if relaxed is not None else []),
        metric(str(geo.final_dims90), "PCs for 90% of final-state variance"),
        metric(str(geo.final_dims95), "PCs for 95%"),
        metric(f"{geo.final_participation_ratio:.2f}", "participation ratio (final states)"),
        metric(f"{geo.participation_ratio:.2f}", "participation ratio (all visited states)"),
    ])
    children = [
        section("Dimension", metrics, dcc.Graph(figure=fa.explained_variance_figure(
            a.pca.explained_variance_ratio_c_, ratio, k, relaxed, ordered)),
            note="The dashed line marks the dimension the papers predict for this task; dotted lines: 90% and 95%."),
        _readout_sections(geo, names, ordered),
    ]
    if geo.final_counts_bxk is not None:
        children.append(_evidence_section(geo, names, ordered))
    return children


def _readout_sections(geo, names, ordered):
    arrows = section("Readout directions in PC space", dcc.Graph(figure=fa.readout_arrows_figure(
        geo.final_xyz_bx3, geo.final_label_b, geo.centre_xyz_3, geo.readout_pc_kx3, names, ordered)),
        note="Final states (one per held-out example) coloured by their true label; arrows: readout "
             "directions projected on PC1–PC2.")
    if len(names) == 2:  # two readouts minus their mean always point apart (180°): a heat map would say nothing
        return html.Div(arrows, className="geo-binary")
    return html.Div(className="two-col", children=[arrows, section(
        "Angles between readout directions", dcc.Graph(figure=fa.angle_heatmap(geo.readout_angles_kxk, names,
                                                                                geo.simplex_angle)),
        note="Angles between class readout vectors after removing their mean (softmax ignores it).")])


def _evidence_section(geo, names, ordered):
    plane = count_plane(geo.final_counts_bxk)
    labels = geo.final_label_b
    words = [str(w) for w in geo.evidence_words_k]
    learned = fa.evidence_plane_figure(geo.final_xyz_bx3[:, :2], labels, names, "PC1 of final state",
                                       "PC2 of final state", ordered)
    predicted = fa.evidence_plane_figure(plane, labels, names, "evidence axis 1", "evidence axis 2", ordered)
    return section("Learned vs predicted geometry", html.Div(className="two-col", children=[
        dcc.Graph(figure=learned), dcc.Graph(figure=predicted)]),
        note=f"Left: where each sequence ends (PC1–PC2). Right: the same sequences placed only by how often they "
             f"contain {', '.join(words)} (counts centred and projected on the plane orthogonal to 'all words "
             f"equally'). When the network integrates evidence, the two pictures match up to rotation and scale.")

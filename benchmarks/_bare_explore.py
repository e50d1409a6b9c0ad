"""The bare prototype explore_bench measures Explore against (issue 17): one Dash page, one Plotly graph
holding the model's attractor cloud and a path trace, a textarea whose every edit returns a Patch of the
path (from the same ``Bundle.trajectory`` the app uses). Nothing else: no layers, no strip, no panel.

    python benchmarks/_bare_explore.py --port 8070 --model gru-imdb [--view 3d]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dash  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
from dash import Input, Output, dcc, html  # noqa: E402

from core import store  # noqa: E402


def make_app(model: str, three_d: bool) -> dash.Dash:
    bundle = store.load(model)
    cloud = bundle.analysis.attractor.cloud_xyz_bx3
    kind = go.Scatter3d if three_d else go.Scattergl
    z = (lambda a: {"z": a[:, 2]}) if three_d else (lambda a: {})
    fig = go.Figure([kind(x=cloud[:, 0], y=cloud[:, 1], **z(cloud), mode="markers", hoverinfo="skip",
                          marker=dict(size=2 if three_d else 3, opacity=0.25)),
                     kind(x=[], y=[], **({"z": []} if three_d else {}), mode="lines+markers")])
    fig.update_layout(uirevision="bare", height=620)
    app = dash.Dash(__name__)
    app.layout = html.Div([dcc.Textarea(id="text", value=""), dcc.Graph(id="graph", figure=fig)])

    @app.callback(Output("graph", "figure"), Input("text", "value"), prevent_initial_call=True)
    def draw(text):
        xyz = bundle.trajectory(text or "").xyz_tx3
        patch = dash.Patch()
        patch["data"][1]["x"], patch["data"][1]["y"] = xyz[:, 0].tolist(), xyz[:, 1].tolist()
        if three_d:
            patch["data"][1]["z"] = xyz[:, 2].tolist()
        return patch

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model", default="gru-imdb")
    parser.add_argument("--view", choices=("2d", "3d"), default="2d")
    args = parser.parse_args()
    make_app(args.model, args.view == "3d").run(host="127.0.0.1", port=args.port, debug=False)

"""Short "how to read this" panels for first-time users."""
from __future__ import annotations

from dash import html

from dashboard import ids

__all__ = ["explore_help"]


def explore_help() -> html.Details:
    return html.Details(className="help", id=ids.HELP_PANEL, children=[
        html.Summary("How to read this"),
        html.P([html.B("The cloud"), " is thousands of hidden states the network visited while reading real "
                "examples, coloured by the class the network would predict there. Together they trace the ",
                html.B("attractor"), ": the low-dimensional set the network integrates evidence along."]),
        html.P([html.B("PCA"), " squeezes the network's many hidden units into the three directions along which its "
                "states vary most; each axis label says how much of the variance that direction holds."]),
        html.P([html.B("Fixed points"), " (◆ stable, ✚ unstable) are states the network would stay in if it read "
                "nothing more. Hover one for how slowly it forgets (its slowest time constant τ, in tokens)."]),
        html.P([html.B("Readout directions"), " (dashed) point where each class's score grows: the further the state "
                "moves along one, the more confident the network is in that class."]),
        html.P([html.B("Your text"), " is the black path: one step per token, from the open circle to the yellow dot. "
                "Press ▶ to replay it word by word, or click a word to jump there."]),
        html.P([html.B("Word colours"), " show how far each word moved the final prediction: the change of its ",
                html.B("log-odds"), ", log p/(1−p) = the readout's logit margin z", html.Sub("pred"), " − z",
                html.Sub("other"), " for two classes. The colour is the class the word pushed towards; a change of 2 "
                "(odds × 7.4) or more is full colour. Unlike the change of a probability, this does not flatten "
                "once the network is already confident. Hover a word for its number."]),
        html.P([html.B("Edit a word"), ": a click on a word also opens a small menu to drop it, negate it (“not” "
                "before it) or swap it for a word that pushes the other way. The edited path is drawn dotted beside "
                "yours; the chart below compares the real change of the log-odds after each token with the ",
                html.B("linear prediction"), ": the change of input times the input Jacobian, carried forward "
                "through the state Jacobians along your text. Where they part, the dynamics are not linear."]),
        html.P([html.B("Overlays"), " put other texts (“good”, “not good”, “not bad”) in the same view, each in its "
                "own colour; they are part of the link."]),
    ])

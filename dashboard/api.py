"""JSON routes the browser calls directly, outside Dash's callback cycle.

``POST /api/trajectory`` with ``{"model": run id, "text": str}`` answers with the same payload Explore's
trajectory callback stores (``explore_logic.trajectory_for``): ``assets/explore.js`` fetches it on every
keystroke and draws the path at once, before Dash's own round trip (a store update, the callback request and
its answer, then the clientside redraw, about 60 ms more on a 2-core machine) brings the token strip, panel
and player in line. A malformed request gets 400 and a one-line reason; any other failure is the payload's
own notice, as in the callback.
"""
from __future__ import annotations

import json

from flask import Response, jsonify, request

from dashboard.explore_logic import trajectory_for

__all__ = ["install", "TRAJECTORY_PATH", "MAX_RUN_ID_CHARS"]

TRAJECTORY_PATH = "/api/trajectory"
MAX_RUN_ID_CHARS = 200


def install(dash_app) -> None:
    server = dash_app.server
    path = dash_app.config.requests_pathname_prefix.rstrip("/") + TRAJECTORY_PATH

    @server.post(path)
    def trajectory():
        body = request.get_json(silent=True)
        problem = _problem(body)
        if problem:
            return jsonify(error=problem), 400
        # stdlib json: a lone surrogate in the text's tokens is escaped, not an encoding error
        return Response(json.dumps(trajectory_for(body["model"], body["text"])), mimetype="application/json")


def _problem(body) -> str | None:
    if not isinstance(body, dict):
        return "expected a JSON object with a model and a text"
    model, text = body.get("model"), body.get("text")
    if not isinstance(model, str) or not model or len(model) > MAX_RUN_ID_CHARS or not _utf8(model):
        return "model must be a run id"
    if not isinstance(text, str):
        return "text must be a string"
    return None


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no run id has one
        return False
    return True

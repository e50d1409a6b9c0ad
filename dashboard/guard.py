"""Malformed requests get HTTP 400 before Dash reads them, and request data never floods the log.

Dash trusts the shape of a callback request: a body that is a list, an unknown output, a missing input or
a pattern-matching input that is not a list ends in a KeyError or TypeError deep inside Dash, which Flask
answers with a 500 and logs with the request's values (twice, in a chained traceback). ``check_callback``
compares each request with the callback it names (its inputs, states and outputs, by id and property)
and answers 400 with one short log line. The values themselves are the callbacks' to check.
"""
from __future__ import annotations

import json
import logging

from dash import ALL, ALLSMALLER, MATCH, Input, Output
from dash.exceptions import CallbackException, DependencyException
from flask import abort, request

__all__ = ["install", "callback_problem", "ClippedLog", "MAX_LOG_CHARS", "echo_safe"]

log = logging.getLogger(__name__)
MAX_LOG_CHARS, MAX_LINE_CHARS = 8000, 500  # a log message or traceback is cut to these (whole, per line)


def install(dash_app) -> None:
    """Check callback requests, answer Dash's own path and spec errors with 400, clip the app's log."""
    server = dash_app.server
    endpoint = dash_app.config.requests_pathname_prefix + "_dash-update-component"

    @server.before_request
    def check_callback():
        if request.method != "POST" or request.path != endpoint:
            return None
        problem = callback_problem(request.get_json(), dash_app.callback_map)  # cached: Dash reads it again
        if problem is not None:
            log.info("refused a callback request: %s", problem[:200])
            abort(400)
        return None

    @server.errorhandler(DependencyException)
    def bad_resource_path(_err):  # `/_dash-component-suites/dash/..%2f..` and other unregistered paths
        return "Bad request: no such resource.", 400

    @server.errorhandler(CallbackException)
    def bad_callback_spec(err):
        if type(err) is not CallbackException:  # a subclass is a callback's own failure: a real 500
            raise err
        return "Bad request.", 400

    for target in (server.logger, logging.getLogger()):
        target.addFilter(ClippedLog())
        for handler in target.handlers:
            handler.addFilter(ClippedLog())


def callback_problem(body, callback_map: dict) -> str | None:
    """Why a callback request cannot be for the callback it names, or None if its shape fits."""
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    output = body.get("output")
    spec = callback_map.get(output) if isinstance(output, str) else None
    if spec is None or "callback" not in spec:
        return "no server callback has that output"
    for key, declared in (("inputs", spec["inputs"]), ("state", spec["state"])):
        items = body.get(key, [])
        if not isinstance(items, list) or len(items) != len(declared):
            return f"its {key} do not match the callback"
        if not all(_fits(item, dep, Input) for item, dep in zip(items, declared)):
            return f"an item of its {key} does not match the callback"
    if not _outputs_fit(body.get("outputs"), spec["output"]):
        return "its outputs do not match the callback"
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "changedPropIds is not a list of strings"
    return None


def _outputs_fit(outputs, declared) -> bool:
    if isinstance(declared, (list, tuple)):
        return isinstance(outputs, list) and len(outputs) == len(declared) and \
            all(_spec_fits(o, d) for o, d in zip(outputs, declared))
    return _spec_fits(outputs, declared)


def _spec_fits(item, declared: Output) -> bool:
    """An output spec: one {id, property}, or a list of them for a pattern-matching output."""
    items = item if isinstance(item, list) and declared.has_wildcard() else [item]
    return all(isinstance(i, dict) and _same(i, declared, Output) for i in items)


def _fits(item, dep: dict, kind) -> bool:
    """An input or state: one {id, property, value}, or a list of them for a pattern-matching one."""
    declared = kind(_parse_id(dep["id"]), dep["property"])
    if declared.has_wildcard():
        return isinstance(item, list) and all(isinstance(i, dict) and _same(i, declared, kind) for i in item)
    return isinstance(item, dict) and _same(item, declared, kind)


def _same(item: dict, declared, kind) -> bool:
    component_id, prop = item.get("id"), item.get("property")
    if not isinstance(prop, str) or not isinstance(component_id, (str, dict)):
        return False
    if isinstance(component_id, dict) and not all(isinstance(k, str) for k in component_id):
        return False
    try:
        return kind(component_id, prop.split("@")[0]) == declared
    except (TypeError, ValueError, AttributeError):
        return False


WILDCARDS = {json.dumps([str(w)]): w for w in (ALL, MATCH, ALLSMALLER)}  # '["ALL"]' -> ALL, as Dash writes them


def _parse_id(component_id: str):
    """A declared id as the callback map stores it (a string; JSON for a pattern-matching id) -> the id."""
    if not component_id.startswith("{"):
        return component_id
    return {k: WILDCARDS.get(json.dumps(v), v) for k, v in json.loads(component_id).items()}


class ClippedLog(logging.Filter):
    """Cuts a record's message and traceback (``_clip``): a crafted 7 MB request must not write 14 MB of log
    (an error's text, or a traceback's last line, may quote the request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        if len(message) > MAX_LINE_CHARS:
            record.msg, record.args = _clip(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = _clip(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = _clip(record.exc_text)
        return True


def _clip(text: str) -> str:
    """Each line cut to MAX_LINE_CHARS (a traceback keeps every frame and the start of its message), then
    the middle of what is still over MAX_LOG_CHARS."""
    lines = [line if len(line) <= MAX_LINE_CHARS else f"{line[:MAX_LINE_CHARS]}…[{len(line) - MAX_LINE_CHARS:,} "
             "characters cut]" for line in text.split("\n")]
    text = "\n".join(lines)
    if len(text) <= MAX_LOG_CHARS:
        return text
    half = MAX_LOG_CHARS // 2
    return f"{text[:half]} …[{len(text) - MAX_LOG_CHARS:,} characters cut]… {text[-half:]}"


def echo_safe(text: str) -> str:
    """``text`` fit to echo back to the browser: lone surrogates (valid in a Python str, not in JSON, so a 500
    when Dash encodes the answer) become "?"."""
    return text.encode("utf-8", "replace").decode("utf-8")

"""Hardening II (issue 16), through the app's real callback endpoint: free text is capped at the server,
values that reach a cache key come from their allowed set, a dead Redis costs a cache and not the page,
malformed requests get 400 (never a 500 or a traceback), and request data never floods the log."""
from __future__ import annotations

import json
import logging

import pytest

from tests.conftest import TINY_RUN_ID
from tests.fuzzing import COMPARE_GRAPH_IDS, COMPARE_OUTPUTS, DashClient, callback_body, check_dash_response


@pytest.fixture(scope="module")
def client(dash_app):
    return DashClient(dash_app.server.test_client())


def _words(client, query) -> str:
    resp = client.call("words-body.children", [("model-picker", "value", TINY_RUN_ID), ("words-search", "value", query)])
    return json.dumps(check_dash_response(resp))


@pytest.fixture(scope="module")
def vocabulary_word(dash_app) -> str:
    with dash_app.server.test_request_context("/"):
        from dashboard.runtime import bundles

        bundle = bundles().get(TINY_RUN_ID)
        return bundle.vocab.itos[int(bundle.analysis.words.ids_w[0])]


# --- 1. Words: the search is capped and linear -----------------------------------------------------

def test_a_word_search_reads_only_its_first_terms(client, vocabulary_word):
    assert "1 word highlighted." in _words(client, vocabulary_word)
    beyond = _words(client, "zq, " * 300 + vocabulary_word)  # the word is the 301st term
    assert "No word matches the search." in beyond and "Only the first 40 words" in beyond


def test_a_megabyte_search_is_answered_from_its_first_characters(client, vocabulary_word):
    answer = _words(client, "zq," * 400_000 + vocabulary_word)  # 1.2 MB, one term per 3 characters
    assert "No word matches the search." in answer and "1,000 characters" in answer


def test_prefix_search_finds_what_it_found_before(app_ctx):
    from dashboard.pages.words import MAX_HITS, matching_words

    words = [f"w{i:03d}" for i in range(200)] + ["bore", "bored", "boring", "great"]
    assert matching_words(words, "bor*, great, nope") == {"bore", "bored", "boring", "great"}
    assert matching_words(words, "w*") == {f"w{i:03d}" for i in range(MAX_HITS)}  # the first 40, sorted
    assert matching_words(words, "*, w, bor") == set()


# --- 10. Compare: the text is cut to the shared cap ------------------------------------------------

def test_compare_reads_no_more_text_than_explore(client, dash_app):
    cap = dash_app.server.config["ATTRACTORSCOPE_SETTINGS"].max_text_chars
    text = "\u3000" * cap + " red green blue"  # the words sit past the cap, behind ideographic spaces
    resp = client.call('{"side":["ALL"],"type":"compare-graph"}.figure', [("compare-text", "value", text)],
                       [("compare-model-a", "value", TINY_RUN_ID), ("compare-model-b", "value", TINY_RUN_ID),
                        COMPARE_GRAPH_IDS], outputs=COMPARE_OUTPUTS)
    sentences = check_dash_response(resp)
    shown = [v["children"] for k, v in sentences.items() if "compare-prediction" in k]
    assert shown == ["Type a sentence to see its trajectory."] * 2, shown


# --- 4 and 9. Values that reach a cache key come from their allowed set ----------------------------

class _KeyRecorder:
    """Stands in for the figure cache and records every key asked for."""

    def __init__(self):
        self.keys, self.store = set(), {}

    def get(self, key):
        self.keys.add(key)
        return self.store.get(key)

    def set(self, key, value):
        self.keys.add(key)
        self.store[key] = value


def test_tampered_view_values_never_reach_the_figure_cache(client, dash_app, monkeypatch):
    recorder = _KeyRecorder()
    monkeypatch.setitem(dash_app.server.config, "ATTRACTORSCOPE_CACHE", recorder)
    for view in ["3d", "2d", "4d", "x" * 5000, 7, None, ["2d"], {"a": 1}] + [f"v{i}" for i in range(20)]:
        check_dash_response(client.call("trajectory-graph.figure", [("model-picker", "value", TINY_RUN_ID),
                                                                     ("view-mode", "value", view)],
                                         [("sentence-input", "value", "red"), ("model-info", "data", None)]))
    attractor_keys = {k for k in recorder.keys if k.startswith("explore-")}
    assert {k.split(":", 1)[0] for k in attractor_keys} == {"explore-cloud", "explore-overlay"}
    assert {k.rsplit(":", 1)[1] for k in attractor_keys} == {"2d", "3d"}, sorted(attractor_keys)[:5]


@pytest.mark.parametrize("output, control, values", [
    ("decomposition-body.children", "decomposition-words", ["informative", "frequent"]),
])
def test_tampered_page_options_never_grow_the_page_memo(client, dash_app, output, control, values):
    memo = dash_app.server.config["ATTRACTORSCOPE_MEMO"]
    for value in values + [f"sort{i}" for i in range(20)] + ["x" * 100_000, 3, None]:
        check_dash_response(client.call(output, [("model-picker", "value", TINY_RUN_ID), (control, "value", value)]))
    grown = len(memo)
    for value in [f"other{i}" for i in range(20)] + ["y" * 100_000]:
        check_dash_response(client.call(output, [("model-picker", "value", TINY_RUN_ID), (control, "value", value)]))
    assert len(memo) == grown


# --- 5. Redis down: pages compute their figures without the cache, and say so once in the log -----

class _DeadCache:
    def get(self, key):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    set = get


def test_explore_and_compare_work_while_the_cache_is_down(client, dash_app, monkeypatch, caplog):
    from dashboard import runtime

    monkeypatch.setitem(dash_app.server.config, "ATTRACTORSCOPE_CACHE", _DeadCache())
    monkeypatch.setattr(runtime, "RETRY_CACHE_S", 0.0, raising=False)  # try the cache on every call: each fails
    caplog.set_level(logging.WARNING, logger="dashboard.runtime")
    for view in ("3d", "2d", "3d"):
        response = check_dash_response(client.call(
            "trajectory-graph.figure", [("model-picker", "value", TINY_RUN_ID), ("view-mode", "value", view)],
            [("sentence-input", "value", "red green"), ("model-info", "data", None)]))
        assert response["trajectory-graph"]["figure"]["data"]
    page = check_dash_response(client.page("/compare", f"?model={TINY_RUN_ID}&model_b={TINY_RUN_ID}"))
    assert "compare-graph" in json.dumps(page)
    outage = [r for r in caplog.records if "figure cache is unavailable" in r.getMessage()]
    assert len(outage) == 1
    monkeypatch.undo()
    check_dash_response(client.page("/", f"?model={TINY_RUN_ID}"))  # the cache answers again: back to normal
    assert any("figure cache is back" in r.getMessage() for r in caplog.records)


# --- 13. Malformed callback requests get 400 -------------------------------------------------------

def _words_request(**changes) -> dict:
    body = {"output": "words-body.children", "outputs": {"id": "words-body", "property": "children"},
            "inputs": [{"id": "model-picker", "property": "value", "value": TINY_RUN_ID},
                       {"id": "words-search", "property": "value", "value": "red"}],
            "state": [], "changedPropIds": ["words-search.value"]}
    return {**body, **changes}


MALFORMED = {
    "a list": [], "a string": "words", "null": None, "a number": 5,
    "unknown output": _words_request(output="nope.children"),
    "clientside output": _words_request(output="share-url.children"),
    "missing input": _words_request(inputs=_words_request()["inputs"][:1]),
    "extra input": _words_request(inputs=_words_request()["inputs"] * 2),
    "inputs not a list": _words_request(inputs={"a": 1}),
    "input not an object": _words_request(inputs=["model-picker", "words-search"]),
    "input of another component": _words_request(inputs=[{"id": "other", "property": "value", "value": 1},
                                                         _words_request()["inputs"][1]]),
    "input id a list": _words_request(inputs=[{"id": [1], "property": "value"}, _words_request()["inputs"][1]]),
    "unexpected state": _words_request(state=[{"id": "x", "property": "value", "value": 1}]),
    "outputs of another callback": _words_request(outputs={"id": "trajectory-graph", "property": "figure"}),
    "outputs a string": _words_request(outputs="words-body.children"),
    "changedPropIds a number": _words_request(changedPropIds=7),
    "a 7 MB unknown output": _words_request(output="x" * 7_000_000),
}


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_a_malformed_callback_request_gets_400(client, kind):
    resp = client.client.post("/_dash-update-component", data=json.dumps(MALFORMED[kind]),
                              content_type="application/json")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400, body[:300]
    assert "Traceback" not in body and ".py" not in body and len(body) < 2000


def test_a_pattern_input_that_is_not_a_list_gets_400(client):
    dep = next(d for d in client.dependencies if "example-chip" in json.dumps(d["inputs"]))
    body = callback_body(dep, [("example-chip", "n_clicks", 1)], [("model-info", "data", None)])
    assert client.client.post("/_dash-update-component", json=body).status_code == 400


@pytest.mark.parametrize("path", ["/_dash-component-suites/dash/..%2f..", "/_dash-component-suites/dash/..%2f..%2fdash.py",
                                  "/_dash-component-suites/no-such-package/x.js"])
def test_a_bad_component_suite_path_gets_400(client, path):
    resp = client.client.get(path)
    assert resp.status_code == 400 and "Traceback" not in resp.get_data(as_text=True)


def test_tampered_values_in_well_formed_requests_are_answered(client):
    """Values of the wrong type where the server sent a dict or an int: a clean answer, not a 500."""
    for info in ("a string", [1, 2], 5, {"examples": "not a list"}, {"examples": [1, None]}):
        check_dash_response(client.call("trajectory-graph.figure", [("model-picker", "value", TINY_RUN_ID),
                                                                    ("view-mode", "value", "3d")],
                                        [("sentence-input", "value", 12), ("model-info", "data", info)]))
    dep = next(d for d in client.dependencies if "example-chip" in json.dumps(d["inputs"]))
    for index in ("0", 0.5, None, [0], True):
        chip = [{"id": {"type": "example-chip", "index": index}, "property": "n_clicks", "value": 1}]
        body = callback_body(dep, [chip], [("model-info", "data", {"examples": ["a", "b"]})])
        check_dash_response(client.client.post("/_dash-update-component", json=body))
    for graph_id in ("a", 5, None, {"side": "c"}, ["a"]):
        ids = [{**item, "value": graph_id} for item in COMPARE_GRAPH_IDS]
        check_dash_response(client.call('{"side":["ALL"],"type":"compare-graph"}.figure', [("compare-text", "value", "red")],
                                        [("compare-model-a", "value", TINY_RUN_ID), ("compare-model-b", "value", TINY_RUN_ID),
                                         ids], outputs=COMPARE_OUTPUTS))


# --- 8. The log stays small whatever the request carried -------------------------------------------

def test_a_huge_request_writes_little_log(client, monkeypatch, caplog):
    from dashboard.pages import words

    def explode(_run_id, query):
        raise RuntimeError(f"cannot search {query}")  # an error whose text quotes the request

    caplog.set_level(logging.INFO)
    assert client.client.post("/_dash-update-component", data=json.dumps(MALFORMED["a 7 MB unknown output"]),
                              content_type="application/json").status_code == 400
    monkeypatch.setattr(words, "_body", explode)
    resp = client.call("words-body.children", [("model-picker", "value", TINY_RUN_ID),
                                               ("words-search", "value", "q" * 7_000_000)])
    assert resp.status_code == 500
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    written = sum(len(handler.format(r)) for r in caplog.records)
    assert any("cannot search" in (r.exc_text or "") for r in caplog.records)
    assert written < 20_000, written

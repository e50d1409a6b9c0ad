"""Hostile input for every text-taking entry point, shared by the suite (tests/dashboard/test_fuzz.py)
and the long soak (benchmarks/fuzz_soak.py).

Each entry point is driven the way a browser (or a shell) drives it: Dash callbacks through the
app's real `/_dash-update-component` endpoint, page URLs through the pages router, the CLI through
`core.cli.main`. A check raises AssertionError with what was wrong.
"""
from __future__ import annotations

import io
import json
import re
import shutil
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import urlencode

from hypothesis import strategies as st

# --- strategies -----------------------------------------------------------------------------------

SNIPPETS = (
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "javascript:alert(1)", "\"><svg/onload=alert(1)>",
    "<b>bold</b>", "&lt;&amp;&#x3c;", "{{7*7}}", "${jndi:x}", "'; DROP TABLE runs; --", "%00", "%2e%2e%2f",
    "../../etc/passwd", "/etc/passwd", "C:\\Windows\\win.ini", "\x00", "\x07\x1b[31m", "\r\n", "\u2028\u2029",
    "\u202eevil\u202c", "\u200f\u05e9\u05dc\u05d5\u05dd", "\u0645\u0631\u062d\u0628\u0627", "e\u0301\u0301\u0301",
    "\ufeff", "\u00ad", "\u200b\u200d", "\ud800", "\udfff", "\udc80abc", "\U0001f600\U0001f44d\U0001f3fd",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467", "\U0010ffff", "\ufffd", "ﷺ", "𝔤𝔯𝔢𝔞𝔱", "ǅ", "İ", "ß",
    "great", "awful", "not bad", "red green blue", "don't", "it’s", "<unk>", "<pad>", "...", "!!!", "  \t  ",
)
WORDS = ("the", "movie", "was", "great", "awful", "boring", "red", "green", "blue", "not", "a", "and", "but")
PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~¿¡«»—–…·"
WHITESPACE = " \t\n\r\x0b\x0c\u00a0\u1680\u2000\u2003\u200a\u3000"
LONG_PASTE = 100_000
CANARY = "attractorscope-canary"  # a valid bundle planted outside the store: no path may reach it
PATH_LIKE = (f"../{CANARY}", f"../../{CANARY}", f"/tmp/{CANARY}", f"{CANARY}/../{CANARY}", "../models_store",
             "../../etc/passwd", "/etc/passwd", "..", ".", "%2e%2e/x", "tiny-gru/../tiny-gru", "x" * 5000, "TINY-GRU",
             "tiny-gru\n", " tiny-gru", "tiny-gru\x00")


def nasty_text() -> st.SearchStrategy[str]:
    """Arbitrary unicode (surrogates and controls included), hostile snippets, words, only punctuation,
    only whitespace, and now and then a paste of ~100k characters (built by repetition, so it is cheap)."""
    any_char = st.characters(exclude_categories=())  # every category, lone surrogates too
    piece = st.one_of(st.text(any_char, max_size=12), st.sampled_from(SNIPPETS), st.sampled_from(WORDS),
                      st.text(st.sampled_from(PUNCTUATION), min_size=1, max_size=6))
    short = st.lists(piece, max_size=40).flatmap(
        lambda parts: st.sampled_from([" ", "", "\n"]).map(lambda sep: sep.join(parts)))
    only_punct = st.text(st.sampled_from(PUNCTUATION), min_size=1, max_size=300)
    only_space = st.text(st.sampled_from(WHITESPACE), min_size=1, max_size=300)
    paste = st.tuples(short.filter(bool), st.integers(LONG_PASTE // 2, LONG_PASTE * 6 // 5)).map(
        lambda pair: (pair[0] * (pair[1] // len(pair[0]) + 1))[: pair[1]])
    # pastes are slow to process (every entry point runs ~2,000 tokens), so ~1 case in 20 is one
    return st.one_of(*[short] * 17, only_punct, only_space, paste)


def nasty_value() -> st.SearchStrategy:
    """What a tampered request can carry where a string belongs: text, numbers, lists, objects, null."""
    scalar = st.one_of(nasty_text(), st.integers(), st.floats(), st.booleans(), st.none())
    return st.one_of(nasty_text(), nasty_text(), scalar, st.lists(scalar, max_size=3),
                     st.dictionaries(st.text(max_size=5), scalar, max_size=3))


# --- driving Dash the way the browser does --------------------------------------------------------

def _prop_id(component_id, prop: str) -> str:
    if isinstance(component_id, dict):
        component_id = json.dumps(component_id, sort_keys=True, separators=(",", ":"))
    return f"{component_id}.{prop}"


def _parse_output(spec: str) -> dict:
    component_id, prop = spec.rsplit(".", 1)
    return {"id": json.loads(component_id) if component_id.startswith("{") else component_id, "property": prop}


def find_dependency(dependencies: list[dict], output_prefix: str) -> dict:
    """The server-side callback whose output starts with ``output_prefix`` (from `/_dash-dependencies`)."""
    return next(d for d in dependencies
                if not d.get("clientside_function") and d["output"].lstrip(".").startswith(output_prefix))


def callback_body(dependency: dict, inputs: list, state: list = (), outputs=None) -> dict:
    """The JSON the renderer posts to `/_dash-update-component`; inputs/state are (id, property, value)
    tuples, or a list standing for the matches of a pattern-matching id, already in wire form."""
    spec = dependency["output"]
    if outputs is None:
        outputs = [_parse_output(s) for s in spec[2:-2].split("...")] if spec.startswith("..") else _parse_output(spec)
    wire = lambda items: [item if isinstance(item, list) else {"id": item[0], "property": item[1], "value": item[2]}
                          for item in items]  # noqa: E731
    return {"output": spec, "outputs": outputs, "inputs": wire(inputs), "state": wire(state),
            "changedPropIds": [_changed(inputs[0])]}


def _changed(first_input) -> str:
    """The renderer's id of the input that fired (the first match, for a pattern-matching input)."""
    if isinstance(first_input, list):
        return _prop_id(first_input[0]["id"], first_input[0]["property"]) if first_input else ""
    return _prop_id(first_input[0], first_input[1])


def page_inputs(pathname: str, search: str) -> list[tuple]:
    """Inputs of the pages router: what a browser sends when it opens a link."""
    return [("_pages_location", "pathname", pathname), ("_pages_location", "search", search)]


PAGES_OUTPUT = "_pages_content.children"


class DashClient:
    """Posts callback requests shaped like the renderer's to a Flask test client."""

    def __init__(self, flask_client):
        self.client = flask_client
        self.client.get("/")
        self.dependencies = self.client.get("/_dash-dependencies").get_json()

    def call(self, output_prefix: str, inputs: list, state: list = (), outputs=None):
        body = callback_body(find_dependency(self.dependencies, output_prefix), inputs, state, outputs)
        return self.client.post("/_dash-update-component", json=body)

    def call_matching(self, output_prefix: str, input_type: str, inputs: list):
        """A callback told apart from others with the same output by its pattern-matching input's type."""
        dep = next(d for d in self.dependencies if not d.get("clientside_function")
                   and d["output"].startswith(output_prefix) and input_type in json.dumps(d["inputs"]))
        return self.client.post("/_dash-update-component", json=callback_body(dep, inputs))

    def page(self, pathname: str, search: str):
        """The pages router's answer for a URL (what a browser gets when it opens the link)."""
        return self.call(PAGES_OUTPUT, page_inputs(pathname, search))


# --- checks ---------------------------------------------------------------------------------------

TAG_RE = re.compile(r"<[A-Za-z/!?]")


def check_dash_response(resp) -> dict:
    """A 200 with a Dash JSON answer, or a 204 (nothing to update); never a 500 or a traceback."""
    body = resp.get_data(as_text=True)
    assert resp.status_code in (200, 204), f"HTTP {resp.status_code}: {body[:300]}"
    assert "Traceback" not in body, body[:300]
    if resp.status_code == 204:
        return {}
    data = json.loads(body)
    assert data.get("multi") is True and isinstance(data.get("response"), dict), body[:300]
    assert '"dangerously_allow_html":true' not in body.replace(" ", "")
    return data["response"]


def check_tokens_are_inert(tokens: list) -> None:
    """Tokens reach the page and Plotly hover labels: none may carry markup."""
    for token in tokens:
        assert isinstance(token, str) and token and not TAG_RE.search(token), repr(token)


def check_trajectory_payload(payload: dict) -> None:
    n = payload["n"]
    assert n == len(payload["tokens"]) <= 2000
    assert len(payload["xyz"]) == 3 * n and len(payload["probs"]) == payload["k"] * n or n == 0
    assert all(isinstance(x, (int, float)) for x in payload["xyz"] + payload["probs"])
    assert all(0 <= i < n for i in payload["unk"])
    check_tokens_are_inert(payload["tokens"])


def run_cli(argv: list[str]) -> tuple[int, str]:
    """core.cli.main in-process; argparse's own usage errors count as a clean exit 2."""
    from core.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as stop:
            code = stop.code
    text = out.getvalue() + err.getvalue()
    assert code in (0, 2), f"exit {code}: {text[-300:]}"
    assert "Traceback" not in text, text[-300:]
    return code, text


@dataclass(frozen=True)
class EntryPoint:
    name: str
    strategy: st.SearchStrategy
    check: Callable  # check(client: DashClient, run_id: str, value) -> None; raises AssertionError


PAGES = ("/", "/fixed-points", "/geometry", "/words", "/linearization", "/decomposition", "/compare", "/train",
         "/models", "/lesson", "/studies", "/attention")
QUERY_KEYS = ("model", "model_b", "text", "view", "q", "sort", "pick", "tour", "step", "overlay", "study",
              "__proto__", "constructor", "")


def url_search() -> st.SearchStrategy[str]:
    """A tampered query string: known and unknown keys, repeated keys, path-like and overlong values."""
    value = st.one_of(nasty_text(), st.sampled_from(PATH_LIKE), st.integers().map(str))
    pairs = st.lists(st.tuples(st.one_of(st.sampled_from(QUERY_KEYS), st.text(max_size=8)), value), max_size=5)
    return st.one_of(pairs.map(lambda p: "?" + urlencode(p, errors="surrogatepass")), nasty_text().map(lambda t: "?" + t), st.just(""))


# --- the entry points -----------------------------------------------------------------------------

COMPARE_OUTPUTS = [[{"id": {"side": s, "type": t}, "property": p} for s in "ab"]
                   for t, p in (("compare-graph", "figure"), ("compare-prediction", "children"))]
COMPARE_GRAPH_IDS = [{"id": {"side": s, "type": "compare-graph"}, "property": "id",
                      "value": {"side": s, "type": "compare-graph"}} for s in "ab"]


def _explore_text(c: DashClient, run_id: str, text) -> None:
    resp = c.call("trajectory-data.data", [("debounced-text", "data", text)], [("model-picker", "value", run_id)])
    patch = check_dash_response(resp)["trajectory-data"]["data"]
    check_trajectory_payload(patch["operations"][0]["params"]["value"])


def _trajectory_api(c: DashClient, run_id: str, value) -> None:
    """POST /api/trajectory (Explore's typing preview): the payload, or 400 with a one-line reason."""
    text, model, raw = value
    body = raw if raw is not None else {"model": run_id if model is None else model, "text": text}
    resp = c.client.post("/api/trajectory", data=json.dumps(body), content_type="application/json")
    assert resp.status_code in (200, 400), resp.status_code
    answer = resp.get_json()
    if resp.status_code == 400:
        assert isinstance(answer["error"], str) and "\n" not in answer["error"] and "Traceback" not in answer["error"]
    else:
        check_trajectory_payload(answer)


def _explore_switch(c: DashClient, run_id: str, value) -> None:
    text, model = value
    resp = c.call("trajectory-graph.figure", [("model-picker", "value", run_id if model is None else model),
                                              ("view-mode", "value", "3d")],
                  [("sentence-input", "value", text), ("model-info", "data", None)])
    response = check_dash_response(resp)
    for payload in response["trajectory-data"]["data"].values():
        check_trajectory_payload(payload)


def _linearization_text(c: DashClient, run_id: str, text) -> None:
    check_dash_response(c.call("linearization-body.children", [("model-picker", "value", run_id),
                                                               ("linearization-text", "value", text)]))


def _words_search(c: DashClient, run_id: str, text) -> None:
    check_dash_response(c.call("words-body.children", [("model-picker", "value", run_id),
                                                       ("words-search", "value", text)]))


def _compare_text(c: DashClient, run_id: str, text) -> None:
    resp = c.call('{"side":["ALL"],"type":"compare-graph"}.figure', [("compare-text", "value", text)],
                  [("compare-model-a", "value", run_id), ("compare-model-b", "value", run_id), COMPARE_GRAPH_IDS],
                  outputs=COMPARE_OUTPUTS)
    check_dash_response(resp)


def _train_form(c: DashClient, run_id: str, value) -> None:
    """The run-name box (and, tampered, any field) on Start and on every keystroke's estimate."""
    field, text = value
    from dashboard.train_form import DEFAULTS

    form = {**DEFAULTS, field: text}
    states = [(f"train-{name}", "value", v) for name, v in form.items()]
    check_dash_response(c.call("train-job-to-run.data", [("train-start", "n_clicks", 1)], states))
    check_dash_response(c.call("train-estimate.children", states))


def _page_url(c: DashClient, run_id: str, value) -> None:
    path, search = value
    response = check_dash_response(c.page(path, search))
    assert "_pages_content" in response


def _export(c: DashClient, run_id: str, value) -> None:
    """Explore's export request (assets/export.js writes it; tampered, it may hold anything) with any text: the CSV
    (cheap; the HTML and GIF read the same text and view the same way, tests/dashboard/test_export.py) or nothing."""
    kind, text, view = value
    resp = c.call("export-download.data", [("export-request", "data", {"kind": kind, "view": view})],
                  [("model-picker", "value", run_id), ("sentence-input", "value", text), ("view-mode", "value", "2d")])
    data = check_dash_response(resp).get("export-download", {}).get("data")
    if isinstance(data, dict):
        assert kind == "csv" and data["filename"].startswith(run_id + "_") and "/" not in data["filename"]


def _cli_eval_text(c, run_id: str, text) -> None:
    run_cli(["eval", run_id, f"--text={text}"])


def _cli_run_id(c, run_id: str, value) -> None:
    command, name = value
    if name in (run_id, "broken-bundle"):
        return
    argv = {"eval": ["eval", name, "--text=good"], "analyze": ["analyze", name], "run-job": ["run-job", name]}[command]
    code, _ = run_cli(argv)
    assert code == 2


def _fixed_point_click(c: DashClient, run_id: str, click) -> None:
    """A tampered click (or table cell) selects nothing it should not, and a tampered selection (the store
    the click writes) shows nothing it should not."""
    check_dash_response(c.call("fp-selected.data", [("fp-graph", "clickData", click), ("fp-table", "active_cell", None)]))
    body = callback_body(find_dependency(c.dependencies, "fp-selected.data"),
                         [("fp-graph", "clickData", None), ("fp-table", "active_cell", click)])
    body["changedPropIds"] = ["fp-table.active_cell"]  # the table cell fired, not the graph
    check_dash_response(c.client.post("/_dash-update-component", json=body))
    check_dash_response(c.call("fp-detail.children", [("fp-selected", "data", click)],
                               [("model-picker", "value", run_id)]))


def _job_button_ids(c: DashClient, run_id: str, value) -> None:
    """Cancel and Delete buttons carry a job or run id in their pattern-matching id: tampered, it must
    never reach outside the store, and never delete anything but a user's own run."""
    button, index = value
    if index in (run_id, "broken-bundle"):
        return  # deleting the store's own runs by name is what the button is for
    item = [{"id": {"type": button, "index": index}, "property": "n_clicks", "value": 1}]
    check_dash_response(c.call_matching("train-form-message.children", button, [item]))


def _data_url(data: bytes) -> str:
    import base64

    return "data:application/octet-stream;base64," + base64.b64encode(data).decode()


def upload_value() -> st.SearchStrategy:
    """What a tampered request can carry where an accepted upload belongs: any value, an upload of hostile
    names and bytes (a CSV of nasty text, a zip's magic, a pickle), or a damaged data URL."""
    names = st.one_of(st.sampled_from(["a.csv", "a.tsv", "m.zip", "model.json", "model.pt", "model.safetensors",
                                       "m.pkl", *PATH_LIKE]), nasty_text())
    body = st.one_of(nasty_text().map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary(max_size=200),
                     st.sampled_from([b"PK\x03\x04junk", b"\x80\x04K\x01.", b"text,label\na,b\n" * 40]))
    files = st.lists(st.tuples(names, body), min_size=1, max_size=3)
    good = files.map(lambda fs: {"names": [n for n, _ in fs], "contents": [_data_url(b) for _, b in fs]})
    return st.one_of(good, good, nasty_value(), st.fixed_dictionaries({"names": st.lists(nasty_value(), max_size=2),
                                                                       "contents": st.lists(nasty_value(), max_size=2)}))


def _own_uploads(c: DashClient, run_id: str, value) -> None:
    """The CSV and model uploads (the checks on upload, and Start/Import with any run name) of the Train page."""
    upload, name = value
    check_dash_response(c.call("own-csv-summary.children", [("own-csv-accepted", "data", upload)]))
    check_dash_response(c.call("own-model-summary.children", [("own-model-accepted", "data", upload)]))
    from dashboard.own_data import CSV_DEFAULTS

    states = [(f"own-csv-{n}", "value", name if n == "run_id" else v) for n, v in CSV_DEFAULTS.items()]
    check_dash_response(c.call("own-csv-message.children", [("own-csv-start", "n_clicks", 1)],
                               [("own-csv-accepted", "data", upload), *states]))
    check_dash_response(c.call("own-model-message.children", [("own-model-start", "n_clicks", 1)],
                               [("own-model-accepted", "data", upload), ("own-model-run-id", "value", name)]))


def _cli_import(c, run_id: str, value) -> None:
    """`python -m core import PATH --run-id NAME` with hostile paths and names: exit 2, one line."""
    path, name = value
    code, _ = run_cli(["import", path, f"--run-id={name}"])
    assert code == 2


def _dependency_with(c: DashClient, output: str) -> dict:
    """The server-side callback with ``output`` among its outputs (for outputs several callbacks share)."""
    return next(d for d in c.dependencies if not d.get("clientside_function") and output in d["output"])


def _explore_edit(c: DashClient, run_id: str, value) -> None:
    """A tampered token position (the store a click writes) and swap word, for the menu and every edit."""
    index, word, text = value
    state = [("debounced-text", "data", text), ("model-picker", "value", run_id)]
    check_dash_response(c.call("edit-menu.hidden", [("edit-target", "data", index)], state))
    body = callback_body(_dependency_with(c, "edit-graph.figure"),
                         [("edit-drop", "n_clicks", 1), ("edit-negate", "n_clicks", 1), ("edit-swap", "value", word)],
                         [("edit-target", "data", index), *state, ("view-mode", "value", "2d")])
    for changed in ("edit-swap.value", "edit-negate.n_clicks", "edit-drop.n_clicks"):
        body["changedPropIds"] = [changed]
        check_dash_response(c.client.post("/_dash-update-component", json=body))


def _explore_overlays(c: DashClient, run_id: str, value) -> None:
    """A new overlay text, a tampered list of them (the store; or the URL's repeated overlay=) and model info."""
    texts, new, info = value
    body = callback_body(_dependency_with(c, "overlay-texts.data"),
                         [("overlay-add", "n_clicks", 1), ("overlay-input", "n_submit", None), []],
                         [("overlay-input", "value", new), ("overlay-texts", "data", texts)])
    stored = check_dash_response(c.client.post("/_dash-update-component", json=body)).get("overlay-texts", {})
    info = {"run_id": run_id, "class_names": ["a", "b"]} if info is None else info
    body = callback_body(_dependency_with(c, "overlay-list.children"),
                         [("overlay-texts", "data", stored.get("data", texts)), ("model-info", "data", info)],
                         [("view-mode", "value", "3d")])
    response = check_dash_response(c.client.post("/_dash-update-component", json=body))
    figure = next((v for k, v in response.items() if k.startswith("trajectory-graph")), {}).get("figure", {})
    names = [op["params"]["value"] for op in figure.get("operations", []) if op["location"][-1] == "name"]
    check_tokens_are_inert([n for n in names if n])


def _click_data() -> st.SearchStrategy:
    point = st.dictionaries(st.sampled_from(["customdata", "pointNumber", "curveNumber", "x"]), nasty_value(),
                            max_size=3)
    return st.one_of(nasty_value(), st.fixed_dictionaries({"points": st.lists(point, max_size=2)}),
                     st.fixed_dictionaries({"points": st.lists(st.fixed_dictionaries(
                         {"customdata": st.integers(-5, 10**12)}), min_size=1, max_size=1)}))


ENTRY_POINTS = (
    EntryPoint("explore text", nasty_text(), _explore_text),
    EntryPoint("trajectory api", st.tuples(nasty_text(), st.one_of(st.none(), nasty_value()),
                                           st.one_of(st.none(), nasty_value())), _trajectory_api),
    EntryPoint("explore model switch", st.tuples(nasty_text(), st.one_of(st.none(), nasty_value())), _explore_switch),
    EntryPoint("linearization text", nasty_text(), _linearization_text),
    EntryPoint("words search", nasty_text(), _words_search),
    EntryPoint("compare text", nasty_text(), _compare_text),
    EntryPoint("train form", st.tuples(st.sampled_from(["run_id", "run_id", "units", "lr", "task", "cell"]),
                                       nasty_value()), _train_form),
    EntryPoint("page URLs", st.tuples(st.sampled_from(PAGES), url_search()), _page_url),
    EntryPoint("fixed point click", _click_data(), _fixed_point_click),
    EntryPoint("explore edit", st.tuples(st.one_of(st.integers(-3, 30), nasty_value()), st.one_of(nasty_text(),
                                                                                              nasty_value()),
                                         st.one_of(st.just("red green red the and"), nasty_text())), _explore_edit),
    EntryPoint("explore overlays", st.tuples(st.one_of(st.lists(nasty_text(), max_size=8), nasty_value()),
                                             st.one_of(nasty_text(), nasty_value()),
                                             st.one_of(st.none(), nasty_value())), _explore_overlays),
    EntryPoint("job and run buttons", st.tuples(st.sampled_from(["job-cancel", "run-delete"]), st.one_of(
        st.sampled_from(PATH_LIKE), nasty_text(), st.integers(), st.floats(), st.booleans(), st.none())),
        _job_button_ids),
    EntryPoint("own data uploads", st.tuples(upload_value(), nasty_value()), _own_uploads),
    # reading the folder it is given is what `import` is for: the canaries are no trap for it
    EntryPoint("cli import", st.tuples(st.one_of(st.sampled_from(PATH_LIKE), nasty_text()).filter(
        lambda t: not t.startswith("-") and CANARY not in t), nasty_text()), _cli_import),
    EntryPoint("export request", st.tuples(st.one_of(st.just("csv"), nasty_value()), nasty_text(), nasty_value()),
               _export),
    EntryPoint("cli eval --text", nasty_text(), _cli_eval_text),
    EntryPoint("cli run ids", st.tuples(st.sampled_from(["eval", "analyze", "run-job"]),
                                        st.one_of(st.sampled_from(PATH_LIKE), nasty_text()).filter(
                                            lambda t: not t.startswith("-"))), _cli_run_id),
)


def plant_canaries(bundle_dir: Path, store: Path) -> None:
    """Copy a valid bundle to where PATH_LIKE's tampered names point: beside the store, one level up
    and in /tmp. Any file event on them means a path escaped the store."""
    for canary in (store.parent / CANARY, store.parent.parent / CANARY, Path("/tmp") / CANARY):
        if not canary.exists():
            shutil.copytree(bundle_dir, canary)


def run_case(entry: EntryPoint, client, run_id: str, value) -> None:
    """One fuzz case: the entry point's own check, and no file touched outside the store."""
    with FileAccessWatch(CANARY) as watch:
        entry.check(client, run_id, value)
    assert not watch.hits, f"read outside the store: {watch.hits[:3]}"


# --- watching for file access outside the store ---------------------------------------------------

FILE_EVENTS = ("open", "os.listdir", "os.scandir", "os.remove", "os.rename", "os.rmdir", "shutil.rmtree", "os.mkdir")
_watched: list[tuple[str, list]] = []  # (marker, hits): the audit hook cannot be removed, so it reads this


def _audit(event: str, args) -> None:
    if _watched and event in FILE_EVENTS and args:
        path = str(args[0])
        for marker, hits in _watched:
            if marker in path:
                hits.append((event, path))


class FileAccessWatch:
    """Records every file event whose path contains ``marker`` while the context is open."""

    _hook_installed = False

    def __init__(self, marker: str):
        self.marker, self.hits = marker, []

    def __enter__(self):
        import sys

        if not FileAccessWatch._hook_installed:
            sys.addaudithook(_audit)
            FileAccessWatch._hook_installed = True
        _watched.append((self.marker, self.hits))
        return self

    def __exit__(self, *exc):
        _watched.remove((self.marker, self.hits))

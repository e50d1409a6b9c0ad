"""Serving safely: tampered URLs get a clear message and never reach outside the store, errors never
show a traceback, debug mode cannot be switched on by the environment, bodies are size-capped, and
every response carries the Content-Security-Policy."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.conftest import TINY_RUN_ID
from tests.fuzzing import CANARY, PAGES, DashClient, FileAccessWatch, check_dash_response, plant_canaries

REPO = Path(__file__).resolve().parents[2]
# the pages that show one classifier named by ?model= (/attention reads sequence models: test_attention_page.py;
# /studies reads ?study=)
ANALYSIS_PAGES = [p for p in PAGES if p not in ("/train", "/models", "/studies", "/attention")]
TAMPERED_MODELS = {
    "unknown": "no-such-model",
    "parent path": f"../{CANARY}",
    "two levels up": f"../../{CANARY}",
    "absolute path": f"/tmp/{CANARY}",
    "system file": "/etc/passwd",
    "overlong": "m" * 10_000,
    "upper case": TINY_RUN_ID.upper(),
    "trailing newline": TINY_RUN_ID + "\n",
    "NUL byte": TINY_RUN_ID + "\x00",
}


@pytest.fixture(scope="module")
def client(dash_app, analyzed_store):
    plant_canaries(analyzed_store / TINY_RUN_ID, analyzed_store)
    return DashClient(dash_app.server.test_client())


def _page_text(client, path: str, query: list[tuple[str, str]]) -> str:
    response = check_dash_response(client.page(path, "?" + urlencode(query)))
    return json.dumps(response["_pages_content"]["children"])


@pytest.mark.parametrize("path", ANALYSIS_PAGES)
@pytest.mark.parametrize("kind", list(TAMPERED_MODELS))
def test_a_tampered_model_in_the_url_is_explained_and_stays_in_the_store(client, path, kind):
    with FileAccessWatch(CANARY) as watch:
        page = _page_text(client, path, [("model", TAMPERED_MODELS[kind])])
    assert not watch.hits, watch.hits[:3]
    assert "There is no model named" in page and f"showing {TINY_RUN_ID} instead" in page


@pytest.mark.parametrize("path", ANALYSIS_PAGES)
def test_a_repeated_model_key_is_a_wrong_type_not_a_crash(client, path):
    page = _page_text(client, path, [("model", TINY_RUN_ID), ("model", "other")])
    assert "There is no model named" in page


def test_compare_explains_both_tampered_models(client):
    page = _page_text(client, "/compare", [("model", "../a"), ("model_b", "/etc/passwd")])
    assert page.count("There is no model named") == 2


@pytest.mark.parametrize("path", ANALYSIS_PAGES)
def test_a_valid_model_shows_no_notice(client, path):
    assert "There is no model named" not in _page_text(client, path, [("model", TINY_RUN_ID)])


def test_a_symlinked_bundle_in_the_store_is_never_served(client, analyzed_store):
    """A bundle folder that is a symbolic link (here to the canary outside the store) is unavailable."""
    link = analyzed_store / "linked-canary"
    os.symlink(analyzed_store.parent / CANARY, link)
    try:
        with FileAccessWatch(CANARY) as watch:
            page = _page_text(client, "/", [("model", "linked-canary")])
        assert not watch.hits, watch.hits[:3]
        assert "symbolic link" in page and "linked-canary" in page
    finally:
        link.unlink()


def test_an_overlong_text_in_the_url_is_cut_to_the_cap(client, dash_app):
    cap = dash_app.server.config["ATTRACTORSCOPE_SETTINGS"].max_text_chars
    page = _page_text(client, "/", [("model", TINY_RUN_ID), ("text", "red " * (cap // 2))])
    assert ("red " * (cap // 4))[:cap] in page and "red " * (cap // 2) not in page


def test_an_unexpected_error_is_a_plain_500_without_details(client, monkeypatch):
    from dashboard.pages import words

    def explode(*_args):
        raise RuntimeError("secret detail /etc/shadow")

    monkeypatch.setattr(words, "_body", explode)
    resp = client.call("words-body.children", [("model-picker", "value", TINY_RUN_ID), ("words-search", "value", "x")])
    body = resp.get_data(as_text=True)
    assert resp.status_code == 500
    assert "Traceback" not in body and "secret detail" not in body and ".py" not in body


def test_request_bodies_are_size_capped(client):
    from app import MAX_REQUEST_BYTES

    resp = client.client.post("/_dash-update-component", data=b"x" * (MAX_REQUEST_BYTES + 1),
                              content_type="application/json")
    assert resp.status_code == 413


@pytest.mark.parametrize("path", ["/", "/_dash-layout", "/_dash-dependencies", "/models"])
def test_every_response_carries_the_security_headers(client, path):
    resp = client.client.get(path)
    policy = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "object-src 'none'" in policy and "frame-ancestors 'self'" in policy
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_the_gunicorn_entry_ignores_debug_switches_in_the_environment(analyzed_store):
    """`gunicorn app:server` with ATTRACTORSCOPE_DEBUG=1 and FLASK_DEBUG=1 set: still no debug, no
    propagated exceptions (run in a fresh process: the entry builds its app once per process)."""
    env = {**os.environ, "ATTRACTORSCOPE_DEBUG": "1", "FLASK_DEBUG": "1", "ATTRACTORSCOPE_STORE": str(analyzed_store),
           "OMP_NUM_THREADS": "1"}
    probe = ("import app; s = app.server; "
             "print(s.debug, s.config['PROPAGATE_EXCEPTIONS'], s.config['MAX_CONTENT_LENGTH'] > 0)")
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-500:]
    assert out.stdout.split() == ["False", "False", "True"]

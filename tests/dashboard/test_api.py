"""POST /api/trajectory (dashboard/api.py): the payload Explore's callback stores, for the browser's preview."""
from __future__ import annotations

import json

import pytest

from dashboard import explore_logic
from dashboard.explore_logic import trajectory_for
from tests.conftest import TINY_RUN_ID


@pytest.fixture
def client(dash_app):
    return dash_app.server.test_client()


def test_the_route_answers_with_the_callbacks_payload(client, app_ctx):
    text = "red green red the and"
    response = client.post("/api/trajectory", json={"model": TINY_RUN_ID, "text": text})
    assert response.status_code == 200 and response.mimetype == "application/json"
    payload = json.loads(response.data)
    expected = trajectory_for(TINY_RUN_ID, text)
    assert payload["n"] == 5 and payload["tokens"] == expected["tokens"] and payload["run_id"] == TINY_RUN_ID
    assert payload["xyz"] == expected["xyz"] and payload["probs"] == expected["probs"]


@pytest.mark.parametrize("body", [None, [], "text", {"text": "red"}, {"model": TINY_RUN_ID},
                                  {"model": 3, "text": "red"}, {"model": "", "text": "red"},
                                  {"model": "x" * 201, "text": "red"}, {"model": TINY_RUN_ID, "text": ["red"]},
                                  {"model": "\ud800", "text": "red"}])
def test_a_malformed_request_gets_400_and_a_reason(client, body):
    response = client.post("/api/trajectory", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    reason = json.loads(response.data)["error"]
    assert reason and "Traceback" not in reason


def test_broken_json_is_refused_without_a_traceback(client):
    response = client.post("/api/trajectory", data="{not json", content_type="application/json")
    assert response.status_code == 400 and b"Traceback" not in response.data


def test_unknown_model_and_empty_text_answer_like_the_callback(client, app_ctx):
    unknown = json.loads(client.post("/api/trajectory", json={"model": "no-such-model", "text": "red"}).data)
    assert unknown["n"] == 0 and unknown["run_id"] == "no-such-model"
    empty = json.loads(client.post("/api/trajectory", json={"model": TINY_RUN_ID, "text": "   "}).data)
    assert empty["n"] == 0 and empty["notice"] == trajectory_for(TINY_RUN_ID, "   ")["notice"]


def test_recent_payloads_are_reused_and_bounded(app_ctx):
    """The preview and Dash's callback ask for the same payload: the second is the first, not recomputed."""
    first = trajectory_for(TINY_RUN_ID, "red red green")
    assert trajectory_for(TINY_RUN_ID, "red red green") is first
    for i in range(explore_logic.RECENT_PAYLOADS):
        trajectory_for(TINY_RUN_ID, "green " * (i + 1))
    assert len(explore_logic._RECENT) == explore_logic.RECENT_PAYLOADS
    again = trajectory_for(TINY_RUN_ID, "red red green")
    assert again is not first and again == first  # evicted, then computed again to the same answer


def test_a_huge_text_is_kept_in_the_cache_only_as_far_as_it_is_read(app_ctx):
    from dashboard.runtime import settings

    limit = settings().max_text_chars
    huge = "red green " * (limit // 5)
    payload = trajectory_for(TINY_RUN_ID, huge)
    assert "Long text" in payload["notice"]
    assert max(len(key[1]) for key in explore_logic._RECENT) <= limit
    assert trajectory_for(TINY_RUN_ID, huge + " more") is payload  # the same first `limit` characters

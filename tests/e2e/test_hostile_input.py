"""Hostile text and tampered URLs in a real browser, on every page that takes text or a model name:
shown as literal text, never executed (no injected element, no dialog), with a clear message."""
from __future__ import annotations

import urllib.parse

import pytest

from tests.conftest import TINY_RUN_ID

pytestmark = pytest.mark.e2e

HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script> red green"
INJECTED = "() => document.querySelectorAll('img[src=\"x\"], main script, svg[onload]').length"


def _open(page, path: str, ready: str = ".page-body .js-plotly-plot, .empty-state", **query) -> None:
    page.goto(page.base_url + path + "?" + urllib.parse.urlencode(query))
    page.wait_for_selector(ready, timeout=20_000)


@pytest.mark.parametrize("path", ["/linearization", "/compare"])
def test_hostile_text_in_a_link_stays_text(page, path):
    _open(page, path, model=TINY_RUN_ID, text=HOSTILE)
    box = page.locator("textarea").first
    assert box.input_value() == HOSTILE
    assert page.evaluate(INJECTED) == 0 and page.dialogs == []


@pytest.mark.parametrize("path", ["/", "/fixed-points", "/geometry", "/words", "/linearization", "/decomposition",
                                  "/compare"])
def test_a_model_name_made_of_markup_is_explained_as_text(page, path):
    _open(page, path, ready=".model-message:not([hidden])", model=HOSTILE)
    message = page.locator(".model-message").first
    assert "There is no model named" in message.inner_text() and "<img src=x" in message.inner_text()
    assert page.evaluate(INJECTED) == 0 and page.dialogs == []


def test_hostile_search_on_the_words_page_stays_text(page):
    _open(page, "/words", model=TINY_RUN_ID)
    page.fill("#words-search", HOSTILE)
    page.wait_for_function("() => document.querySelector('#words-body').innerText.includes('highlighted')",
                           timeout=20_000)
    labels = page.evaluate("() => [...document.querySelectorAll('#words-body .annotation-text')].map(e => e.textContent)")
    assert sorted(labels) == sorted(["red", "green"] * 2)  # the two searched words, labelled on both plots
    assert page.evaluate(INJECTED) == 0 and page.dialogs == []

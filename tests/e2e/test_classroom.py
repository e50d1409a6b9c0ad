"""Issue 17 in the browser, over a copy of the real models_store: the navbar carries the user's text across pages
without a text box."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import real_run_ids

pytestmark = pytest.mark.e2e

MODEL = "gru-imdb" if "gru-imdb" in real_run_ids() else (real_run_ids() or [""])[0]
MY_TEXT = "my own words: a slow, dull film that I did not enjoy"

SETTLED = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).every(g => g.querySelector('.main-svg'))
  && !document.querySelector('[data-dash-is-loading="true"]') && !!document.querySelector('main')
  && document.querySelector('main').innerText.length > 100"""


def settle(page) -> None:
    # generous: a first Linearization of a long review took over 20 s on two busy cores (no timing is asserted)
    page.wait_for_function(SETTLED, timeout=120_000)
    # two frames: Plotly's resize and the last layout pass after the loading flags clear
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def click_nav(page, name: str, path: str) -> None:
    page.click(f"a.nav-link:text-is('{name}')")
    page.wait_for_function("p => window.location.pathname === p", arg=path)
    settle(page)


def test_navbar_carries_my_text_across_pages_without_a_text_box(real_page):
    page = real_page
    page.goto(f"{page.base_url}/?model={MODEL}")
    settle(page)
    page.fill("#sentence-input", MY_TEXT)
    page.wait_for_function("t => new URLSearchParams(window.location.search).get('text') === t", arg=MY_TEXT)
    click_nav(page, "Geometry", "/geometry")
    click_nav(page, "Linearization", "/linearization")
    page.wait_for_function("t => (document.querySelector('#linearization-text') || {}).value === t", arg=MY_TEXT)
    click_nav(page, "Explore", "/")
    page.wait_for_function("t => (document.querySelector('#sentence-input') || {}).value === t", arg=MY_TEXT)
    assert page.input_value("#sentence-input") == MY_TEXT

"""Lesson mode in headless Chromium over the bundled models: the keyboard walks the text, a tour link shows its
caption and the keyboard moves to the next step, a bad step is explained, and Explore links to the lesson."""
from __future__ import annotations

import urllib.parse

import pytest

from dashboard.tours import load_tour

pytestmark = pytest.mark.e2e

SHOWN_JS = """() => {
  const g = document.querySelector('#lesson-graph .js-plotly-plot');
  const m = g && g.layout && g.layout.meta;
  return {
    points: m && g.data[m.trajectory] && g.data[m.trajectory].x ? g.data[m.trajectory].x.length : -1,
    label: (document.querySelector('#lesson-step-label') || {}).textContent || '',
    current: (document.querySelector('#lesson-strip .tok.current') || {}).textContent || null,
    caption: (document.querySelector('#lesson-caption') || {}).textContent || '',
    step: (document.querySelector('#lesson-tour-step') || {}).textContent || '',
    speed: (document.querySelector('#lesson-speed') || {}).textContent || '',
  };
}"""


def shown(page) -> dict:
    return page.evaluate(SHOWN_JS)


def wait_shown(page, condition: str, timeout: float = 30_000) -> dict:
    page.wait_for_function(f"() => {{ const s = ({SHOWN_JS})(); return !!({condition}); }}", timeout=timeout)
    return shown(page)


def test_keyboard_walks_the_text_and_a_tour_link_moves_on(real_page):
    tour = load_tour("line-attractor")
    page = real_page
    page.goto(f"{page.base_url}/lesson?tour=line-attractor&step=2")
    s = wait_shown(page, "s.label === '0 / 3 words' && s.points === 0")
    assert s["caption"] == tour.steps[1].caption and s["step"] == "step 2 / 5"
    assert not page.is_visible(".navbar")  # full screen: no navbar

    page.keyboard.press("Space")
    s = wait_shown(page, "s.label === '1 / 3 words' && s.points === 1")
    assert s["current"] == "a"
    page.keyboard.press("ArrowRight")
    s = wait_shown(page, "s.points === 2")
    assert s["current"] == "wonderful"
    page.keyboard.press("ArrowLeft")
    wait_shown(page, "s.points === 1")
    page.keyboard.press("+")
    assert shown(page)["speed"] == "2×"
    page.keyboard.press("-")
    page.keyboard.press("-")
    assert shown(page)["speed"] == "0.5×"

    page.keyboard.press("n")  # the next step of the tour, by its link
    s = wait_shown(page, f"s.step === 'step 3 / 5' && s.label === '0 / 3 words'")
    assert s["caption"] == tour.steps[2].caption
    assert "step=3" in page.url and "tour=line-attractor" in page.url
    page.keyboard.press("End")
    s = wait_shown(page, "s.points === 3")
    assert "negative" in page.inner_text("#lesson-prediction")


def test_a_bad_step_is_explained(real_page):
    page = real_page
    page.goto(f"{page.base_url}/lesson?tour=line-attractor&step=9")
    page.wait_for_selector("#lesson-message:not([hidden])")
    assert "This tour has steps 1 to 5, not '9'; showing step 1." in page.inner_text("#lesson-message")
    assert shown(page)["step"] == "step 1 / 5"


def test_explore_links_to_the_same_view_in_lesson_mode(real_page):
    page = real_page
    query = urllib.parse.urlencode({"model": "gru-cat3", "text": "red red green", "view": "3d"})
    page.goto(f"{page.base_url}/?{query}")
    page.wait_for_function("() => (document.querySelector('#lesson-link') || {}).href"
                           " && document.querySelector('#lesson-link').href.includes('red+red+green')", timeout=30_000)
    page.evaluate("() => document.getElementById('lesson-link').click()")  # the 3D draw keeps the page busy
    # patient: the first 3D figure of a model is built on this request (15 s here at load average 13)
    s = wait_shown(page, "s.label === '3 / 3 words' && s.points === 3", timeout=120_000)
    assert page.is_visible("#lesson-rotate") and "view=3d" in page.url
    eye = "id => { const e = document.querySelector('#' + id + ' .js-plotly-plot')._fullLayout.scene.camera.eye; " \
          "return [e.x, e.y, e.z]; }"
    before = page.evaluate(eye, "lesson-cloud")
    page.keyboard.press("r")  # slow rotation: the camera turns about the vertical axis, the cloud layer with it
    page.wait_for_function(f"() => ({eye})('lesson-cloud')[0] !== {before[0]}", timeout=30_000)
    page.keyboard.press("r")
    over, cloud = page.evaluate(eye, "lesson-graph"), page.evaluate(eye, "lesson-cloud")
    assert abs(cloud[2] - before[2]) < 1e-9 and abs(cloud[0] ** 2 + cloud[1] ** 2 - before[0] ** 2 - before[1] ** 2) < 1e-6
    assert max(abs(a - b) for a, b in zip(over, cloud)) < 0.05  # the layers turn together


FONTS_JS = """() => {
  const over = document.querySelector('#lesson-graph .js-plotly-plot');
  const cloud = document.querySelector('#lesson-cloud .js-plotly-plot');
  if (!over || !cloud || !over._fullLayout || !cloud._fullLayout) return null;
  const labels = over.data.filter(t => String(t.mode || '').includes('text')).map(t => (t.textfont || {}).size);
  return {font: over._fullLayout.font.size, cloudFont: cloud._fullLayout.font.size, labels: labels,
          margin: over._fullLayout.margin, cloudMargin: cloud._fullLayout.margin,
          plotWidth: over._fullLayout._size.w, scroll: document.documentElement.scrollWidth};
}"""


def test_a_phone_gets_smaller_type_and_a_wider_plot_than_a_projector(real_page):
    page = real_page
    before = page.viewport_size
    try:
        sizes = {}
        for name, viewport in (("projector", {"width": 1280, "height": 720}), ("phone", {"width": 390, "height": 844})):
            page.set_viewport_size(viewport)
            page.goto(f"{page.base_url}/lesson?tour=line-attractor&step=2")
            wait_shown(page, "s.label === '0 / 3 words'")
            page.wait_for_function(f"() => ({FONTS_JS})() !== null", timeout=30_000)  # both layers plotted
            if name == "phone":
                page.wait_for_function(f"() => {{ const f = ({FONTS_JS})(); return f && f.font <= 12; }}", timeout=30_000)
            sizes[name] = page.evaluate(FONTS_JS)
            page.screenshot(path=f"test-artifacts/lesson-{name}.png")
        projector, phone = sizes["projector"], sizes["phone"]
        assert projector["font"] == 20 and phone["font"] == 12 and phone["cloudFont"] == 12
        assert phone["labels"] and max(phone["labels"]) <= 13 < min(projector["labels"])
        for side in ("l", "r", "t", "b"):  # the cloud stays exactly under the overlay
            assert phone["margin"][side] == phone["cloudMargin"][side]
        assert phone["plotWidth"] >= 300 and phone["scroll"] <= 390
    finally:
        page.set_viewport_size(before)

"""Explore page in headless Chromium: typing, models, examples, sharing, caps, hostile text, playback, views.

Figure state is read from the live Plotly div; its layout.meta says which trace is which.
"""
from __future__ import annotations

import json
import urllib.parse

import pytest

from core import store
from core.text import tokenize
from tests.conftest import BROKEN_RUN_ID, TINY_RUN_ID
from tests.e2e.conftest import LSTM_RUN_ID

pytestmark = pytest.mark.e2e

# Everything a test asserts on, read in one go from the browser.
STATE_JS = """() => {
  const g = document.querySelector('#trajectory-graph .js-plotly-plot');
  const c = document.querySelector('#cloud-graph .js-plotly-plot');
  const out = {
    strip: Array.from(document.querySelectorAll('#token-strip .tok')).map(e => e.textContent),
    unk: Array.from(document.querySelectorAll('#token-strip .tok')).map(e => e.classList.contains('unk')),
    notice: (document.querySelector('#text-notice') || {}).textContent || '',
    prediction: (document.querySelector('#prediction-text') || {}).textContent || '',
    share: (document.querySelector('#share-url') || {}).textContent || '',
    text: (document.querySelector('#sentence-input') || {}).value,
    message: (document.querySelector('#model-message') || {}).textContent || '',
    message_hidden: !!(document.querySelector('#model-message') || {}).hidden,
    play: (document.querySelector('#play-button') || {}).textContent || '',
    step: (document.querySelector('#step-label') || {}).textContent || '',
    run_id: null,
  };
  if (!g || !g.data || !g.layout || !g.layout.meta || g.layout.meta.trajectory === undefined) { return out; }
  const m = g.layout.meta, len = i => (g.data[i] && g.data[i].x) ? g.data[i].x.length : -1;
  const arr = (i, a) => (g.data[i] && g.data[i][a]) ? Array.from(g.data[i][a]) : null;
  return Object.assign(out, {
    run_id: m.run_id, three_d: m.three_d, n_traces: g.data.length, types: g.data.map(t => t.type),
    n_classes: m.slow_points, cloud_names: g.data.slice(0, m.slow_points).map(t => t.name),
    // the cloud is its own graph under this one; it arrives as base64 float32, decoded into _fullData
    cloud_points: (c && c._fullData || []).slice(0, m.slow_points).reduce((s, t) => s + (t.x ? t.x.length : 0), 0),
    traj: len(m.trajectory), start: len(m.start), end: len(m.end), highlight: len(m.highlight),
    traj_x: arr(m.trajectory, 'x'), traj_y: arr(m.trajectory, 'y'), traj_z: arr(m.trajectory, 'z'),
    highlight_x: arr(m.highlight, 'x'), highlight_y: arr(m.highlight, 'y'),
    highlight_shown: !!g.data[m.highlight] && g.data[m.highlight].visible !== false,
  });
}"""

HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script>"


def state(page) -> dict:
    return page.evaluate(STATE_JS)


def wait_state(page, condition: str, timeout: float = 15_000) -> dict:
    """Wait until the JS boolean `condition` over `s` (the state above) holds; say what was seen if not."""
    try:
        page.wait_for_function(f"() => {{ const s = ({STATE_JS})(); return !!({condition}); }}", timeout=timeout)
    except Exception as err:  # playwright TimeoutError: report the state the page was stuck in
        seen = {k: v for k, v in state(page).items() if not k.endswith(("_x", "_y", "_z"))}
        raise AssertionError(f"timed out waiting for `{condition}`; page state: {seen}") from err
    return state(page)


def js(value) -> str:
    """A Python value as a JS literal."""
    return json.dumps(value)


def drawn(run_id: str, n: int, tokens: list[str] | None = None) -> str:
    """The condition: figure of `run_id` shows n trajectory points and the strip n tokens (these, if given)."""
    cond = f"s.run_id === {js(run_id)} && s.traj === {n} && s.strip.length === {n} && s.end === {1 if n else 0}"
    return cond + (f" && JSON.stringify(s.strip) === JSON.stringify({js(tokens)})" if tokens is not None else "")


def examples(e2e_store, run_id: str) -> list[str]:
    return list(store.load_path(e2e_store / run_id).info["examples"])


def open_explore(page, query: str = "", run_id: str = TINY_RUN_ID, n: int | None = None) -> dict:
    page.goto(page.base_url + "/" + query)
    cond = f"s.run_id === {js(run_id)} && s.traj > 0 && s.strip.length === s.traj"
    return wait_state(page, drawn(run_id, n) if n is not None else cond)


def choose_model(page, run_id: str) -> None:
    page.click("#model-picker")
    page.click(f".dash-dropdown-option:has(input[value={js(run_id)}])")


def test_page_loads_default_model_without_errors(page, e2e_store, artifacts):
    default_text = examples(e2e_store, TINY_RUN_ID)[-2]
    s = open_explore(page, n=len(tokenize(default_text)))
    assert s["text"] == default_text
    assert s["strip"] == tokenize(default_text)
    assert s["n_classes"] == 2 and s["cloud_points"] > 100
    assert s["three_d"] is False and "scatter3d" not in s["types"]  # 2D by default: the path reads best flat
    assert s["prediction"].startswith("Prediction: ")
    assert s["message_hidden"]
    assert "tiny-gru" in page.inner_text("#model-picker")
    page.screenshot(path=str(artifacts / "explore.png"))


def test_typing_draws_one_point_per_token(page):
    open_explore(page)
    box = page.locator("#sentence-input")
    box.fill("red green red the")
    box.type(" and green", delay=40)
    words = "red green red the and green".split()
    s = wait_state(page, drawn(TINY_RUN_ID, len(words), words))
    assert s["strip"] == words
    assert len(s["traj_x"]) == len(s["traj_y"]) == len(words) and s["traj_z"] is None  # 2D by default
    assert all(isinstance(v, (int, float)) for v in s["traj_x"] + s["traj_y"])
    assert s["start"] == 1 and s["highlight"] == 0
    assert s["step"].strip() == f"{len(words)} / {len(words)} tokens"


def test_unknown_words_are_marked(page):
    open_explore(page)
    page.fill("#sentence-input", "red zebra green quux the")
    s = wait_state(page, drawn(TINY_RUN_ID, 5))
    assert s["unk"] == [False, True, False, True, False]
    assert "2 words not in this model's vocabulary" in s["notice"]


def wait_for_held(page, held: list, what: str) -> None:
    """Wait (5 s at most) until a route handler has held back a request in ``held``."""
    for _ in range(50):
        if held:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"{what} was never sent")


def _callback_output(request) -> str:
    """The `output` spec of a Dash callback request ('' for anything else)."""
    if "_dash-update-component" not in request.url or request.method != "POST":
        return ""
    try:
        return request.post_data_json.get("output", "")
    except Exception:  # not JSON
        return ""


SWITCH_OUTPUT = "model-info.data"           # switch_model: new attractor figure, model info, chips, trajectory
TRAJECTORY_OUTPUT = "trajectory-data.data"  # update_trajectory: a typed edit run through the current model


def test_switching_model_redraws_attractor_and_keeps_own_text(page):
    open_explore(page)
    page.fill("#sentence-input", "blue blue blue the blue")
    before = wait_state(page, drawn(TINY_RUN_ID, 5))
    assert before["unk"] == [True, True, True, False, True]  # blue is unknown to the 2-class GRU
    assert "blue" not in before["prediction"]
    choose_model(page, LSTM_RUN_ID)
    after = wait_state(page, drawn(LSTM_RUN_ID, 5) + " && s.prediction.includes('blue')")
    assert after["text"] == "blue blue blue the blue"  # the user's own text survives the switch
    assert after["n_classes"] == 3 and after["n_traces"] == before["n_traces"] + 1
    assert "states → blue" in after["cloud_names"]
    assert after["unk"] == [False] * 5
    assert after["traj_x"] != before["traj_x"]
    assert "tiny-lstm" in page.inner_text("#model-picker")
    assert "model=tiny-lstm" in after["share"]


def test_a_late_answer_for_the_old_model_does_not_erase_the_new_one(page):
    """An edit's answer computed for the old model arrives after the switch: the new view must survive it."""
    open_explore(page)
    held = []

    def hold_first_edit(route):
        if not held and TRAJECTORY_OUTPUT == _callback_output(route.request):
            held.append(route)
        else:
            route.continue_()

    page.route("**/_dash-update-component*", hold_first_edit)
    page.fill("#sentence-input", "blue blue blue the blue")
    wait_for_held(page, held, "the typing request")
    with page.expect_response(lambda r: SWITCH_OUTPUT in _callback_output(r.request)):
        choose_model(page, LSTM_RUN_ID)
    held[0].continue_()  # the stale tiny-gru answer lands after the switch
    after = wait_state(page, drawn(LSTM_RUN_ID, 5) + " && s.prediction.includes('blue')")
    assert after["strip"] == ["blue", "blue", "blue", "the", "blue"]


def test_switching_model_swaps_in_its_example_and_chips(page, e2e_store):
    open_explore(page)
    lstm_examples = examples(e2e_store, LSTM_RUN_ID)
    choose_model(page, LSTM_RUN_ID)
    s = wait_state(page, drawn(LSTM_RUN_ID, len(tokenize(lstm_examples[-2]))))
    assert s["text"] == lstm_examples[-2]
    chips = page.eval_on_selector_all(".chip", "els => els.map(e => e.title)")
    assert chips == lstm_examples


def test_example_chip_fills_box_and_redraws(page, e2e_store):
    open_explore(page)
    first = examples(e2e_store, TINY_RUN_ID)[0]
    page.locator(".chip").first.click()
    s = wait_state(page, drawn(TINY_RUN_ID, len(tokenize(first))) + f" && s.text === {js(first)}")
    assert s["strip"] == tokenize(first)


def test_shared_url_restores_model_and_text(page):
    text = "blue red blue the green blue"
    s = open_explore(page, "?" + urllib.parse.urlencode({"model": LSTM_RUN_ID, "text": text}),
                     run_id=LSTM_RUN_ID, n=6)
    assert s["text"] == text and s["strip"] == text.split()
    assert "tiny-lstm" in page.inner_text("#model-picker")
    assert "blue" in s["prediction"]


def test_copy_link_target_holds_model_and_text(page):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=page.base_url)
    open_explore(page)
    page.fill("#sentence-input", "green red & green?")
    s = wait_state(page, drawn(TINY_RUN_ID, 5) + " && s.share.includes('green')")
    url = urllib.parse.urlparse(s["share"])
    assert url.scheme == "http" and url.netloc in page.base_url
    assert urllib.parse.parse_qs(url.query) == {"model": [TINY_RUN_ID], "text": ["green red & green?"]}
    page.click("#copy-link")
    page.wait_for_function("async expected => (await navigator.clipboard.readText()) === expected", arg=s["share"])
    # the link round-trips: a fresh visitor sees the same model, text and trajectory
    page.goto(s["share"])
    again = wait_state(page, drawn(TINY_RUN_ID, 5))
    assert again["text"] == "green red & green?" and again["traj_x"] == s["traj_x"]


def test_empty_text_shows_hint_and_empty_trajectory(page):
    open_explore(page)
    page.fill("#sentence-input", "")
    s = wait_state(page, f"s.run_id === {js(TINY_RUN_ID)} && s.traj === 0 && s.notice.includes('Type or paste')")
    assert s["strip"] == [] and s["start"] == 0 and s["end"] == 0 and s["highlight"] == 0
    assert s["prediction"] == ""
    assert s["message_hidden"]


def test_long_text_is_capped_with_notice(page):
    open_explore(page)
    page.fill("#sentence-input", "red green " * 1250)  # 2,500 tokens
    s = wait_state(page, drawn(TINY_RUN_ID, 2000), timeout=30_000)
    assert "only the first 2,000 tokens" in s["notice"]
    assert s["step"].strip() == "2000 / 2000 tokens"


def test_hostile_text_is_shown_as_literal_tokens(page):
    open_explore(page)
    page.fill("#sentence-input", HOSTILE)
    expected = tokenize(HOSTILE)
    s = wait_state(page, drawn(TINY_RUN_ID, len(expected)))
    assert s["strip"] == expected
    assert {"<", "img", "onerror", "script", ">"} <= set(s["strip"])
    page.hover("#token-strip .tok >> nth=1")  # hover text goes through plotly too
    wait_state(page, "s.highlight === 1")
    # and the same text arriving through a shared link, rendered by the server
    page.goto(page.base_url + "/?" + urllib.parse.urlencode({"model": TINY_RUN_ID, "text": HOSTILE}))
    s = wait_state(page, drawn(TINY_RUN_ID, len(expected)))
    assert s["text"] == HOSTILE
    assert page.evaluate("() => document.querySelectorAll('img[src=\"x\"], #token-strip script').length") == 0
    assert page.dialogs == []


def test_broken_bundle_is_disabled_and_explained(page):
    open_explore(page)
    page.click("#model-picker")
    option = page.locator(f".dash-dropdown-option:has(input[value={js(BROKEN_RUN_ID)}])")
    assert option.is_disabled() and option.locator("input").is_disabled()
    assert "unavailable" in option.inner_text().lower()
    option.click(force=True)  # a click on it anyway changes nothing
    assert page.evaluate("() => document.querySelector('#model-picker').textContent").count(TINY_RUN_ID) == 1
    page.keyboard.press("Escape")
    wait_state(page, f"s.run_id === {js(TINY_RUN_ID)} && s.traj > 0 && s.message_hidden")
    # a shared link to the broken model explains itself and the page still works
    page.goto(page.base_url + f"/?model={BROKEN_RUN_ID}")
    page.wait_for_selector("#model-message:not([hidden])")
    message = page.inner_text("#model-message")
    assert BROKEN_RUN_ID in message and "cannot be loaded" in message
    choose_model(page, TINY_RUN_ID)
    wait_state(page, f"s.run_id === {js(TINY_RUN_ID)} && s.traj > 0")  # the switch swaps in the model's example
    page.fill("#sentence-input", "red red green")
    s = wait_state(page, drawn(TINY_RUN_ID, 3) + " && s.message_hidden")
    assert s["prediction"].startswith("Prediction: ")


def test_play_grows_trajectory_to_full_length(page):
    text = "red green red the and green green red the red"
    n = len(text.split())
    open_explore(page, "?" + urllib.parse.urlencode({"text": text}), n=n)
    # sample the trajectory length every animation frame while the animation runs
    page.evaluate("""() => {
      window.__lens = [];
      const g = document.querySelector('#trajectory-graph .js-plotly-plot');
      const tick = () => { window.__lens.push(g.data[g.layout.meta.trajectory].x.length);
                           if (window.__lens.length < 5000) { requestAnimationFrame(tick); } };
      tick();
    }""")
    page.click("#play-button")
    wait_state(page, "s.play.includes('Pause')")
    wait_state(page, f"s.traj > 0 && s.traj < {n}")
    s = wait_state(page, f"s.traj === {n} && s.play.includes('Play') && !s.play.includes('Pause')", timeout=20_000)
    lens = page.evaluate("() => window.__lens")
    seen = sorted(set(lens))
    assert seen[-1] == n and len([v for v in seen if v < n]) >= n // 2, f"lengths seen: {seen}"
    during = lens[lens.index(min(v for v in lens if v < n)):]
    assert during == sorted(during), f"trajectory shrank during playback: {during}"
    assert s["strip"] == text.split()


def test_hovering_a_token_highlights_exactly_one_point(page):
    text = "red green red the and green"
    open_explore(page, "?" + urllib.parse.urlencode({"text": text}), n=6)
    page.hover("#token-strip .tok >> nth=2")
    s = wait_state(page, "s.highlight === 1 && s.highlight_shown")
    assert s["highlight_x"] == [s["traj_x"][2]] and s["highlight_y"] == [s["traj_y"][2]]
    page.hover("#token-strip .tok >> nth=4")
    s = wait_state(page, f"s.highlight === 1 && s.highlight_x[0] === {s['traj_x'][4]}")
    assert s["highlight_y"] == [s["traj_y"][4]]
    page.hover("#sentence-input")  # leaving the strip clears the highlight, and hides its trace
    wait_state(page, "s.highlight === 0 && !s.highlight_shown")


def test_3d_view_from_link_shows_trajectory(page, artifacts):
    text = "red green red the and green"
    s = open_explore(page, "?" + urllib.parse.urlencode({"text": text, "view": "3d"}), n=6)
    assert s["three_d"] is True and "scatter3d" in s["types"]
    assert len(s["traj_z"]) == 6 and len(s["traj_y"]) == 6
    assert page.is_checked("#view-mode input[value='3d']")
    page.screenshot(path=str(artifacts / "explore-3d.png"))
    page.fill("#sentence-input", "green green red")  # typing in 3D keeps drawing
    wait_state(page, f"s.three_d === true && {drawn(TINY_RUN_ID, 3)}")


def test_3d_toggle_keeps_trajectory(page):
    text = "red green red the and green"
    open_explore(page, "?" + urllib.parse.urlencode({"text": text}), n=6)
    page.click("#view-mode label:has(input[value='3d'])")
    s = wait_state(page, f"s.three_d === true && {drawn(TINY_RUN_ID, 6)}")
    assert "scatter3d" in s["types"] and len(s["traj_z"]) == 6
    assert s["text"] == text and "view=3d" in s["share"]


def test_typing_draws_the_path_before_dashs_round_trip_and_an_older_answer_never_moves_it_back(page):
    """The preview (assets/explore.js, POST /api/trajectory) draws a keystroke's path by itself: with every
    trajectory callback of Dash's refused, the path still follows the text while the token strip (Dash's)
    stays behind. Dash's answers then bring the strip in line; an answer for an older text than the one
    the preview shows is not drawn."""
    open_explore(page, "?" + urllib.parse.urlencode({"text": "red green"}), n=2)
    blocked = []

    def refuse_trajectory(route):
        if TRAJECTORY_OUTPUT == _callback_output(route.request):
            blocked.append(route.request.post_data)
            route.abort()
        else:
            route.continue_()

    dash_updates = "**/_dash-update-component*"
    page.route(dash_updates, refuse_trajectory)
    page.fill("#sentence-input", "red green red the and")
    wait_state(page, "s.traj === 5 && s.end === 1")
    wait_for_held(page, blocked, "Dash's request")  # it leaves after the preview has drawn, and is refused
    page.wait_for_timeout(300)
    s = state(page)
    assert blocked and s["traj"] == 5 and s["strip"] == ["red", "green"]  # only the preview could have drawn it
    page.unroute(dash_updates)
    page.wait_for_timeout(3_200)  # the refused request counts as stuck after 3 s (explore.js STUCK_MS)
    page.fill("#sentence-input", "green red green")
    wait_state(page, drawn(TINY_RUN_ID, 3, ["green", "red", "green"]))
    # Dash's answer for "green green" is held back until the preview has drawn a newer text: it must not be drawn
    held = []

    def hold_first(route):
        body = route.request.post_data or ""
        if TRAJECTORY_OUTPUT == _callback_output(route.request) and '"value":"green green"' in body and not held:
            held.append(route)
        else:
            route.continue_()

    page.route(dash_updates, hold_first)
    page.fill("#sentence-input", "green green")
    wait_for_held(page, held, "Dash's request for the first text")
    page.fill("#sentence-input", "red red red red")
    wait_state(page, "s.traj === 4")
    page.evaluate("""() => { const g = document.querySelector('#trajectory-graph .js-plotly-plot');
        window.__fewest = Infinity;
        g.on('plotly_afterplot', () => { window.__fewest = Math.min(window.__fewest, g.data[g.layout.meta.trajectory].x.length); }); }""")
    held[0].continue_()
    wait_state(page, drawn(TINY_RUN_ID, 4, ["red"] * 4))
    page.unroute(dash_updates)
    assert page.evaluate("() => window.__fewest") == 4  # never back to the older text's 2 points
    # the refused requests' own console errors, and only those, are expected here
    refused = ("Failed to load resource: net::ERR_FAILED", "Callback failed: the server did not respond")
    page.console_errors[:] = [e for e in page.console_errors if not any(r in e for r in refused)]

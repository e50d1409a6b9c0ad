"""Explore page targets (issues 5 and 17); prints measured figures, asserts nothing.

    python benchmarks/explore_bench.py [--model gru-imdb] [--runs 30] [--no-browser] [--side-by-side-only]

1. server side: median time of the trajectory callback for a 100-word review (target <= 15 ms),
   measured as the function and as a full HTTP round trip to /_dash-update-component;
2. headless Chromium: setting the text -> graph shows the new trajectory, median (target <= 100 ms),
   and the size of the update's response (target <= 10 KB);
3. first load of / to a rendered graph (target <= 1.5 s);
4. (issue 17) type-to-render on Explore beside a bare Dash+Plotly prototype with the same cloud in one graph
   (benchmarks/_bare_explore.py), measured in the same run, in 2D and 3D: Explore draws the cloud once on
   its own graph and redraws only the overlay holding the path (first by its preview, assets/explore.js, from
   POST /api/trajectory, then again through Dash's callbacks), timed to when the graph first shows the new path
   (the first plotly_afterplot or plotly_restyle with the new point count, on either page), each edit 0.5 s after
   the last, from a quiet page (SETTLE_MS); the two
   pages take turns in blocks of edits, so a change of machine load hits both alike; target: Explore's median <=
   the prototype's.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._live import CHROMIUM, CHROMIUM_ARGS, _wait_for, app_server, free_port, stop  # noqa: E402

REVIEW_WORDS = ("the film starts slowly and the first hour is a chore with flat jokes and a muddled story but then "
                "something changes the characters come alive the script finds its rhythm and by the end i was "
                "completely won over a flawed but warm and genuinely moving film that rewards your patience the "
                "lead performance is quiet and precise the music is lovely and the ending is earned though the "
                "middle drags and a subplot about a missing brother goes nowhere it is still one of the more "
                "honest dramas this year and i would happily watch it again with friends").split()


def review(n_words: int, salt: int = 0) -> str:
    words = [REVIEW_WORDS[(i + salt) % len(REVIEW_WORDS)] for i in range(n_words)]
    return " ".join(words)


def server_side(model: str, runs: int) -> None:
    from app import create_app
    from dashboard.explore_logic import trajectory_for

    app = create_app()
    with app.server.test_request_context("/"):
        trajectory_for(model, "warm up")
        times = []
        for i in range(runs):
            start = time.perf_counter()
            payload = trajectory_for(model, review(100, i))
            times.append(1000 * (time.perf_counter() - start))
    print(f"server: trajectory callback for a 100-word review on {model}: median {statistics.median(times):.2f} ms, "
          f"p95 {sorted(times)[int(0.95 * (len(times) - 1))]:.2f} ms over {runs} runs (target <= 15 ms); "
          f"payload {len(json.dumps(payload)) / 1024:.1f} KB")
    client = app.server.test_client()
    body = {"output": "trajectory-data.data", "outputs": {"id": "trajectory-data", "property": "data"},
            "inputs": [{"id": "debounced-text", "property": "data", "value": ""}],
            "changedPropIds": ["debounced-text.data"],
            "state": [{"id": "model-picker", "property": "value", "value": model}]}
    http_times = []
    for i in range(runs):
        body["inputs"][0]["value"] = review(100, i + 1)
        start = time.perf_counter()
        response = client.post("/_dash-update-component", json=body)
        http_times.append(1000 * (time.perf_counter() - start))
        assert response.status_code == 200, response.status_code
    print(f"server: same callback through Flask's /_dash-update-component: median "
          f"{statistics.median(http_times):.2f} ms, response {len(response.data) / 1024:.1f} KB")


def browser(model: str, runs: int, only_side_by_side: bool = False) -> None:
    from playwright.sync_api import sync_playwright

    with app_server() as base, sync_playwright() as p:
        url = f"{base}/?model={model}"
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        if only_side_by_side:
            side_by_side(chromium, base, model, runs)
            chromium.close()
            return
        loads = []
        for _ in range(3):
            page = chromium.new_page(viewport={"width": 1600, "height": 1000})
            start = time.perf_counter()
            page.goto(url)
            page.wait_for_function(_TRAJECTORY_DRAWN.replace("N", "1"), timeout=60_000)
            loads.append(time.perf_counter() - start)
            page.close()
        print(f"browser: first load of / to a rendered graph with the trajectory: median "
              f"{statistics.median(loads):.2f} s over {len(loads)} loads (target <= 1.5 s)")
        _typing(chromium, url, runs)
        side_by_side(chromium, base, model, runs)
        chromium.close()


BLOCKS = 3  # side_by_side's alternating blocks of edits per page


def side_by_side(chromium, base: str, model: str, runs: int) -> None:
    """Explore's type-to-render against the bare one-graph prototype, in alternating blocks, in the same run."""
    import os
    import subprocess

    for view in ("2d", "3d"):
        port = free_port()
        bare = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "_bare_explore.py"), "--port", str(port),
                                 "--model", model, "--view", view], cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_for(f"http://127.0.0.1:{port}/", bare, 60)
            ours, proto = [], []
            for block in range(BLOCKS):  # alternate blocks of edits: a change of machine load hits both alike
                n = runs // BLOCKS + (block < runs % BLOCKS)
                ours += _render_times(chromium, f"{base}/?model={model}&view={view}", "#sentence-input",
                                      "#trajectory-graph .js-plotly-plot", "g.layout.meta.trajectory", n)
                proto += _render_times(chromium, f"http://127.0.0.1:{port}/", "#text", "#graph .js-plotly-plot", "1", n)
        finally:
            stop(bare)
        ratio = statistics.median(ours) / statistics.median(proto)
        print(f"browser {view}: type-to-render median Explore {statistics.median(ours):.0f} ms vs bare prototype "
              f"{statistics.median(proto):.0f} ms (ratio {ratio:.2f}; target <= 1) over {runs} edits each")


def _render_times(chromium, url: str, box: str, graph: str, trace: str, runs: int) -> list[float]:
    """ms from an edit to plotly_afterplot of the graph showing the new path's point count."""
    page = chromium.new_page(viewport={"width": 1440, "height": 900})
    page.goto(url)
    page.wait_for_selector(graph, timeout=60_000)
    page.fill(box, review(10))
    page.wait_for_function(f"() => {{ const g = document.querySelector('{graph}'); return g.data[{trace}].x.length === 10; }}",
                           timeout=60_000)
    page.evaluate(f"""() => {{ const g = document.querySelector('{graph}'); {_FIRST_DRAWN_JS.replace('TRACE', trace)} }}""")
    times = []
    for i in range(runs):
        n_words = 95 + (i % 10)
        start = page.evaluate("() => { window.__drawnAt = {}; return performance.now(); }")
        page.fill(box, review(n_words, i))
        page.wait_for_function(f"() => window.__drawnAt[{n_words}] > {start}", timeout=30_000)
        times.append(page.evaluate(f"() => window.__drawnAt[{n_words}]") - start)
        page.wait_for_timeout(SETTLE_MS)
    page.close()
    return times


# Each edit starts from a quiet page, on both pages alike: Explore's work after the path is drawn (Dash's round
# trip bringing the strip, panel and player in line, ~130 ms more) would otherwise land on the next edit.
SETTLE_MS = 500


# When the graph first shows a path of each length: plotly_afterplot follows Plotly.react (the prototype's
# Patch, Dash's redraw), plotly_restyle follows Plotly.restyle (Explore's preview); the first of them counts.
_FIRST_DRAWN_JS = """window.__drawnAt = {};
  const mark = () => { const n = g.data[TRACE].x.length; if (!(n in window.__drawnAt)) window.__drawnAt[n] = performance.now(); };
  g.on('plotly_afterplot', mark); g.on('plotly_restyle', mark);"""


# the graph holding the text's path (the overlay)
_PATH_GRAPH = """document.querySelector('#trajectory-graph .js-plotly-plot')"""
_TRAJECTORY_DRAWN = """() => { const g = PATH;
  if (!g || !g.layout || !g.layout.meta) return false;
  const t = g.data[g.layout.meta.trajectory]; return t && t.x && t.x.length >= N; }""".replace("PATH", _PATH_GRAPH)


def _typing(chromium, url: str, runs: int) -> None:
    page = chromium.new_page(viewport={"width": 1600, "height": 1000})
    sizes = []
    page.on("response", lambda r: sizes.append(len(r.body())) if "_dash-update-component" in r.url
            and r.request.post_data and "trajectory-data.data" in r.request.post_data else None)
    page.goto(url)
    page.wait_for_function(_TRAJECTORY_DRAWN.replace("N", "1"), timeout=60_000)
    page.evaluate(f"""() => {{ const g = {_PATH_GRAPH};
                     {_FIRST_DRAWN_JS.replace('TRACE', 'g.layout.meta.trajectory')} }}""")
    times = []
    for i in range(runs):
        n_words = 95 + (i % 10)  # vary the length so every edit changes the point count
        text = review(n_words, i)
        start = page.evaluate("() => { window.__drawnAt = {}; return performance.now(); }")
        page.fill("#sentence-input", text)
        page.wait_for_function(f"() => window.__drawnAt[{n_words}] > {start}", timeout=30_000)
        times.append(page.evaluate(f"() => window.__drawnAt[{n_words}]") - start)
        page.wait_for_timeout(SETTLE_MS)
    print(f"browser: set text -> graph first shows the new trajectory: median {statistics.median(times):.0f} ms "
          f"min {min(times):.0f} ms over {runs} edits (target <= 100 ms)")
    if sizes:
        print(f"browser: trajectory update response: median {statistics.median(sizes) / 1024:.1f} KB (target <= 10 KB)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="gru-imdb")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--side-by-side-only", action="store_true", help="part 4 alone (Explore vs the prototype)")
    args = parser.parse_args()
    if not args.side_by_side_only:
        server_side(args.model, args.runs)
    if not args.no_browser:
        browser(args.model, max(5, args.runs // 3), args.side_by_side_only)

"""Page load times (issues 6, 17): navigation -> the page's main graph drawn, and -> every graph drawn, per page, in
headless Chromium at 1440x900; prints figures, asserts nothing.

    python benchmarks/pages_bench.py [--model RUN_ID] [--runs 3]

Serves `python app.py` over a temporary copy of models_store (the repo's store is never touched) and opens each
page in headless Chromium with the largest bundled model (by analysis.npz size) unless --model says otherwise.
A page counts as loaded when every Plotly graph it renders has drawn (`.main-svg` inside each `.js-plotly-plot`,
no Dash callback still loading; on Explore also the trajectory of the text), timed in the page from navigation
start (performance.now()). Each page is loaded once to warm the server, then --runs times in a fresh browser
context (nothing cached, as a student's first visit) and --runs times by reloading one tab (JS cached, as when
moving between pages). Target: <= 1.5 s per page. The last column says when the page's layout arrived (same
tab), so the rest of the time is the browser building and drawing the figures. Headless Chromium draws WebGL
(the 3D views) in software here, so 3D-heavy pages are slower than on a laptop with a GPU.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._live import CHROMIUM, CHROMIUM_ARGS, app_server  # noqa: E402
STORE = ROOT / "models_store"
VIEWPORT = {"width": 1440, "height": 900}
TARGET_S = 1.5
# path -> graphs the page always renders (geometry: +1 for N > 2, +2 for synthetic tasks, see expected_graphs)
PAGES = {"/": 2, "/fixed-points": 5, "/geometry": 2, "/words": 2, "/linearization": 2, "/decomposition": 2,
         "/compare": 2, "/train": 1, "/models": 0}
# path -> the page's main graph: "first render" is when it has drawn (on Explore, with the text's trajectory)
MAIN = {"/": "#trajectory-graph", "/fixed-points": "#fp-graph", "/geometry": ".page-body .card:first-child",
        "/words": "#words-body .card:first-child", "/linearization": "#linearization-body .card",
        "/decomposition": "#decomposition-body .card:nth-child(2)", "/compare": ".compare-graph",
        "/train": "#train-jobs", "/models": "#models-table"}

# Runs in every document before the app's scripts: records when the page's graphs are all drawn.
PROBE_JS = """(() => {
  const spec = %s[location.pathname];
  if (!spec) return;
  window.__ready = null; window.__main = null;
  const mainReady = () => {
    const el = document.querySelector(spec.main);
    if (!el) return false;
    if (spec.n === 0 || spec.main === '#train-jobs') return !!el.firstChild;
    const g = el.classList.contains('js-plotly-plot') ? el : el.querySelector('.js-plotly-plot');
    if (!g || !g.querySelector('.main-svg') || !g._fullLayout) return false;
    if (spec.trajectory) { const m = g.layout && g.layout.meta;
      if (!m || m.trajectory === undefined || !g.data[m.trajectory].x || !g.data[m.trajectory].x.length) return false; }
    return true;
  };
  const ready = () => {
    if (spec.n === 0) return !!document.querySelector(spec.selector);
    const gs = document.querySelectorAll('.js-plotly-plot');
    if (gs.length < spec.n) return false;
    for (const g of gs) { if (!g.querySelector('.main-svg') || !g._fullLayout) return false; }
    if (document.querySelector('[data-dash-is-loading="true"]')) return false;
    if (spec.trajectory) {
      const g = document.querySelector('#trajectory-graph .js-plotly-plot'), m = g && g.layout && g.layout.meta;
      if (!m || m.trajectory === undefined || !g.data[m.trajectory].x || !g.data[m.trajectory].x.length) return false;
    }
    return true;
  };
  const check = () => {
    if (window.__main === null && mainReady()) { window.__main = performance.now(); }
    if (window.__ready === null && ready()) { window.__ready = performance.now(); } };
  new MutationObserver(check).observe(document, {subtree: true, childList: true, attributes: true,
                                                 attributeFilter: ['data-dash-is-loading']});
  const tick = () => { check(); if (window.__ready === null) requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
})();"""

LAYOUT_RESPONSE_JS = """() => { const r = performance.getEntriesByType('resource')
    .filter(e => e.name.includes('_dash-update-component')).map(e => e.responseEnd);
  return r.length ? Math.min(...r) : null; }"""


def largest_model() -> str:
    sizes = {p.parent.name: p.stat().st_size for p in STORE.glob("*/analysis.npz")}
    return max(sizes, key=sizes.get)


def expected_graphs(store: Path, run_id: str, path: str) -> int:
    n = PAGES[path]
    if path == "/geometry":
        with np.load(store / run_id / "analysis.npz", allow_pickle=False) as a:
            n += 2 * ("final_counts_bxk" in a.files)
        info = json.loads((store / run_id / "config.json").read_text()).get("task_info", {})
        n += len(info.get("class_names", ())) > 2  # the angle heat map
    return n


def load_once(page, url: str) -> tuple[float, float | None, float]:
    """(seconds from navigation start to every graph drawn, seconds until the first callback answered: the
    page's layout from Dash Pages' router; the rest is the browser drawing it, seconds to the main graph drawn)."""
    page.goto(url)
    page.wait_for_function("() => window.__ready !== null && window.__ready !== undefined", timeout=60_000)
    page.wait_for_function("() => window.__main !== null && window.__main !== undefined", timeout=60_000)
    return (page.evaluate("() => window.__ready") / 1000, (page.evaluate(LAYOUT_RESPONSE_JS) or 0) / 1000 or None,
            page.evaluate("() => window.__main") / 1000)


def bench(model: str | None, runs: int) -> None:
    from playwright.sync_api import sync_playwright

    run_id = model or largest_model()
    with tempfile.TemporaryDirectory(prefix="pages_bench_") as tmp:
        store = Path(tmp) / "models_store"
        shutil.copytree(STORE, store, ignore=shutil.ignore_patterns(".*"))
        spec = {path: {"n": expected_graphs(store, run_id, path), "trajectory": path == "/", "main": MAIN[path],
                       "selector": "#models-table tbody tr"} for path in PAGES}
        with app_server(store, ready_path="/models") as base:
            size_mb = (store / run_id / "analysis.npz").stat().st_size / 1e6
            print(f"pages_bench: {run_id} (analysis.npz {size_mb:.1f} MB), headless Chromium "
                  f"{VIEWPORT['width']}x{VIEWPORT['height']}, 1 warm-up + {runs} loads per page and way; "
                  f"target <= {TARGET_S:.1f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
            print(f"{'page':<16}{'graphs':>7}  {'main graph, fresh: median [loads]':<38}"
                  f"{'all graphs, fresh: median [loads]':<38}{'all graphs, same tab':<32}{'same tab: layout in':>20}")
            with sync_playwright() as p:
                chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                probe = PROBE_JS % json.dumps(spec)
                tab_context = chromium.new_context(viewport=VIEWPORT)
                tab_context.add_init_script(probe)
                tab = tab_context.new_page()
                rows = []
                for path in PAGES:
                    url = f"{base}{path}?{urllib.parse.urlencode({'model': run_id})}"
                    load_once(tab, url)  # warm-up: the server loads and caches what the page needs
                    fresh, main = [], []
                    for _ in range(runs):
                        context = chromium.new_context(viewport=VIEWPORT)
                        context.add_init_script(probe)
                        every, _, first = load_once(context.new_page(), url)
                        fresh.append(every)
                        main.append(first)
                        context.close()
                    same = [load_once(tab, url) for _ in range(runs)]
                    ready = [r for r, _, _ in same]
                    answered = [a for _, a, _ in same if a is not None]
                    rows.append((path, statistics.median(main), statistics.median(fresh), statistics.median(ready)))
                    print(f"{path:<16}{spec[path]['n']:>7}  "
                          f"{statistics.median(main):5.2f} s {_fmt(main):<30}"
                          f"{statistics.median(fresh):5.2f} s {_fmt(fresh):<30}"
                          f"{statistics.median(ready):5.2f} s {_fmt(ready):<24}"
                          f"{(f'{statistics.median(answered):.2f} s' if answered else '–'):>20}")
                chromium.close()
            for label, column in (("main graph, fresh context", 1), ("all graphs, fresh context", 2), ("same tab", 3)):
                over = [row[0] for row in rows if row[column] > TARGET_S]
                print(f"pages over {TARGET_S:.1f} s ({label} median): {', '.join(over) if over else 'none'}")
            print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def _fmt(values: list[float]) -> str:
    return "[" + " ".join(f"{v:.2f}" for v in values) + "]"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="run id (default: the bundle with the largest analysis.npz)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    bench(args.model, args.runs)

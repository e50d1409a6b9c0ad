"""Every page with every bundled model, in headless Chromium, over a copy of the real models_store.

One tab navigates through the 7 model pages x every bundled model (Train and Models, which show the store,
once): each load must raise no console or page error, render its Plotly graphs, show no traceback or exception
name, and show the page's own content (a fixed-point table and detail, metric cards, a word labelled by the search
box, one error bar per token of the URL's text, two compare views...). One screenshot per page lands in
test-artifacts/page-<name>.png.
"""
from __future__ import annotations

import functools
import json
import re
import urllib.parse

import numpy as np
import pytest

from core import store
from core.text import tokenize
from tests.e2e.conftest import all_real_run_ids, real_run_ids, real_seq_run_ids

pytestmark = pytest.mark.e2e

MODELS = real_run_ids()
EVERY_MODEL = all_real_run_ids()  # what the store lists: MODELS plus the other study bundles
# page name -> (path, Plotly graphs it always renders); geometry adds two for the synthetic tasks
PAGES = {
    "explore": ("/", 2),
    "fixed-points": ("/fixed-points", 5),  # attractor, 3 for the selected point, q histogram
    "geometry": ("/geometry", 2),  # + the angle heat map for N > 2
    "words": ("/words", 2),
    "linearization": ("/linearization", 2),
    "decomposition": ("/decomposition", 2),
    "compare": ("/compare", 2),
    "train": ("/train", 1),
    "models": ("/models", 0),
}
# the model whose screenshot shows the page best (real English words, or the 3-class simplex)
SHOT_MODEL = {"explore": "gru-reviews", "fixed-points": "gru-cat3", "geometry": "gru-cat3", "words": "gru-reviews",
              "linearization": "gru-reviews", "decomposition": "gru-reviews", "compare": "gru-cat3",
              "train": "gru-cat3", "models": "gru-cat3"}
# anything that looks like a leaked exception; "Error of one linearized step" is a section title, not one
LEAK = re.compile(r"Traceback|\b[A-Z]\w*(?:Error|Exception)\b|\bError:|Internal Server Error|Callback error|"
                  r"\bundefined\b|\bNaN\b|\bnan%")

GRAPHS_READY = """n => { const gs = document.querySelectorAll('.js-plotly-plot');
  return gs.length >= n && Array.from(gs).every(g => g.querySelector('.main-svg') && g._fullLayout)
         && !document.querySelector('[data-dash-is-loading="true"]'); }"""


@functools.cache
def bundle(real_store, run_id: str) -> store.Bundle:
    return store.load_path(real_store / run_id)


def open_page(page, name: str, query: dict) -> None:
    path, n_graphs = PAGES[name]
    page.goto(f"{page.base_url}{path}?{urllib.parse.urlencode(query)}")
    try:
        page.wait_for_function(GRAPHS_READY, arg=n_graphs)
    except Exception as err:
        seen = page.evaluate("() => document.querySelectorAll('.js-plotly-plot .main-svg').length")
        raise AssertionError(f"{path}: expected {n_graphs} rendered graphs, saw {seen}") from err


def graph(page, selector: str) -> dict:
    """meta, traces (type, name, x, y, text, customdata as plain lists) and annotation texts of the graph at `selector`."""
    return page.eval_on_selector(selector, """el => { const g = el.classList.contains('js-plotly-plot') ? el
        : el.querySelector('.js-plotly-plot');
      // numpy arrays arrive base64-encoded ({dtype, bdata}); plotly decodes them into _fullData
      const arr = (i, k) => { let v = g.data[i][k];
        if (v && !Array.isArray(v) && !ArrayBuffer.isView(v)) { v = (g._fullData[i] || {})[k]; }
        return v ? Array.from(v) : null; };
      return { meta: g.layout.meta || null,
               data: g.data.map((t, i) => ({type: t.type || 'scatter', name: t.name, x: arr(i, 'x'), y: arr(i, 'y'),
                                            text: arr(i, 'text'), customdata: arr(i, 'customdata')})),
               annotations: (g.layout.annotations || []).map(a => a.text) }; }""")


def texts(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "els => els.map(e => e.innerText.trim())")


def assert_clean(page, name: str, run_id: str) -> None:
    """No leaked exception, no 'not computed' / 'cannot be loaded' state, and the URL's model is the one shown."""
    body = page.inner_text("main")
    leak = LEAK.search(body)
    if leak:
        context = body[max(0, leak.start() - 200):leak.end() + 200]
        pytest.fail(f"{name}: the page shows {leak.group(0)!r}: …{context}…")
    if name in ("models", "train"):
        return
    empty = page.query_selector(".page-body .empty-state, #model-message:not([hidden])")
    assert empty is None, f"{name} shows an empty or error state: {empty.inner_text()}"
    picker = "#compare-model-a" if name == "compare" else "#model-picker"
    assert run_id in page.inner_text(picker), f"{name}: the picker does not show {run_id}"


# ------------------------------------------------------------------------------------------- page checks

def check_explore(page, b, run_id):
    page.wait_for_function("""() => { const g = document.querySelector('#trajectory-graph .js-plotly-plot');
        const m = g && g.layout.meta; if (!m || m.trajectory === undefined) return false;
        const n = g.data[m.trajectory].x.length;
        return n > 0 && document.querySelectorAll('#token-strip .tok').length === n; }""")
    assert page.inner_text("#prediction-text").startswith("Prediction: ")
    text = page.input_value("#sentence-input")
    assert texts(page, "#token-strip .tok") == tokenize(text)[:len(texts(page, "#token-strip .tok"))]
    assert graph(page, "#trajectory-graph")["meta"]["run_id"] == run_id


def check_fixed_points(page, b, run_id):
    fps = b.analysis.fixed_points
    rows = texts(page, "#fp-table td.dash-cell.column-0")
    assert len(rows) == min(fps.n_points, 12) >= 1
    title = page.inner_text("#fp-detail h3")
    match = re.match(r"Point #(\d+) \((?:fixed point|slow point|not converged), (stable|unstable)\)", title)
    assert match, f"no detail for the default fixed point: {title!r}"
    assert match.group(1) in rows
    assert len(page.query_selector_all("#fp-detail .js-plotly-plot")) == 3
    note = page.inner_text(".fp-summary")
    conv = fps.is_converged_p
    assert f"onto {int(conv.sum()):,} distinct fixed point" in note and "Each table row is one distinct point" in note
    markers = [t for t in graph(page, "#fp-graph")["data"]
               if t["name"] in ("stable fixed point", "unstable fixed point")]
    # only confirmed (converged) points are drawn; the solver's slow points are listed in the table
    assert sorted(i for t in markers for i in (t["customdata"] or [])) == np.flatnonzero(conv).tolist()
    ring = next(t for t in graph(page, "#fp-graph")["data"] if t["name"] == "selected")
    xyz = b.analysis.attractor.fp_xyz_px3[int(match.group(1)) - 1]
    assert ring["x"] == pytest.approx([float(xyz[0])], rel=1e-5)


def check_geometry(page, b, run_id):
    cards = page.query_selector_all(".metric-row .metric")
    assert len(cards) >= 5
    for card in cards:
        value = card.query_selector(".value").inner_text().strip()
        assert value and value not in ("nan", "–", "—"), f"empty metric: {card.inner_text()!r}"
    k, ordered = len(b.class_names), bool(b.info.get("ordered"))
    dims = 2 if ordered and k > 2 else k - 1  # Aitken et al. 2020: a plane for ordered ratings, N − 1 otherwise
    assert f"in the first {dims} PC" in page.inner_text(".metric-row")
    marked = [a for a in graph(page, ".page-body .card:first-child")["annotations"] if a.startswith("expected")]
    assert marked == [f"expected: {'a plane (ordered ratings)' if dims == 2 and ordered else 'a line (N − 1 = 1)' if dims == 1 else f'N − 1 = {dims}'}"]
    headings = texts(page, ".page-body h3")
    binary = k == 2  # two readouts always sit 180° apart: no angle heat map
    assert headings[:3 - binary] == ["Dimension", "Readout directions in PC space",
                                     "Angles between readout directions"][:3 - binary]
    assert ("Angles between readout directions" in headings) == (not binary)
    synthetic = b.analysis.geometry.final_counts_bxk is not None
    assert ("Learned vs predicted geometry" in headings) == synthetic
    assert len(page.query_selector_all(".js-plotly-plot")) == 3 - binary + 2 * synthetic


def _label_texts(page) -> list[str]:
    return graph(page, "#words-body .card:first-child")["annotations"]


def check_words(page, b, run_id):
    words = [b.vocab.itos[int(i)] for i in b.analysis.words.ids_w]
    default = [w.strip() for w in page.input_value("#words-search").split(",") if w.strip()]
    assert default and sorted(_label_texts(page)) == sorted(set(default))
    target = next(w for w in words if w not in default and w.isalpha())
    page.fill("#words-search", target)
    page.wait_for_function("""w => { const g = document.querySelector('#words-body .card .js-plotly-plot');
        const a = (g && g.layout.annotations) || []; return a.length === 1 && a[0].text === w; }""", arg=target)
    assert "1 word highlighted." in page.inner_text("#words-body .card .note")
    assert target in graph(page, "#words-body .card:nth-child(2)")["annotations"]
    page.fill("#words-search", "zzqxj")
    page.wait_for_function("() => document.querySelector('#words-body .card .note').innerText"
                           ".includes('No word matches')")
    page.fill("#words-search", ", ".join(default))  # back to the opening labels (for the screenshot)
    page.wait_for_function("n => ((document.querySelector('#words-body .card .js-plotly-plot').layout || {})"
                           ".annotations || []).length === n", arg=len(set(default)))


def linearization_text(b) -> str:
    """A text that is not the page's default (examples[-2]): the model's first and last examples joined."""
    examples = [str(e) for e in b.info["examples"]]
    return f"{examples[0]} , {examples[-1]}"


def check_linearization(page, b, run_id):
    text = linearization_text(b)
    assert page.input_value("#linearization-text") == text
    tokens = tokenize(text)
    bars = [t for t in graph(page, "#linearization-body .card:nth-child(2)")["data"] if t["type"] == "bar"]
    with_slow_points = b.analysis.slow_linearization is not None  # D1 and D4 around slow points, else D1 only
    assert [t["name"].split()[0] for t in bars] == (["D1", "D4"] if with_slow_points else ["this"])
    for bar in bars:
        assert len(bar["x"]) == len(bar["y"]) == len(tokens)
        assert bar["customdata"] == tokens
    assert page.inner_text("#linearization-body .card .note").startswith(f"{len(tokens)} tokens.")
    assert all(v and v != "–" for v in texts(page, "#linearization-body .metric .value"))


def check_decomposition(page, b, run_id):
    bars = [t for t in graph(page, "#decomposition-body .card:first-child")["data"] if t["type"] == "bar"]
    assert len(bars) == 1 and len(bars[0]["y"]) == 3
    assert sum(bars[0]["y"]) == pytest.approx(1.0, abs=1e-3)
    assert "The three add up to 100%" in page.inner_text("#decomposition-body")
    path = graph(page, "#decomposition-body .card:nth-child(2)")
    assert any(t["type"] == "scatter3d" for t in path["data"])


def check_compare(page, b, run_id):
    graphs = page.query_selector_all(".compare-graph .js-plotly-plot")
    assert len(graphs) == 2
    n = len(tokenize(page.input_value("#compare-text")))
    assert n > 0
    heads = texts(page, ".compare-table thead th")
    task = lambda m: (bundle_of[m].config.task.name, bundle_of[m].config.task.num_classes)  # noqa: E731
    bundle_of = {m: store.load_path(b.path.parent / m) for m in EVERY_MODEL}
    partners = [m for m in EVERY_MODEL if m != run_id and task(m) == task(run_id)]
    assert heads[1] == f"A: {run_id}" and heads[2].startswith("B: ")
    if partners:  # B defaults to a model of A's own task
        assert heads[2][3:] in partners and heads[2][3:] in page.inner_text("#compare-model-b")
    else:  # none in the store: both sides show A, and the page says why
        assert heads[2] == f"B: {run_id}" and "No other analyzed model in the store learnt" in page.inner_text("main")
    for side in ("a", "b"):
        fig = graph(page, f"[id='{json.dumps({'side': side, 'type': 'compare-graph'}, separators=(',', ':'))}']")
        assert len(fig["data"][fig["meta"]["trajectory"]]["x"]) == n, f"side {side}: trajectory is not {n} points"
    assert all(p.startswith("Prediction: ") for p in texts(page, ".page-body .prediction"))
    assert len(page.query_selector_all(".compare-table tbody tr")) >= 8


def check_train(page, b, run_id):
    assert page.is_visible("#train-start")
    page.wait_for_function("() => (document.querySelector('#train-estimate') || {}).innerText"
                           " && document.querySelector('#train-estimate').innerText.includes('Estimated time')")
    assert page.query_selector("#train-curve .main-svg")
    if not page.query_selector(".job-card"):  # no job yet: an empty state, not an empty chart
        assert page.is_visible("#train-curve-empty") and not page.is_visible("#train-curve")


def check_models(page, b, run_id):
    page.wait_for_selector("#models-table tbody tr")
    rows = {r[0]: r for r in page.eval_on_selector_all("#models-table tbody tr", """trs => trs.map(
        tr => Array.from(tr.querySelectorAll('td')).map(td => td.innerText.trim()))""")}
    seq = real_seq_run_ids()  # sequence-to-sequence bundles are listed too, and open on the Attention page
    assert sorted(rows) == sorted(EVERY_MODEL + seq)
    assert all(r[-1] == ("open in Attention" if name in seq else "open in Explore") for name, r in rows.items())
    n = len(EVERY_MODEL) + len(seq)
    assert f"{n} of {n} bundles load" in page.inner_text("main")


CHECKS = {"explore": check_explore, "fixed-points": check_fixed_points, "geometry": check_geometry,
          "words": check_words, "linearization": check_linearization, "decomposition": check_decomposition,
          "compare": check_compare, "train": check_train, "models": check_models}


# Train and Models show the store, not the URL's model: they are checked once, with their screenshot's model
MODEL_FREE = ("train", "models")


def page_cases() -> list:
    shown = {name: SHOT_MODEL[name] if SHOT_MODEL[name] in MODELS else MODELS[0] for name in MODEL_FREE} \
        if MODELS else {}
    return [pytest.param(run_id, name, id=f"{run_id}-{name}") for run_id in MODELS for name in PAGES
            if name not in MODEL_FREE or shown[name] == run_id]


@pytest.mark.parametrize("run_id, name", page_cases())
def test_page_renders_with_model(real_page, real_store, artifacts, name, run_id):
    b = bundle(real_store, run_id)
    query = {"model": run_id}
    if name == "linearization":
        query["text"] = linearization_text(b)
    open_page(real_page, name, query)
    assert_clean(real_page, name, run_id)
    CHECKS[name](real_page, b, run_id)
    assert_clean(real_page, name, run_id)
    if SHOT_MODEL[name] == run_id:
        real_page.wait_for_function(GRAPHS_READY, arg=PAGES[name][1])
        real_page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        real_page.screenshot(path=str(artifacts / f"page-{name}.png"), full_page=True)


def _fixed_point_page(real_page, real_store, run_id=None):
    run_id = run_id or ("gru-cat3" if "gru-cat3" in MODELS else MODELS[0])
    fps = bundle(real_store, run_id).analysis.fixed_points
    open_page(real_page, "fixed-points", {"model": run_id})
    return fps, int(re.match(r"Point #(\d+)", real_page.inner_text("#fp-detail h3")).group(1))


def _ring(page) -> list:
    return next(t for t in graph(page, "#fp-graph")["data"] if t["name"] == "selected")["x"]


def test_clicking_a_fixed_point_shows_its_spectrum(real_page, real_store):
    """A click on another fixed point swaps the detail section. WebGL picking in headless Chromium is not reliable,
    so the click is the plotly_click event that plotly.js's 3D scene emits, shaped as it shapes it (curveNumber,
    pointNumber, coordinates, and customdata from the decoded full trace); dcc.Graph turns it into clickData."""
    fps, shown = _fixed_point_page(real_page, real_store)
    target = next(i for i in range(fps.n_points - 1, -1, -1) if i + 1 != shown and fps.is_converged_p[i])
    real_page.eval_on_selector("#fp-graph .js-plotly-plot", """(g, i) => {
        const full = g._fullData;  // plotly's decoded copy of each trace
        const c = full.findIndex(t => t.customdata && Array.from(t.customdata).includes(i));
        const p = Array.from(full[c].customdata).indexOf(i);
        g.emit('plotly_click', {points: [{curveNumber: c, pointNumber: p, data: g.data[c], fullData: full[c],
                                          customdata: full[c].customdata[p],
                                          x: full[c].x[p], y: full[c].y[p], z: full[c].z[p]}]}); }""", target)
    real_page.wait_for_function("t => document.querySelector('#fp-detail h3').innerText.startsWith(t)",
                                arg=f"Point #{target + 1} ", timeout=5_000)
    kind = "stable" if fps.is_stable_p[target] else "unstable"
    assert f"#{target + 1} (fixed point, {kind})" in real_page.inner_text("#fp-detail h3")
    real_page.wait_for_function(GRAPHS_READY, arg=5)
    x = float(bundle(real_store, "gru-cat3" if "gru-cat3" in MODELS else MODELS[0]).analysis.attractor.fp_xyz_px3[target, 0])
    real_page.wait_for_function("x => { const g = document.querySelector('#fp-graph .js-plotly-plot');"
                                " return g.data.some(d => d.name === 'selected' && Math.abs(d.x[0] - x) < 1e-4); }",
                                arg=x)
    selected = real_page.inner_text("#fp-table tr:has(td[style*='font-weight']) td.column-0")
    assert selected.strip() == str(target + 1)  # the table row of the clicked point is highlighted


def test_fixed_point_table_sorts_by_header_and_rows_select_points(real_page, real_store, artifacts):
    fps, shown = _fixed_point_page(real_page, real_store, "gru-reviews" if "gru-reviews" in MODELS else None)
    real_page.click("#fp-table th[data-dash-column='q'] .column-header--sort")
    real_page.wait_for_function("""() => {
        const c = Array.from(document.querySelectorAll('#fp-table td.dash-cell.column-1'))
                       .map(td => parseFloat(td.innerText));
        return c.length > 1 && c.every((v, i) => i === 0 || c[i - 1] <= v); }""")
    cells = texts(real_page, "#fp-table td.dash-cell.column-0")
    target = next(c for c in reversed(cells) if c != str(shown))
    real_page.set_viewport_size({"width": 1280, "height": 720})
    try:
        real_page.locator("#fp-table td.dash-cell.column-0").filter(has_text=re.compile(f"^{target}$")).first.click()
        real_page.wait_for_function("t => document.querySelector('#fp-detail h3').innerText.startsWith(t)",
                                    arg=f"Point #{target} ")
        run_id = "gru-reviews" if "gru-reviews" in MODELS else MODELS[0]
        xyz = bundle(real_store, run_id).analysis.attractor.fp_xyz_px3[int(target) - 1]
        assert _ring(real_page) == pytest.approx([float(xyz[0])], rel=1e-5)
        # the detail comes into view at 1280x720, though the table is below it
        real_page.wait_for_function("""() => { const r = document.querySelector('#fp-detail h3').getBoundingClientRect();
            return r.top >= 0 && r.bottom <= window.innerHeight; }""")
        box = real_page.eval_on_selector("#fp-detail .fp-facts", "e => e.getBoundingClientRect().bottom")
        assert box <= 720
        real_page.wait_for_function(GRAPHS_READY, arg=5)
        real_page.screenshot(path=str(artifacts / "fixed-points-selected-1280x720.png"))
    finally:
        real_page.set_viewport_size({"width": 1600, "height": 1000})


def test_fixed_point_detail_is_in_view_at_1280x720(real_page, real_store):
    real_page.set_viewport_size({"width": 1280, "height": 720})
    try:
        _fixed_point_page(real_page, real_store)
        top = real_page.eval_on_selector("#fp-detail h3", "e => e.getBoundingClientRect().top")
        facts = real_page.eval_on_selector("#fp-detail .fp-facts", "e => e.getBoundingClientRect().bottom")
        assert 0 <= top and facts <= 720, f"the detail ({top}-{facts}px) should open in view, beside the graph"
    finally:
        real_page.set_viewport_size({"width": 1600, "height": 1000})

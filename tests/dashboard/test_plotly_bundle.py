"""The partial plotly.js in assets/ (scripts/plotly_bundle/): it holds every trace type the dashboard draws, it is
the plotly.js version the figures are built for, and the page loads it deferred instead of Dash's plotly.min.js."""
from __future__ import annotations

import re
from pathlib import Path

import plotly.graph_objects as go
from plotly.basedatatypes import BaseTraceType
from plotly.offline import get_plotlyjs_version

from app import PLOTLY_JS, PLOTLY_META

REPO = Path(__file__).resolve().parents[2]
BUNDLE = REPO / "assets" / PLOTLY_JS
# every trace type plotly knows, by constructor name (go.Scattergl) and by type string ("scattergl")
TRACES = {name: getattr(go, name)().type for name in dir(go)
          if isinstance(getattr(go, name), type) and issubclass(getattr(go, name), BaseTraceType)}


def bundle_header() -> str:
    with BUNDLE.open(encoding="utf-8") as f:
        return f.read(600)


def bundled_traces() -> set[str]:
    match = re.search(r"traces ([a-z0-9, ]+)\.", bundle_header())
    assert match, "the bundle's banner lists its traces (scripts/plotly_bundle/build.js writes it)"
    return {t.strip() for t in match.group(1).split(",")}


def traces_in(source: str) -> set[str]:
    """Trace types a Python source builds: go.<Trace>(...) constructors and type="<trace>" / "type": "<trace>"."""
    found = {TRACES[name] for name in re.findall(r"\bgo\.([A-Z]\w*)\(", source) if name in TRACES}
    literal = re.findall(r"""(?:\btype=|["']type["']\s*:\s*)["']([a-z0-9]+)["']""", source)
    return found | {t for t in literal if t in TRACES.values()}


def test_traces_in_finds_constructors_and_type_literals():
    source = 'go.Scatter3d(x=[1]); dict(type="heatmap"); {"type": "pie"}; dict(type="log"); go.Figure()'
    assert traces_in(source) == {"scatter3d", "heatmap", "pie"}


def test_the_bundle_holds_every_trace_the_dashboard_draws():
    drawn = set().union(*(traces_in(p.read_text(encoding="utf-8")) for p in (REPO / "dashboard").rglob("*.py")))
    assert {"scatter", "scatter3d", "scattergl"} <= drawn  # the scan sees the figures at all
    missing = drawn - bundled_traces()
    assert not missing, f"rebuild assets/{PLOTLY_JS} with {sorted(missing)} (scripts/plotly_bundle/README.md)"


def test_the_bundle_is_the_plotly_js_version_of_the_python_package():
    assert f"plotly.js v{get_plotlyjs_version()} " in bundle_header()
    assert "MIT license" in bundle_header()


def test_pages_with_graphs_load_the_partial_bundle_deferred_and_the_others_on_demand(dash_app):
    # the session's app: a second create_app() in this process would re-import the page modules (Dash's pages
    # plugin does), and other tests' monkeypatches would then miss the callbacks the first app serves
    client = dash_app.server.test_client()
    for path, eager in [("/", True), ("/words", True), ("/fixed-points/", True), ("/models", False),
                        ("/train", False), ("/no-such-page", False)]:
        html = client.get(path).get_data(as_text=True)
        tags = re.findall(r"<script [^>]*>", html)
        ours = [t for t in tags if PLOTLY_JS in t]
        assert len(ours) == int(eager) and all("defer" in t for t in ours), (path, ours)
        assert not any("plotly.min.js" in t and PLOTLY_JS not in t for t in tags), path
        # where dcc.Graph loads plotly.js on demand (assets/plotly_url.js reads it): the same partial bundle
        meta = re.search(rf'<meta name="{PLOTLY_META}" content="([^"]+)"', html)
        assert meta and PLOTLY_JS in meta.group(1), path
        assert any("plotly_url.js" in t for t in tags), path

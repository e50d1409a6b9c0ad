"""attractorscope: `python app.py` serves the dashboard at http://127.0.0.1:8050 on the bundled models.

For gunicorn: `gunicorn app:server -w 2` (see README, DEPLOY). Debug mode is never on unless
`python app.py --debug` asks for it.
"""
from __future__ import annotations

import argparse
import dataclasses
import logging
import re
from html import escape as html_escape
from pathlib import Path

import dash
import flask
import torch
from dash import Dash, dcc, html

from core import store
from dashboard import api, guard, ids
from dashboard.jobs import JobLauncher, make_celery
from dashboard.cache import BundleCache, ModelMemo, make_flask_cache
from dashboard.session import configure_sessions
from dashboard.settings import Settings

__all__ = ["create_app"]

log = logging.getLogger("attractorscope")

# A partial plotly.js holding only the trace types the pages draw (scripts/plotly_bundle/README.md): 2.1 MB
# instead of the 4.8 MB plotly.min.js. A page that draws graphs as soon as it opens gets it with `defer`, in
# parallel with its first callbacks (dcc.Graph then finds window.Plotly defined). A page registered with
# `eager_plotly=False` (Models, Train: no graph in view when they open) is served without it, so it does not
# spend ~0.5 s evaluating it; a graph shown later there (or after navigating on to another page) loads the same
# bundle on demand: assets/plotly_url.js points dcc.Graph's loader at it (the meta tag below) instead of the full
# plotly.min.js.
PLOTLY_JS = "plotly-custom.min.js"
PLOTLY_META = "attractorscope-plotly"


def _navbar() -> html.Header:
    links = [dcc.Link(page["name"], href=page["relative_path"], className="nav-link")
             for page in dash.page_registry.values() if page.get("nav", True)]
    return html.Header(className="navbar", children=[
        dcc.Link(className="brand", href="/", children=[html.Span("◉", className="brand-dot"), "attractorscope"]),
        html.Nav(links, className="nav-links"),
    ])


def create_app(settings: Settings | None = None) -> Dash:
    settings = settings or Settings.from_env()
    # requests run one short forward pass each; one thread per worker avoids OpenMP contention
    torch.set_num_threads(1)
    removed = [name for root in store.unique_stores(settings.store, settings.user_store)
               for name in store.cleanup_temp(root)]
    if removed:
        log.info("removed leftover temp folders: %s", removed)
    celery_app = make_celery(settings.redis_url) if settings.redis_url else None
    app = Dash(__name__, use_pages=True, pages_folder="dashboard/pages", title="attractorscope",
               suppress_callback_exceptions=True, update_title=None, assets_ignore=re.escape(PLOTLY_JS))
    _add_plotly(app)
    app.celery_app = celery_app
    _harden(app.server, settings)
    guard.install(app)
    api.install(app)
    configure_sessions(app.server, settings.secret_key, settings.jobs_store)
    app.server.config["ATTRACTORSCOPE_JOBS"] = JobLauncher(settings, celery_app)
    app.server.config["ATTRACTORSCOPE_SETTINGS"] = settings
    app.server.config["ATTRACTORSCOPE_BUNDLES"] = BundleCache(settings.store, user_store=settings.user_store)
    app.server.config["ATTRACTORSCOPE_BUNDLES"].summaries()  # verify the store now, not on the first request
    app.server.config["ATTRACTORSCOPE_MEMO"] = ModelMemo()
    app.server.config["ATTRACTORSCOPE_CACHE"] = make_flask_cache(app.server, settings.redis_url)
    _add_security_headers(app)
    app.layout = lambda: html.Div(className="app", children=[
        dcc.Location(id=ids.URL, refresh="callback-nav"),
        _navbar(),
        html.Main(dash.page_container, className="page"),
    ])
    return app


def _add_plotly(app: Dash) -> None:
    bundle = Path(app.config.assets_folder) / PLOTLY_JS
    version = int(bundle.stat().st_mtime)  # a new bundle is a new URL: no stale copy from a browser's cache
    url = f"{app.get_asset_url(PLOTLY_JS)}?m={version}"
    app.config.meta_tags.append({"name": PLOTLY_META, "content": url})
    tag = f'<script src="{html_escape(url)}" defer></script>'
    interpolate = app.interpolate_index

    def index_with_plotly(**kwargs) -> str:
        if eager_plotly(app.strip_relative_path(flask.request.path)):
            kwargs["scripts"] = tag + "\n" + kwargs["scripts"]
        return interpolate(**kwargs)

    app.interpolate_index = index_with_plotly


def eager_plotly(relative_path: str) -> bool:
    """Whether the page at ``relative_path`` (``Dash.strip_relative_path``'s form: "" for "/", "words") gets
    plotly.js with its HTML: every page but those registered with ``eager_plotly=False`` (an unknown path shows
    the 404 page, which draws nothing)."""
    for page in dash.page_registry.values():
        if page["path"].strip("/") == relative_path:
            return page.get("eager_plotly", True)
    return False


MAX_REQUEST_BYTES = 8 * 2**20  # a 100k-character text, JSON-escaped in input and state, fits with room


def _harden(server, settings: Settings) -> None:
    """Production defaults no environment variable can undo: FLASK_DEBUG would otherwise turn on
    Flask's debug mode (and with it tracebacks) even under gunicorn."""
    server.debug = settings.debug
    server.config["PROPAGATE_EXCEPTIONS"] = settings.debug
    server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES


def _add_security_headers(app: Dash) -> None:
    """A Content-Security-Policy Dash and Plotly work under: scripts only from this server (plus the
    hashed inline renderer start-up); 'unsafe-eval' because Plotly's WebGL code generates shaders."""
    def policy() -> str:
        # hashes are read per response: Dash adds inline scripts (clientside callbacks) at its first request
        script_src = " ".join(["'self'", "'unsafe-eval'", *app.csp_hashes()])
        return (f"default-src 'self'; script-src {script_src}; style-src 'self' 'unsafe-inline'; "
                "img-src 'self' data: blob:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
                "object-src 'none'; base-uri 'self'; frame-ancestors 'self'; form-action 'self'")

    @app.server.after_request
    def secure(response):
        response.headers.setdefault("Content-Security-Policy", policy())
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


def main(argv: list[str] | None = None) -> None:
    defaults = Settings.from_env()
    parser = argparse.ArgumentParser(description="Serve the attractorscope dashboard.")
    parser.add_argument("--host", default=defaults.host)
    parser.add_argument("--port", type=int, default=defaults.port)
    parser.add_argument("--debug", action="store_true", help="Dash dev tools and reloader (never in production)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(Settings(**{**defaults.__dict__, "host": args.host, "port": args.port,
                                          "debug": args.debug or defaults.debug}))
    print(f"attractorscope: open http://{args.host}:{args.port} in your browser (Ctrl+C to stop)")
    app.run(host=args.host, port=args.port, debug=args.debug or defaults.debug)


def __getattr__(name: str):
    # `gunicorn app:server` builds the app on first access, so importing app.py stays cheap for tests.
    if name in ("server", "celery_app"):
        global server, celery_app
        # a production entry: debug stays off whatever the environment says
        dash_app = create_app(dataclasses.replace(Settings.from_env(), debug=False))
        server, celery_app = dash_app.server, dash_app.celery_app
        return globals()[name]
    raise AttributeError(name)


if __name__ == "__main__":
    main()

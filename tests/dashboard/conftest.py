"""The app serving the analyzed tiny store (see tests/conftest.py), with a request context."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def dash_app(analyzed_store):
    """One app per session: Dash pages and callbacks register globally, once per process."""
    from app import create_app
    from dashboard.settings import Settings

    return create_app(Settings(store=analyzed_store))


@pytest.fixture
def app_ctx(dash_app):
    with dash_app.server.test_request_context("/"):
        yield dash_app

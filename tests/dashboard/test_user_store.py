"""The dashboard over two stores (issue 17): the bundled read-only one and the user one, listed together; the
browser can neither delete nor overwrite a bundled run; jobs and their records live in the user store."""
from __future__ import annotations

import dataclasses
import shutil

from core.job_registry import JobRefused
from dashboard.cache import BundleCache
from dashboard.settings import Settings
from tests.conftest import TINY_RUN_ID
from tests.core.test_job_queue import config

USER_RUN_ID = "my-run"


def _stores(analyzed_store, tmp_path):
    bundled, user = tmp_path / "bundled", tmp_path / "user"
    shutil.copytree(analyzed_store / TINY_RUN_ID, bundled / TINY_RUN_ID)
    shutil.copytree(analyzed_store / TINY_RUN_ID, user / USER_RUN_ID)
    return bundled, user


def test_the_cache_lists_both_stores_bundled_first(analyzed_store, tmp_path):
    bundled, user = _stores(analyzed_store, tmp_path)
    shutil.copytree(analyzed_store / TINY_RUN_ID, user / TINY_RUN_ID)  # a user folder under a bundled name
    cache = BundleCache(bundled, user_store=user)
    rows = {s.run_id: s for s in cache.summaries()}
    assert set(rows) == {TINY_RUN_ID, USER_RUN_ID}
    assert rows[TINY_RUN_ID].bundled and not rows[USER_RUN_ID].bundled
    assert cache.get(TINY_RUN_ID).path == bundled / TINY_RUN_ID  # never shadowed by the user folder
    assert cache.get(USER_RUN_ID).path == user / USER_RUN_ID
    shutil.rmtree(user / USER_RUN_ID)
    assert {s.run_id for s in cache.summaries()} == {TINY_RUN_ID}  # a change in the user store is seen at once


def test_one_store_keeps_the_bundled_flag_as_written(analyzed_store, tmp_path):
    bundled, _ = _stores(analyzed_store, tmp_path)
    [row] = BundleCache(bundled, user_store=bundled).summaries()
    assert not row.bundled


def test_settings_put_jobs_in_the_user_store(analyzed_store, tmp_path, monkeypatch):
    bundled, user = _stores(analyzed_store, tmp_path)
    monkeypatch.setenv("ATTRACTORSCOPE_STORE", str(bundled))
    monkeypatch.setenv("ATTRACTORSCOPE_USER_STORE", str(user))
    settings = Settings.from_env()
    assert settings.jobs_store == user
    registry = settings.job_registry()
    assert registry.root == user / ".jobs"
    try:
        registry.create(config(TINY_RUN_ID))
        raise AssertionError("a job took a bundled model's name")
    except JobRefused as err:
        assert TINY_RUN_ID in str(err)
    assert dataclasses.replace(settings, user_store=None).jobs_store == bundled


def test_the_browser_cannot_delete_a_bundled_run(analyzed_store, tmp_path, monkeypatch):
    from dashboard import jobs

    bundled, user = _stores(analyzed_store, tmp_path)
    cache = BundleCache(bundled, user_store=user)
    monkeypatch.setattr(jobs, "bundles", lambda: cache)
    monkeypatch.setattr(jobs, "settings", lambda: Settings(store=bundled, user_store=user))
    monkeypatch.setattr(jobs, "client_owner", lambda: "someone")
    assert "read-only" in jobs.delete_user_run(TINY_RUN_ID)
    assert (bundled / TINY_RUN_ID).is_dir()


def test_the_models_page_says_where_each_run_comes_from(analyzed_store, tmp_path, monkeypatch, dash_app):
    from dashboard.pages import models

    bundled, user = _stores(analyzed_store, tmp_path)
    rows = {s.run_id: s for s in BundleCache(bundled, user_store=user).summaries()}
    cells = {run_id: [c.children for c in models._row(s).children] for run_id, s in rows.items()}
    assert "bundled (read-only)" in cells[TINY_RUN_ID] and "trained here" in cells[USER_RUN_ID]

"""The store listing a web worker caches: changes made by another process are seen on the next call.

A job finishing in a Celery worker renames its bundle into the store while web workers keep serving;
the next page a user opens must list it (CI once showed "There is no model named ..." right after a
job succeeded, because the listing was cached for a fixed time)."""
from __future__ import annotations

import os
import shutil

from dashboard.cache import BundleCache
from tests.conftest import TINY_RUN_ID


def _listed(cache: BundleCache) -> dict[str, bool]:
    return {s.run_id: s.has_analysis for s in cache.summaries()}


def test_an_unchanged_store_is_listed_once(analyzed_store, tmp_path):
    shutil.copytree(analyzed_store / TINY_RUN_ID, tmp_path / TINY_RUN_ID)
    cache = BundleCache(tmp_path)
    assert cache.summaries() is cache.summaries()


def test_a_bundle_renamed_into_the_store_is_listed_at_once(analyzed_store, tmp_path):
    shutil.copytree(analyzed_store / TINY_RUN_ID, tmp_path / TINY_RUN_ID)
    cache = BundleCache(tmp_path)
    assert _listed(cache) == {TINY_RUN_ID: True}

    shutil.copytree(analyzed_store / TINY_RUN_ID, tmp_path / ".tmp-new")  # how core.store publishes a bundle
    os.rename(tmp_path / ".tmp-new", tmp_path / "new-model")
    assert _listed(cache) == {TINY_RUN_ID: True, "new-model": True}

    shutil.rmtree(tmp_path / "new-model")
    assert _listed(cache) == {TINY_RUN_ID: True}


def test_an_analysis_replaced_inside_a_bundle_is_seen_at_once(analyzed_store, tmp_path):
    folder = tmp_path / TINY_RUN_ID
    shutil.copytree(analyzed_store / TINY_RUN_ID, folder)
    cache = BundleCache(tmp_path)
    assert _listed(cache) == {TINY_RUN_ID: True}

    os.rename(folder / "analysis.npz", tmp_path / "analysis-aside.npz")
    assert _listed(cache) == {TINY_RUN_ID: False}
    shutil.copy(tmp_path / "analysis-aside.npz", folder / "analysis.npz.tmp")
    os.rename(folder / "analysis.npz.tmp", folder / "analysis.npz")
    assert _listed(cache) == {TINY_RUN_ID: True}


def test_job_progress_and_staging_folders_do_not_relist_the_store(analyzed_store, tmp_path):
    shutil.copytree(analyzed_store / TINY_RUN_ID, tmp_path / TINY_RUN_ID)
    cache = BundleCache(tmp_path)
    first = cache.summaries()
    (tmp_path / ".jobs").mkdir()
    (tmp_path / ".jobs" / "job.json.tmp").write_text("{}")  # a running job rewrites its status every tick
    os.rename(tmp_path / ".jobs" / "job.json.tmp", tmp_path / ".jobs" / "job.json")
    (tmp_path / ".tmp-staging").mkdir()
    assert cache.summaries() is first


def test_only_a_bundle_that_changed_is_loaded_again(analyzed_store, tmp_path, monkeypatch):
    """Listing verifies and hashes a bundle; with hundreds in the store that cost seconds per listing, so
    an unchanged bundle is never loaded twice (issue 16)."""
    from core import store

    for name in ("one", "two", "three"):
        shutil.copytree(analyzed_store / TINY_RUN_ID, tmp_path / name)
    loads = []
    real_load = store.load_path
    monkeypatch.setattr(store, "load_path", lambda path: loads.append(os.path.basename(path)) or real_load(path))
    monkeypatch.setattr("dashboard.cache.SUMMARY_TTL_S", 0.0)  # every call looks at the store again
    cache = BundleCache(tmp_path)
    assert sorted(_listed(cache)) == ["one", "three", "two"] and sorted(loads) == ["one", "three", "two"]
    loads.clear()
    for _ in range(3):
        cache.summaries()
    assert loads == []
    (tmp_path / "two" / "vocab.json").write_text((tmp_path / "two" / "vocab.json").read_text())  # edited in place
    os.utime(tmp_path / "two" / "vocab.json", ns=(1, 1))
    cache.summaries()
    assert loads == ["two"]

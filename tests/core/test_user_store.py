"""Two stores (issue 17): bundled runs in the read-only models_store/, runs a user trains in a separate, git-ignored
user store (ATTRACTORSCOPE_USER_STORE, default user_models/), listed together everywhere models are listed."""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from core import store
from core.config import repo_root, store_dir, user_store_dir
from core.job_registry import JobRefused, JobRegistry
from core.jobs import run_job
from tests.conftest import TINY_RUN_ID
from tests.core.test_job_queue import config

USER_RUN_ID = "my-run"


@pytest.fixture
def two_stores(analyzed_store, tmp_path, monkeypatch):
    """(bundled store holding the tiny GRU, user store holding a copy under another name), both from env vars."""
    bundled, user = tmp_path / "bundled", tmp_path / "user"
    shutil.copytree(analyzed_store / TINY_RUN_ID, bundled / TINY_RUN_ID)
    shutil.copytree(analyzed_store / TINY_RUN_ID, user / USER_RUN_ID)
    monkeypatch.setenv("ATTRACTORSCOPE_STORE", str(bundled))
    monkeypatch.setenv("ATTRACTORSCOPE_USER_STORE", str(user))
    return bundled, user


def test_default_user_store_is_its_own_git_ignored_folder(monkeypatch):
    monkeypatch.delenv("ATTRACTORSCOPE_STORE", raising=False)
    monkeypatch.delenv("ATTRACTORSCOPE_USER_STORE", raising=False)
    assert store_dir() == repo_root() / "models_store"
    assert user_store_dir() == repo_root() / "user_models"
    if shutil.which("git") is None or not (repo_root() / ".git").exists():
        pytest.skip("not a git checkout")
    for path in ("user_models/my-run/model.safetensors", "models_store/.jobs/abc.json", "user_models/.jobs/abc.json",
                 ".jobs/abc.json"):
        out = subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=repo_root())
        assert out.returncode == 0, f"{path} is not git-ignored"


def test_both_stores_are_listed_and_the_bundled_ones_are_read_only(two_stores):
    bundled, user = two_stores
    rows = {s.run_id: s for s in store.list_bundles()}
    assert set(rows) == {TINY_RUN_ID, USER_RUN_ID}
    assert rows[TINY_RUN_ID].bundled and not rows[USER_RUN_ID].bundled
    assert store.load(USER_RUN_ID).path == user / USER_RUN_ID
    assert store.load(TINY_RUN_ID).path == bundled / TINY_RUN_ID
    with pytest.raises(store.BundleError, match="read-only"):
        store.delete_bundle(TINY_RUN_ID)
    assert (bundled / TINY_RUN_ID).is_dir()
    store.delete_bundle(USER_RUN_ID)
    assert not (user / USER_RUN_ID).exists()


def test_the_cli_lists_both_stores(two_stores):
    out = subprocess.run([sys.executable, "-m", "core", "list"], cwd=repo_root(), capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert TINY_RUN_ID in out.stdout and USER_RUN_ID in out.stdout


def test_a_job_lands_in_the_user_store_and_cannot_take_a_bundled_name(two_stores):
    bundled, user = two_stores
    registry = JobRegistry()  # the defaults: jobs in the user store, bundled names reserved
    assert registry.root == user / ".jobs"
    with pytest.raises(JobRefused):
        registry.create(config(TINY_RUN_ID))
    job = registry.create(config("fresh-run", steps=20))
    assert run_job(job.job_id, registry).state == "succeeded"
    assert (user / "fresh-run" / "analysis.npz").is_file()
    assert sorted(p.name for p in bundled.iterdir()) == [TINY_RUN_ID]  # nothing written into the bundled store

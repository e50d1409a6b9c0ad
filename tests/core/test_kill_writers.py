"""Writers killed with SIGKILL, for real, never leave a bundle or an analysis that loads half-written.

Each run is a real ``python -m core train`` (train -> save -> analyze) or ``python -m core analyze`` in
its own process, killed at a seeded-random moment of its life, or the instant its staging folder or
staging analysis file appears. After every kill each folder in the store either loads completely or is
a temp/trash folder, and ``store.cleanup_temp`` (what the app runs at start) removes every leftover.
"""
from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Callable

import pytest

from core import atomic, store
from core.analysis_file import NOT_ANALYZED
from core.analysis_view import load_analysis
from tests.conftest import TINY_RUN_ID

REPO = Path(__file__).resolve().parents[2]
LEFTOVER_PREFIXES = (atomic.TEMP_PREFIX, atomic.TRASH_PREFIX, atomic.REPLACED_PREFIX)
RUN_ID = "killme"
# the smallest run that still trains, saves and analyzes (~7 s here, most of it imports and data)
TRAIN_ARGS = ["train", "--task", "categorical", "--classes", "2", "--units", "8", "--embed", "4",
              "--steps", "10", "--batch-size", "16", "--run-id", RUN_ID]
# Saving a tiny bundle takes about a millisecond, too short for a kill to land in by chance. This runs
# the same CLI with a slow disk: hashing the weights (between writing them and writing config.json)
# sleeps, so a kill during that sleep lands inside save_bundle with the staging folder half full.
SLOW_SAVE_CLI = """
import runpy, sys, time
import core.store as store
_sha256 = store.file_sha256
def slow_sha256(path):
    time.sleep(0.3)
    return _sha256(path)
store.file_sha256 = slow_sha256
sys.argv = ["core", *sys.argv[1:]]
runpy.run_module("core", run_name="__main__", alter_sys=True)
"""


def _start(args: list[str], root: Path, log, slow_save: bool = False) -> subprocess.Popen:
    env = {**os.environ, "ATTRACTORSCOPE_STORE": str(root), "ATTRACTORSCOPE_USER_STORE": str(root),
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    cmd = [sys.executable, "-c", SLOW_SAVE_CLI, *args] if slow_save else [sys.executable, "-m", "core", *args]
    # its own process group, so the kill reaches anything it starts
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:  # it finished first
        pass
    proc.wait(timeout=60)  # reaped: a zombie's pid would still look like a live writer to cleanup_temp


def _wait_until(proc: subprocess.Popen, seen: Callable[[], bool], timeout_s: float = 120.0) -> bool:
    """Poll every half millisecond until ``seen()`` or the process ends; whether it was seen."""
    deadline = time.monotonic() + timeout_s
    while proc.poll() is None and time.monotonic() < deadline:
        if seen():
            return True
        time.sleep(0.0005)
    return False


def _entries(root: Path) -> list[Path]:
    try:
        return list(root.iterdir())
    except FileNotFoundError:
        return []


def _temp_dirs(root: Path) -> list[str]:
    return [p.name for p in _entries(root) if p.name.startswith(LEFTOVER_PREFIXES)]


def _analysis_temps(root: Path) -> list[str]:
    return [f"{p.name}/{f.name}" for p in _entries(root) if not p.name.startswith(".")
            for f in p.glob(".analysis.npz.*.tmp")]


def _leftovers(root: Path) -> list[str]:
    """What a killed writer left, named as cleanup_temp reports it."""
    return sorted(_temp_dirs(root) + _analysis_temps(root))


def assert_every_bundle_whole(root: Path) -> None:
    for path in _entries(root):
        if path.name.startswith(LEFTOVER_PREFIXES):
            continue
        bundle = store.load_path(path)  # a BundleError here would be a half-written bundle in place
        if (path / "analysis.npz").exists():
            load_analysis(path / "analysis.npz", bundle.weights_sha256)  # ...or a half-written analysis
    for s in store.list_bundles(root):
        assert s.ok and (s.has_analysis or s.analysis_reason == NOT_ANALYZED), s


def assert_cleanup_removes_leftovers(root: Path) -> None:
    before = _leftovers(root)
    assert sorted(store.cleanup_temp(root)) == before
    assert _leftovers(root) == []


def _run_and_kill(args, root, log_path, when: str, rng: random.Random, lifetime_s: float,
                  slow_save: bool = False) -> float:
    """Start a writer, kill it at the moment ``when`` describes; returns the seconds it lived."""
    with open(log_path, "wb") as log:
        proc = _start(args, root, log, slow_save)
        start = time.monotonic()
        if when == "save":
            assert _wait_until(proc, lambda: bool(_temp_dirs(root)))
            time.sleep(rng.uniform(0.0, 0.2))  # inside the slow hash: the staging folder is half written
        elif when == "analysis-save":
            _wait_until(proc, lambda: bool(_analysis_temps(root)))
        else:
            time.sleep(rng.uniform(0.3, lifetime_s))
        lived = time.monotonic() - start
        _kill(proc)
    assert proc.returncode in (0, -signal.SIGKILL), log_path.read_text(errors="replace")[-3000:]
    return lived


@pytest.mark.slow
def test_killed_training_never_leaves_half_a_bundle(tmp_path):
    """A dozen real SIGKILLs over train -> save -> analyze, into one store that keeps its last bundle."""
    rng = random.Random(8)
    root = tmp_path / "store"
    root.mkdir()
    # the analysis-save kills come first: the time they take is the run's lifetime, which bounds the rest
    plan = ["analysis-save"] * 3 + ["save"] * 3 + ["anytime"] * 6
    lifetime_s, landed = 0.0, Counter()
    for i, when in enumerate(plan):
        lived = _run_and_kill(TRAIN_ARGS, root, tmp_path / f"train{i}.log", when, rng, lifetime_s,
                              slow_save=when == "save")
        if when == "analysis-save":
            lifetime_s = max(lifetime_s, lived)
        leftovers = _leftovers(root)
        landed["mid-save"] += any(name.startswith(atomic.TEMP_PREFIX) for name in leftovers)
        landed["mid-analysis-save"] += any(".analysis.npz." in name for name in leftovers)
        assert_every_bundle_whole(root)
        assert_cleanup_removes_leftovers(root)
        assert_every_bundle_whole(root)
    # the test really hit the dangerous windows, not only the harmless stretches around them
    assert landed["mid-save"] >= 1 and landed["mid-analysis-save"] >= 1, landed


@pytest.mark.slow
def test_killed_analysis_keeps_the_old_one_or_none(analyzed_store, tmp_path):
    """`python -m core analyze` killed over an analyzed bundle keeps the old file; over a new one, none."""
    rng = random.Random(9)
    root = tmp_path / "store"
    shutil.copytree(analyzed_store / TINY_RUN_ID, root / TINY_RUN_ID)
    npz = root / TINY_RUN_ID / "analysis.npz"
    lifetime_s, landed = 0.0, 0
    for i, (when, start_analyzed) in enumerate([("analysis-save", True), ("anytime", True), ("anytime", False)]):
        if not start_analyzed:
            npz.unlink(missing_ok=True)
        before = store.file_sha256(npz) if npz.exists() else None
        lived = _run_and_kill(["analyze", TINY_RUN_ID], root, tmp_path / f"analyze{i}.log", when, rng, lifetime_s)
        lifetime_s = max(lifetime_s, lived)
        if _analysis_temps(root):  # killed while writing the new file: the old one (or none) is untouched
            landed += 1
            assert (store.file_sha256(npz) if npz.exists() else None) == before
        assert_every_bundle_whole(root)
        assert_cleanup_removes_leftovers(root)
    assert landed >= 1


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_cleanup_removes_only_dead_writers_analysis_temps(tmp_path):
    bundle, hidden = tmp_path / "run-a", tmp_path / ".jobs"
    for folder in (bundle, hidden):
        folder.mkdir()
    dead = bundle / f".analysis.npz.{_dead_pid()}.tmp"
    live = bundle / f".analysis.npz.{os.getppid()}.tmp"
    unrelated = [hidden / f".analysis.npz.{_dead_pid()}.tmp", bundle / "analysis.npz",
                 bundle / ".analysis.npz.x.tmp"]
    for path in (dead, live, *unrelated):
        path.write_bytes(b"partial")
    assert store.cleanup_temp(tmp_path, min_age_s=3600) == []  # too fresh: maybe a slow writer on another host
    assert store.cleanup_temp(tmp_path) == [f"run-a/{dead.name}"]
    assert not dead.exists() and live.exists() and all(p.exists() for p in unrelated)

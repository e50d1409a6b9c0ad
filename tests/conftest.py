"""Shared fixtures: every registered cell type, tiny models, a tiny trained bundle in a temp store, e2e skipping."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from core import store
from core.analysis import analyze_bundle
from core.cells import CELLS
from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig
from core.models import RNNClassifier, build_model
from core.tasks import load_task
from core.training import train

# Workers share two cores and the models here are tiny: one thread is faster than contention.
torch.set_num_threads(1)

CHROMIUM = Path("/usr/bin/chromium")
TINY_RUN_ID = "tiny-gru"
TINY_TASK = TaskConfig(name="categorical", num_classes=2, min_len=5, max_len=20,
                       n_train=600, n_val=100, n_test=200, seed=0)
TINY_TRAIN = TrainConfig(steps=120, batch_size=32, lr=1e-2, eval_every=40, patience=100, seed=0)


def pytest_collection_modifyitems(config, items):
    """Browser (``e2e``) tests are ``slow`` too, and skipped when there is no headless Chromium to drive."""
    skip = pytest.mark.skip(
        reason=f"e2e test needs Chromium at {CHROMIUM}; install it with "
               "`apt-get install -y chromium chromium-driver` (scripts/run_tests.sh does this as root)")
    for item in items:
        if item.get_closest_marker("e2e") is not None:
            item.add_marker(pytest.mark.slow)
            if not CHROMIUM.exists():
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def _own_user_store(tmp_path_factory, monkeypatch):
    """Runs a user trained (ATTRACTORSCOPE_USER_STORE, default user_models/) never reach a test: each test gets an
    empty user store of its own."""
    monkeypatch.setenv("ATTRACTORSCOPE_USER_STORE", str(tmp_path_factory.mktemp("user_models")))


@pytest.fixture(params=list(CELLS))
def cell(request) -> str:
    """Every cell type in the registry (core.cells.CELLS): a test that takes it runs once per type."""
    return request.param


@pytest.fixture
def tiny_model():
    """Factory: ``tiny_model(cell, **overrides)`` -> an RNNClassifier in eval mode, seeded."""

    def make(cell: str = "gru", *, units: int = 8, embed_dim: int = 6, vocab_size: int = 12,
             num_classes: int = 3, multilabel: bool = False, dropout: float = 0.0,
             seed: int = 0) -> RNNClassifier:
        config = ModelConfig(cell=cell, units=units, embed_dim=embed_dim, vocab_size=vocab_size,
                             num_classes=num_classes, multilabel=multilabel, dropout=dropout)
        return build_model(config, seed=seed).eval()

    return make


@pytest.fixture(scope="session")
def _tiny_bundle_dir(tmp_path_factory) -> Path:
    """Train a tiny GRU on a 2-class categorical task once per session and save it."""
    data = load_task(TINY_TASK)
    config = RunConfig(
        run_id=TINY_RUN_ID,
        model=ModelConfig(cell="gru", units=12, embed_dim=8, vocab_size=len(data.vocab), num_classes=2),
        task=TINY_TASK, train=TINY_TRAIN)
    trained = train(config, data)
    info = {"class_names": list(data.class_names), "examples": list(data.examples),
            "ordered": data.ordered, "multilabel": data.multilabel, "source": data.source}
    root = tmp_path_factory.mktemp("tiny_bundle_store")
    return store.save_bundle(config, trained.model, trained.vocab, info, trained.metrics,
                             {"seed": TINY_TRAIN.seed, "data": data.source}, store=root)


@pytest.fixture
def tiny_bundle(_tiny_bundle_dir, tmp_path, monkeypatch) -> store.Bundle:
    """A fresh copy of the tiny trained bundle in this test's own store, loaded.

    ATTRACTORSCOPE_STORE points at that store, so ``store.load("tiny-gru")`` works too; the
    store folder is ``tiny_bundle.path.parent``. Tests may damage the copy freely.
    """
    root = tmp_path / "store"
    root.mkdir()
    shutil.copytree(_tiny_bundle_dir, root / TINY_RUN_ID)
    monkeypatch.setenv("ATTRACTORSCOPE_STORE", str(root))
    return store.load(TINY_RUN_ID)


BROKEN_RUN_ID = "broken-bundle"


@pytest.fixture(scope="session")
def analyzed_store(_tiny_bundle_dir, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("analyzed_store")
    shutil.copytree(_tiny_bundle_dir, root / _tiny_bundle_dir.name)
    analyze_bundle(store.load_path(root / _tiny_bundle_dir.name), n_inits=64, cloud_size=1500, max_sequences=200)
    broken = root / BROKEN_RUN_ID
    shutil.copytree(_tiny_bundle_dir, broken)
    (broken / "config.json").write_text("{ not json")
    return root


CKPT_RUN_ID = "tiny-ckpt"


@pytest.fixture(scope="session")
def ckpt_bundle_dir(tmp_path_factory) -> Path:
    """A tiny GRU trained through ``core.pipeline.train_run`` (so it keeps training-time checkpoints), analyzed,
    alone in its own store folder. Copy it before damaging it."""
    import dataclasses

    from core.pipeline import train_run

    config = RunConfig(CKPT_RUN_ID, ModelConfig("gru", 8, 6, num_classes=2), TINY_TASK,
                       dataclasses.replace(TINY_TRAIN, steps=80, eval_every=10))
    path = train_run(config, store_path=tmp_path_factory.mktemp("ckpt_store"))
    analyze_bundle(store.load_path(path), n_inits=64, cloud_size=1500, max_sequences=200)
    return path

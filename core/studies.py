"""Studies (issue 19): sweeps of small regular bundles, each trained and analyzed by the normal pipeline,
and a summary file with the table behind each figure of the Studies page.

``python -m core study NAME`` runs one (``--bundled`` writes into models_store/, as the shipped studies
were made); the Studies page queues the same run as a background job (``core.jobs``). A run resumes:
points whose bundle is already analyzed in the target store are measured again, not retrained. The
summary lands in ``<store>/.studies/<name>.json`` (a hidden folder: the store lists bundles only).
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from core import atomic, store
from core.analysis import analyze_bundle
from core.baselines import tfidf_accuracy
from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig, store_dir, user_store_dir
from core.job_registry import estimate_seconds
from core.pipeline import code_version, train_run
from core.study_metrics import point_metrics
from core.tasks import TaskData, load_task
from core.training import TrainingCancelled

__all__ = ["Study", "StudyPoint", "StudyError", "STUDIES", "is_study_run", "study_task", "run_study", "read_summary",
           "summary_path", "estimate_study_seconds"]

SUMMARY_VERSION = 1
STUDY_DIR = ".studies"


class StudyError(ValueError):
    """A study name is unknown or its summary file cannot be read; the message is for the user."""


def study_task(name: str, seed: int = 0) -> TaskConfig:
    """The task setting every study point uses: short texts (10-30 tokens), 4,000 training texts."""
    return TaskConfig(name, 2, min_len=10, max_len=30, n_train=4000, n_val=500, n_test=1000, seed=seed)


@dataclass(frozen=True)
class StudyPoint:
    run_id: str
    config: RunConfig

    @property
    def label(self) -> dict:
        return {"run_id": self.run_id, "cell": self.config.model.cell, "units": self.config.model.units,
                "task": self.config.task.name, "seed": self.config.train.seed}


@dataclass(frozen=True)
class Study:
    name: str
    title: str
    claim: str                 # the claim tested, one sentence (shown above the figure)
    points: tuple[StudyPoint, ...]
    shipped: bool = True       # precomputed in models_store/; False: offered as a job only


def _point(study: str, cell: str, task: str, units: int, seed: int = 0, steps: int = 800) -> StudyPoint:
    run_id = f"st-{study}-{task}-{cell}{units}-s{seed}"
    train = TrainConfig(steps=steps, batch_size=64, lr=2e-3, eval_every=100, patience=4, seed=seed)
    return StudyPoint(run_id, RunConfig(run_id, ModelConfig(cell, units, 16, num_classes=2), study_task(task), train))


WIDTH_CLAIM = ("Wider networks train lazily: their recurrent weights move less from initialization (relative "
               "distance falling with width), while accuracy, the dimension of the attractor and its fixed points "
               "stay alike (Aitken & Gur-Ari).")
STUDIES: dict[str, Study] = {s.name: s for s in (
    Study("cells", "Additive vs multiplicative cells on word-combination tasks",
          "Cells that combine words by multiplication (multiplicative RNN; GRU and LSTM through their gates) learn "
          "negation and bigram features that additive vanilla RNNs (tanh, ReLU) miss, and carry them to held-out "
          "combinations (Sun, Li & Lu 2023).",
          tuple(_point("cells", c, t, 32) for t in ("negation", "intensifiers", "bigram")
                for c in ("tanh", "relu", "gru", "lstm", "mrnn"))),
    Study("width", "Width sweep, 16 to 256 units, on negation", WIDTH_CLAIM,
          tuple(_point("width", c, "negation", u) for c in ("tanh", "gru") for u in (16, 32, 64, 128, 256))),
    Study("width-large", "Width sweep, 512 and 1024 units, on negation (a job: long)", WIDTH_CLAIM,
          tuple(_point("width", c, "negation", u) for c in ("tanh", "gru") for u in (512, 1024)), shipped=False),
    Study("relu-tanh", "ReLU vs tanh feature bias on a balanced task (intensifiers)",
          "A ReLU activation biases the features a model extracts: neutral texts read as one class and positive and "
          "negative words push by different amounts, where tanh (an odd function) stays symmetric (Sun, Li & Lu 2023).",
          tuple(_point("relu-tanh", c, "intensifiers", 32, seed=s) for c in ("relu", "tanh") for s in (0, 1, 2))),
)}


def _study(name) -> Study:
    if not isinstance(name, str) or name not in STUDIES:
        raise StudyError(f"unknown study {str(name)[:40]!r}; choose one of {', '.join(STUDIES)}")
    return STUDIES[name]


def estimate_study_seconds(name: str) -> tuple[float, float]:
    """(the whole study, its longest model): rough durations on one thread, training plus analysis per model."""
    each = [estimate_seconds(p.config) for p in _study(name).points]
    return sum(each), max(each)


def analysis_options(units: int) -> dict:
    """Small analyses for small bundles (fewer fixed-point starts for wide models: their Jacobians are big)."""
    return {"n_inits": min(256, max(16, 32768 // units)), "cloud_size": 3000, "max_sequences": 400}


def _trained_and_analyzed(point: StudyPoint, target: Path, bundled: bool, owner: str, should_stop, on_train):
    path = store.bundle_path(point.run_id, target)
    if not path.exists():
        path = train_run(point.config, on_progress=on_train, should_stop=should_stop, store_path=target,
                         bundled=bundled, owner=owner)
    bundle = store.load_path(path)
    if not (path / "analysis.npz").exists():
        analyze_bundle(bundle, **analysis_options(point.config.model.units))
        bundle = store.load_path(path)
    return bundle


def run_study(name: str, target: Path | None = None, on_progress: Callable[[dict], None] | None = None,
              should_stop: Callable[[], bool] | None = None, bundled: bool = False, owner: str = "") -> dict:
    """Train, analyze and measure every point of a study into ``target`` (default: the bundled store for
    ``bundled``, else the user store), then write its summary there; returns the summary."""
    study = _study(name)
    target = Path(target or (store_dir() if bundled else user_store_dir()))
    report = on_progress or (lambda event: None)
    rows, tasks, start = [], {}, time.perf_counter()
    total = len(study.points)
    for i, point in enumerate(study.points):
        if should_stop is not None and should_stop():
            raise TrainingCancelled("the study was cancelled")
        report({"stage": point.run_id, "step": i, "total": total})

        def on_train(event, i=i):
            report({"stage": point.run_id, "step": i + 0.8 * event["step"] / event["total"], "total": total})

        bundle = _trained_and_analyzed(point, target, bundled, owner, should_stop, on_train)
        key = (point.config.task.name, point.config.task.seed)
        if key not in tasks:
            tasks[key] = load_task(point.config.task)
        rows.append({**point.label, **point_metrics(bundle, tasks[key]),
                     "train_s": bundle.metrics.get("wall_time_s"), "analysis_s": bundle.analysis.wall_time_s,
                     "example": bundle.examples[0] if bundle.examples else ""})
    summary = {"version": SUMMARY_VERSION, "name": study.name, "title": study.title, "claim": study.claim,
               "points": rows, "baselines": _baselines(tasks), "runtime_s": round(time.perf_counter() - start, 1),
               "machine": f"{os.cpu_count()} CPU cores, 1 torch thread", "code_version": code_version(),
               "created": time.time()}
    write_summary(target, summary)
    report({"stage": "done", "step": total, "total": total})
    return summary


def _baselines(tasks: dict[tuple, TaskData]) -> dict:
    """TF-IDF + logistic regression on each task the study used: unigrams and uni+bigrams."""
    return {name: {"unigram": tfidf_accuracy(data, 1), "uni+bigram": tfidf_accuracy(data, 2)}
            for (name, _), data in tasks.items()}


def summary_path(name: str, root: Path) -> Path:
    return Path(root) / STUDY_DIR / f"{_study(name).name}.json"


def write_summary(root: Path, summary: dict) -> None:
    path = summary_path(summary["name"], root)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(summary, indent=1, allow_nan=True).encode()
    atomic.write_file(path, lambda fh: fh.write(data))


def read_summary(name: str, stores: tuple[Path, ...] | None = None) -> dict | None:
    """The study's summary from the first store holding one (user store first: a re-run there is newer);
    None when no store has it; StudyError when the file is damaged."""
    for root in stores or (user_store_dir(), store_dir()):
        path = summary_path(name, root)
        if not path.is_file():
            continue
        try:
            summary = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            raise StudyError(f"the summary of study {name} cannot be read ({err.__class__.__name__}); "
                             f"run `python -m core study {name}` again") from None
        if not isinstance(summary, dict) or not isinstance(summary.get("points"), list) \
                or summary.get("version") != SUMMARY_VERSION:
            raise StudyError(f"the summary of study {name} is not a version-{SUMMARY_VERSION} study summary; "
                             f"run `python -m core study {name}` again")
        summary["store"] = str(root)
        return summary
    return None


_STUDY_RUN_IDS = frozenset(p.run_id for study in STUDIES.values() for p in study.points)


def is_study_run(run_id: str) -> bool:
    """Whether ``run_id`` names a point of one of the studies (model pickers list those only on /studies)."""
    return isinstance(run_id, str) and run_id in _STUDY_RUN_IDS

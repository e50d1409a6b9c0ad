"""Frozen configuration dataclasses saved with every model bundle, run ids, and settings from env vars.

Validation raises ``ConfigError`` (``RunIdError`` for a run id that is not a slug) with one
sentence a user can act on. Cell names come from the ``core.cells`` registry; this module
imports nothing else from core.
"""
from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from core.cells import CELLS

__all__ = [
    "CELL_TYPES", "TASK_NAMES", "USER_DATA_TASKS", "DATASET_ID_RE", "NGRAM_TASKS", "PRETRAINED", "SCHEMA_VERSION",
    "RUN_ID_RE", "ConfigError", "RunIdError", "check_run_id", "check_int", "check_float", "config_from_dict",
    "ModelConfig", "TaskConfig", "TrainConfig", "RunConfigBase", "RunConfig", "store_dir", "user_store_dir", "repo_root",
]

SCHEMA_VERSION = 1
CELL_TYPES = tuple(CELLS)
TASK_NAMES = ("categorical", "ordered", "multilabel", "reviews", "stars", "imdb", "negation", "intensifiers", "bigram",
              "csv", "imported")
NGRAM_TASKS = ("negation", "intensifiers", "bigram")  # word-combination tasks (core.tasks.ngram), 2 classes
USER_DATA_TASKS = ("csv", "imported")  # their texts are a user's dataset (core.user_data), named by ``dataset``
DATASET_ID_RE = re.compile(r"^[0-9a-f]{16}$")
PRETRAINED = {"": None, "glove50": 50}  # pretrained word vectors -> their dimension (data/glove_imdb)
RUN_ID_RE = re.compile(r"^[a-z0-9_-]{1,64}$")


class ConfigError(ValueError):
    """A configuration value is out of range or of the wrong kind."""


class RunIdError(ConfigError):
    """A run id is not a slug of 1-64 characters a-z, 0-9, '-' and '_' (it names a folder)."""


def check_run_id(run_id: Any) -> str:
    """The run id itself if it is a valid slug; checked before any path is built from it."""
    if not isinstance(run_id, str) or not RUN_ID_RE.fullmatch(run_id):
        raise RunIdError(f"{str(run_id)[:80]!r} is not a valid run id: use 1-64 of a-z, 0-9, '-' and '_'.")
    return run_id


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def store_dir() -> Path:
    """Folder of the bundled (shipped, read-only) model bundles: ATTRACTORSCOPE_STORE, default <repo>/models_store."""
    return Path(os.environ.get("ATTRACTORSCOPE_STORE", repo_root() / "models_store"))


def user_store_dir() -> Path:
    """Folder where runs a user trains land, with their job records in ``.jobs``: ATTRACTORSCOPE_USER_STORE,
    default <repo>/user_models (git-ignored). Set it to the same folder as ATTRACTORSCOPE_STORE for one store."""
    return Path(os.environ.get("ATTRACTORSCOPE_USER_STORE", repo_root() / "user_models"))


def config_from_dict(cls, data: Any):
    """A frozen config dataclass from its JSON object, validated; ConfigError names what is wrong."""
    if not isinstance(data, dict):
        raise ConfigError(f"{cls.__name__} must be a JSON object")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ConfigError(f"{cls.__name__} has unknown keys: {sorted(unknown)[:5]}")
    try:
        obj = cls(**data)
    except TypeError as err:
        raise ConfigError(f"{cls.__name__}: {err}") from None
    obj.validate()
    return obj


def check_int(name: str, value: Any, lo: int, hi: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ConfigError(f"{name} must be an integer from {lo} to {hi}, got {value!r}")


def check_float(name: str, value: Any, lo: float, hi: float) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not lo <= value <= hi:
        raise ConfigError(f"{name} must be a number from {lo} to {hi}, got {value!r}")


@dataclass(frozen=True)
class ModelConfig:
    cell: str = "gru"
    units: int = 128
    embed_dim: int = 32
    vocab_size: int = 100
    num_classes: int = 3
    multilabel: bool = False
    dropout: float = 0.0          # on the final hidden state, before the readout (training only)
    embed_dropout: float = 0.0    # on the word embeddings (training only)
    pretrained: str = ""          # start the embedding from these word vectors ("" = random)

    def validate(self) -> None:
        if self.cell not in CELL_TYPES:
            raise ConfigError(f"unknown cell {self.cell!r}; choose one of {', '.join(CELL_TYPES)}")
        check_int("units", self.units, 2, 1024)  # the Train form stops at 512; width studies go to 1024
        check_int("embed_dim", self.embed_dim, 1, 1024)
        check_int("vocab_size", self.vocab_size, 3, 200_000)
        check_int("num_classes", self.num_classes, 2, 10)
        check_float("dropout", self.dropout, 0.0, 0.9)
        check_float("embed_dropout", self.embed_dropout, 0.0, 0.9)
        if self.pretrained not in PRETRAINED:
            raise ConfigError(f"unknown pretrained vectors {str(self.pretrained)[:40]!r}; choose one of "
                              f"{', '.join(repr(k) for k in PRETRAINED)}")
        if PRETRAINED[self.pretrained] not in (None, self.embed_dim):
            raise ConfigError(f"{self.pretrained} vectors are {PRETRAINED[self.pretrained]}-d: set embed_dim to match")

    @property
    def state_size(self) -> int:
        return CELLS[self.cell].state_size(self.units)

    @classmethod
    def from_dict(cls, data: Any) -> "ModelConfig":
        return config_from_dict(cls, data)


@dataclass(frozen=True)
class TaskConfig:
    name: str = "categorical"
    num_classes: int = 3
    min_len: int = 20
    max_len: int = 100            # synthetic: longest sequence; imdb: training reviews keep their last max_len tokens
    n_train: int = 20_000
    n_val: int = 2_000
    n_test: int = 2_000
    vocab_cap: int = 20_000
    seed: int = 0
    dataset: str = ""             # csv / imported: the id of the user's dataset in <user store>/.datasets

    def validate(self) -> None:
        if self.name not in TASK_NAMES:
            raise ConfigError(f"unknown task {self.name!r}; choose one of {', '.join(TASK_NAMES)}")
        if self.name in USER_DATA_TASKS and not (isinstance(self.dataset, str) and DATASET_ID_RE.fullmatch(self.dataset)):
            raise ConfigError(f"the {self.name} task needs the id of a dataset (16 hex digits)")
        if self.name not in USER_DATA_TASKS and self.dataset != "":
            raise ConfigError(f"the {self.name} task reads no user dataset")
        check_int("num_classes", self.num_classes, 2, 10)
        if self.name in NGRAM_TASKS and self.num_classes != 2:
            raise ConfigError(f"the {self.name} task has 2 classes")
        if self.name == "ordered" and self.num_classes not in (3, 5):
            raise ConfigError("the ordered task has 3 or 5 classes")
        check_int("min_len", self.min_len, 1, 10_000)
        check_int("max_len", self.max_len, self.min_len, 10_000)
        for name in ("n_train", "n_val", "n_test"):
            check_int(name, getattr(self, name), 1, 10_000_000)
        check_int("vocab_cap", self.vocab_cap, 3, 200_000)

    @property
    def is_synthetic(self) -> bool:
        return self.name in ("categorical", "ordered", "multilabel")

    @classmethod
    def from_dict(cls, data: Any) -> "TaskConfig":
        return config_from_dict(cls, data)


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 1500
    batch_size: int = 64
    lr: float = 2e-3
    clip: float = 1.0
    eval_every: int = 100
    patience: int = 5
    weight_decay: float = 0.0
    seed: int = 0
    bucketed: bool = False  # batches of similar length drawn epoch by epoch (long documents)
    # lambda times the mean square of the input drive W_x x per gate unit, added to the loss: gentler, more
    # linear word kicks (issue 15; core.training.input_drive_power). 0: off, as every bundled model was trained
    input_penalty: float = 0.0

    def validate(self) -> None:
        check_int("steps", self.steps, 1, 10_000_000)
        check_int("batch_size", self.batch_size, 1, 65_536)
        check_float("lr", self.lr, 1e-7, 1.0)
        check_float("clip", self.clip, 0.0, 1e6)
        check_int("eval_every", self.eval_every, 1, 10_000_000)
        check_int("patience", self.patience, 1, 10_000)
        check_float("weight_decay", self.weight_decay, 0.0, 1.0)
        check_float("input_penalty", self.input_penalty, 0.0, 100.0)
        if not isinstance(self.bucketed, bool):
            raise ConfigError(f"bucketed must be true or false, got {self.bucketed!r}")

    @classmethod
    def from_dict(cls, data: Any) -> "TrainConfig":
        return config_from_dict(cls, data)


class RunConfigBase:
    """What every run config shares (a classifier's ``RunConfig``, an encoder-decoder's
    ``core.seq2seq.config.SeqRunConfig``): a run id, the model, task and training configs, their validation and
    their JSON form in config.json. A subclass is a frozen dataclass with the fields ``run_id``, ``model``,
    ``task`` and ``train``, names its model and task config classes, and may check how they fit together."""

    kind: ClassVar[str] = "classifier"   # what the bundle's config.json says
    model_type: ClassVar[type]
    task_type: ClassVar[type]

    def validate(self) -> None:
        check_run_id(self.run_id)
        self.model.validate()
        self.task.validate()
        self.train.validate()
        self.check_parts()

    def check_parts(self) -> None:
        """How model and task must agree (ConfigError if they do not)."""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any):
        if not isinstance(data, dict) or not isinstance(data.get("run_id"), str):
            raise ConfigError("run config must be a JSON object with a run_id")
        unknown = set(data) - {"run_id", "model", "task", "train"}
        if unknown:
            raise ConfigError(f"run config has unknown keys: {sorted(unknown)[:5]}")
        run = cls(data["run_id"], cls.model_type.from_dict(data.get("model", {})),
                  cls.task_type.from_dict(data.get("task", {})), TrainConfig.from_dict(data.get("train", {})))
        run.validate()
        return run


@dataclass(frozen=True)
class RunConfig(RunConfigBase):
    model_type: ClassVar[type] = ModelConfig
    task_type: ClassVar[type] = TaskConfig
    run_id: str
    model: ModelConfig = field(default_factory=ModelConfig)
    task: TaskConfig = field(default_factory=TaskConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def check_parts(self) -> None:
        if self.model.num_classes != self.task.num_classes:
            raise ConfigError("model and task disagree on the number of classes")

"""Frozen configs of sequence-to-sequence runs (encoder-decoder with attention, issue 18).

A seq2seq bundle's config.json says ``"kind": "seq2seq"`` and holds a ``SeqRunConfig``; classifier
bundles have no kind (or ``"classifier"``). The training config is the classifiers' ``TrainConfig``, and
``SeqRunConfig`` shares ``RunConfig``'s validation and JSON form (``core.config.RunConfigBase``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from core.config import ConfigError, RunConfigBase, TrainConfig, check_int, config_from_dict

__all__ = ["SEQ_KIND", "SEQ_TASKS", "ENCODERS", "SCAN_MAX_SRC", "SeqModelConfig", "SeqTaskConfig", "SeqRunConfig"]

SEQ_KIND = "seq2seq"
SEQ_TASKS = ("seq-translate", "seq-reverse", "seq-sort", "seq-scan")
ENCODERS = ("gru", "ff")  # recurrent encoder, or feed-forward with learned position embeddings
SCAN_MAX_SRC = 7          # the longest SCAN-like command: "jump left thrice and walk right twice"


@dataclass(frozen=True)
class SeqModelConfig:
    encoder: str = "gru"
    units: int = 64
    embed_dim: int = 32
    src_vocab_size: int = 20
    tgt_vocab_size: int = 20
    max_src_len: int = 24         # positions the feed-forward encoder has embeddings for

    def validate(self) -> None:
        if self.encoder not in ENCODERS:
            raise ConfigError(f"unknown encoder {self.encoder!r}; choose one of {', '.join(ENCODERS)}")
        check_int("units", self.units, 2, 512)
        check_int("embed_dim", self.embed_dim, 1, 512)
        check_int("src_vocab_size", self.src_vocab_size, 3, 10_000)
        check_int("tgt_vocab_size", self.tgt_vocab_size, 5, 10_000)
        check_int("max_src_len", self.max_src_len, 1, 1000)

    @classmethod
    def from_dict(cls, data: Any) -> "SeqModelConfig":
        return config_from_dict(cls, data)


@dataclass(frozen=True)
class SeqTaskConfig:
    name: str = "seq-reverse"
    min_len: int = 5              # source lengths (the SCAN-like task's come from its grammar)
    max_len: int = 20
    n_train: int = 20_000
    n_val: int = 1_000
    n_test: int = 1_000
    seed: int = 0

    def validate(self) -> None:
        if self.name not in SEQ_TASKS:
            raise ConfigError(f"unknown sequence task {self.name!r}; choose one of {', '.join(SEQ_TASKS)}")
        check_int("min_len", self.min_len, 1, 200)
        check_int("max_len", self.max_len, self.min_len, 200)
        for name in ("n_train", "n_val", "n_test"):
            check_int(name, getattr(self, name), 1, 1_000_000)

    @property
    def source_max_len(self) -> int:
        return SCAN_MAX_SRC if self.name == "seq-scan" else self.max_len

    @classmethod
    def from_dict(cls, data: Any) -> "SeqTaskConfig":
        return config_from_dict(cls, data)


@dataclass(frozen=True)
class SeqRunConfig(RunConfigBase):
    kind: ClassVar[str] = SEQ_KIND
    model_type: ClassVar[type] = SeqModelConfig
    task_type: ClassVar[type] = SeqTaskConfig
    run_id: str
    model: SeqModelConfig = field(default_factory=SeqModelConfig)
    task: SeqTaskConfig = field(default_factory=SeqTaskConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def check_parts(self) -> None:
        if self.model.max_src_len < self.task.source_max_len:
            raise ConfigError("max_src_len must cover the task's longest source sequence")
        if self.train.input_penalty:
            raise ConfigError("input_penalty applies to classifiers only (the encoder-decoder loop does not use it)")

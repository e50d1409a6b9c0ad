"""The Train page's sequence-to-sequence runs (issue 18): the tasks and encoders it offers, and the run config a
validated form becomes. ``dashboard.train_form`` validates the fields and hands a sequence task over to
``seq_run_from_form``; the job then trains, analyzes and publishes it like a classifier run (``core.jobs``)."""
from __future__ import annotations

from core.config import CELL_TYPES, TrainConfig
from core.seq2seq.config import ENCODERS, SEQ_TASKS, SeqModelConfig, SeqRunConfig, SeqTaskConfig

__all__ = ["SEQ_TASKS", "ENCODERS", "SEQ_TASK_OPTIONS", "ENCODER_OPTIONS", "CELL_OPTIONS", "is_seq_task",
           "cell_field_for", "seq_run_from_form"]

SEQ_TASK_OPTIONS = [
    {"label": "Sequence to sequence: one-to-one translation (attention)", "value": "seq-translate"},
    {"label": "Sequence to sequence: reversal (attention)", "value": "seq-reverse"},
    {"label": "Sequence to sequence: sorting (attention)", "value": "seq-sort"},
    {"label": "Sequence to sequence: SCAN-like commands (attention)", "value": "seq-scan"},
]
ENCODER_OPTIONS = [
    {"label": "GRU encoder-decoder", "value": "gru"},
    {"label": "Feed-forward encoder (position embeddings), GRU decoder", "value": "ff"},
]
CELL_OPTIONS = [{"label": c.upper(), "value": c} for c in CELL_TYPES]
# the training data a browser-started run draws: smaller than the bundled presets', so jobs start fast
N_TRAIN, N_VAL, N_TEST = 8000, 300, 500


def is_seq_task(task) -> bool:
    return isinstance(task, str) and task in SEQ_TASKS


def cell_field_for(task, cell) -> tuple[list[dict], str, bool]:
    """What the form shows for a task: the Cell field's options and value (a sequence task picks an encoder,
    keeping a GRU picked), and whether the Classes field is shown (a sequence task has no classes)."""
    seq = is_seq_task(task)
    options, names = (ENCODER_OPTIONS, ENCODERS) if seq else (CELL_OPTIONS, CELL_TYPES)
    return options, cell if cell in names else "gru", not seq


def seq_run_from_form(run_id: str, task: str, encoder: str, units: int, embed: int, steps: int, lr: float,
                      seed: int) -> SeqRunConfig:
    """The run config of a validated form (vocabulary sizes are filled in when the task is built); raises
    ConfigError for a combination the fields alone do not rule out."""
    config = SeqRunConfig(run_id, SeqModelConfig(encoder, units, embed),
                          SeqTaskConfig(task, n_train=N_TRAIN, n_val=N_VAL, n_test=N_TEST, seed=seed),
                          TrainConfig(steps=steps, lr=lr, seed=seed, eval_every=max(10, steps // 10), patience=10_000))
    config.validate()
    return config

"""The bundled pretrained runs: the configs ``python -m core bundle-all`` trains into models_store/.

Any run (these included) is built by ``core.pipeline.train_run``.
"""
from __future__ import annotations

import dataclasses

from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig

__all__ = ["PRESETS", "BUNDLED_RUN_IDS", "TEXT_TASKS", "text_task", "pretrained_for"]

TEXT_TASKS = {"reviews": 2, "stars": 5, "imdb": 2}  # real-text tasks and their fixed class counts


def text_task(name: str, seed: int = 0) -> TaskConfig:
    """The task config of a real-text corpus for a new run (CLI and Train page): all its training data."""
    if name == "imdb":
        return TaskConfig(name, 2, max_len=800, vocab_cap=20_000, n_train=10**7, n_test=10**7, seed=seed)
    return TaskConfig(name, TEXT_TASKS[name], vocab_cap=10_000, n_train=10**7, seed=seed)


def pretrained_for(task: str, embed_dim: int) -> str:
    """IMDB runs with 50-d embeddings start from the shipped GloVe vectors; everything else from random."""
    return "glove50" if task == "imdb" and embed_dim == 50 else ""

_SYNTH_TRAIN = TrainConfig(steps=1200, batch_size=64, lr=2e-3, eval_every=100, patience=6)
_TEXT_TRAIN = TrainConfig(steps=2400, batch_size=64, lr=2e-3, eval_every=80, patience=8, weight_decay=0.0)

PRESETS: dict[str, RunConfig] = {
    "gru-cat3": RunConfig("gru-cat3", ModelConfig("gru", 128, 32), TaskConfig("categorical", 3), _SYNTH_TRAIN),
    "lstm-cat3": RunConfig("lstm-cat3", ModelConfig("lstm", 128, 32), TaskConfig("categorical", 3), _SYNTH_TRAIN),
    "relu-cat3": RunConfig("relu-cat3", ModelConfig("relu", 128, 32), TaskConfig("categorical", 3),
                           dataclasses.replace(_SYNTH_TRAIN, steps=2000, lr=1e-3)),
    "gru-ordered5": RunConfig("gru-ordered5", ModelConfig("gru", 128, 32, num_classes=5),
                              TaskConfig("ordered", 5), dataclasses.replace(_SYNTH_TRAIN, steps=2000)),
    # chosen by validation accuracy among the variants in the issue-3 note (64/128-d embeddings, 64/128 units,
    # with and without embedding dropout, lr 1e-3/2e-3)
    "gru-reviews": RunConfig("gru-reviews", ModelConfig("gru", 128, 128, num_classes=2, dropout=0.5, embed_dropout=0.5),
                             TaskConfig("reviews", 2, vocab_cap=10_000, n_train=10**7),
                             dataclasses.replace(_TEXT_TRAIN, steps=3000)),
    "gru-stars5": RunConfig("gru-stars5", ModelConfig("gru", 128, 64, num_classes=5, dropout=0.5, embed_dropout=0.5),
                            TaskConfig("stars", 5, vocab_cap=10_000, n_train=10**7), _TEXT_TRAIN),
}
# IMDB (issue 14): 50-d GloVe start beat a random 64-d embedding by 1.8 points of validation accuracy
# (91.3% vs 89.5%, GRU-128, same loop); training reviews keep their last 800 tokens (90% are shorter);
# length-bucketed batches; ~2 min per pass over the 22.5k training reviews on one thread.
_IMDB_TASK = TaskConfig("imdb", 2, max_len=800, vocab_cap=20_000, n_train=10**7, n_test=10**7)
_IMDB_TRAIN = TrainConfig(steps=1760, batch_size=64, lr=2e-3, eval_every=176, patience=4, bucketed=True)
# gru-imdb: an input-drive penalty (TrainConfig.input_penalty) keeps word kicks in the gates' linear range, so the
# paper's linearization holds (issue 15). Measured on validation texts, same loop and seed: lambda 0 / 0.3 / 1.0 gave
# D1 44% / 18% / 14%, D4 12.5% / 7.5% / 8.2%, at 92.08% / 92.12% / 92.08% validation accuracy; 1.0 was chosen.
# lstm-imdb stays at 0: lambda 0.3 / 1.0 cut validation D1 from 284% to 81% / 48% but cost 0.7 / 1.2 points of
# validation accuracy (90.92% -> 90.20% / 89.72%), and its slow points stay off the readout direction either way.
_IMDB_GENTLE = {"gru": 1.0, "lstm": 0.0}
PRESETS.update({
    run_id: RunConfig(run_id, ModelConfig(cell, 128, 50, num_classes=2, dropout=0.3, embed_dropout=0.3,
                                          pretrained="glove50"), _IMDB_TASK,
                      dataclasses.replace(_IMDB_TRAIN, input_penalty=_IMDB_GENTLE[cell]))
    for run_id, cell in (("gru-imdb", "gru"), ("lstm-imdb", "lstm"))
})
BUNDLED_RUN_IDS = tuple(PRESETS)

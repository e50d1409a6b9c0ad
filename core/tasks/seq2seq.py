"""Synthetic sequence-to-sequence tasks (issue 18), seeded, over small vocabularies.

- ``seq-translate``: one-to-one translation, each source word has its own target word, same position;
- ``seq-reverse``: the source letters in reverse order;
- ``seq-sort``: the source numbers in ascending order;
- ``seq-scan``: a small SCAN-like grammar ("jump left twice and walk" -> LTURN JUMP LTURN JUMP WALK),
  where output order depends on content and position together ("x after y" does y first).

Each rule is a pure function of the source tokens (``target_for``), tested on hand-written pairs.
Translation, reversal and sorting draw lengths uniformly from ``min_len`` to ``max_len``; the
SCAN-like task splits its distinct commands 80/10/10 into train / validation / test, so no test
command is ever trained on.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from core.seq2seq.config import SeqTaskConfig
from core.text import PAD, UNK, Vocab

__all__ = ["BOS", "EOS", "SeqSplit", "SeqTaskData", "target_for", "task_vocabs", "make_seq_task",
           "TRANSLATE", "LETTERS", "NUMBERS", "SCAN_PRIMS"]

BOS, EOS = "<bos>", "<eos>"
TRANSLATE = {"cat": "chat", "dog": "chien", "sun": "soleil", "moon": "lune", "tree": "arbre", "house": "maison",
             "water": "eau", "fire": "feu", "bread": "pain", "milk": "lait", "red": "rouge", "green": "vert",
             "big": "grand", "small": "petit", "book": "livre", "car": "voiture"}
LETTERS = tuple("abcdefghijklmnop")
NUMBERS = tuple(str(i) for i in range(20))
SCAN_PRIMS = {"jump": "JUMP", "walk": "WALK", "run": "RUN", "look": "LOOK"}
SCAN_TURNS = {"left": "LTURN", "right": "RTURN"}
SCAN_TIMES = {"twice": 2, "thrice": 3}
EXAMPLES = {
    "seq-translate": ("cat dog sun moon tree", "big red car small green house",
                      "water fire bread milk book cat dog sun"),
    "seq-reverse": ("a b c d e", "h e l l o p a n", "p o n m l k j i h g f e"),
    "seq-sort": ("3 1 2 5 4", "12 7 19 0 7 3", "15 2 9 11 4 18 6 1"),
    "seq-scan": ("jump twice", "walk left and run", "look right thrice after jump twice"),
}


@dataclass(frozen=True)
class SeqSplit:
    src: list[list[str]]
    tgt: list[list[str]]

    def __len__(self) -> int:
        return len(self.src)


@dataclass(frozen=True)
class SeqTaskData:
    config: SeqTaskConfig
    src_vocab: Vocab
    tgt_vocab: Vocab          # (<pad>, <unk>, <bos>, <eos>, words...)
    train: SeqSplit
    val: SeqSplit
    test: SeqSplit
    examples: tuple[str, ...]
    source: str = "synthetic"


def _scan_clause(words: list[str]) -> list[str]:
    if not words or words[0] not in SCAN_PRIMS:
        raise ValueError(f"a clause starts with one of {', '.join(SCAN_PRIMS)}")
    action, rest = [SCAN_PRIMS[words[0]]], words[1:]
    if rest and rest[0] in SCAN_TURNS:
        action, rest = [SCAN_TURNS[rest[0]], *action], rest[1:]
    times = 1
    if rest and rest[0] in SCAN_TIMES:
        times, rest = SCAN_TIMES[rest[0]], rest[1:]
    if rest:
        raise ValueError(f"unexpected {' '.join(rest)!r} in a clause")
    return action * times


def _scan(tokens: list[str]) -> list[str]:
    for joint in ("and", "after"):
        if joint in tokens:
            i = tokens.index(joint)
            first, second = _scan_clause(tokens[:i]), _scan_clause(tokens[i + 1:])
            return first + second if joint == "and" else second + first
    return _scan_clause(tokens)


def target_for(task: str, tokens: list[str]) -> list[str]:
    """The correct output of ``task`` for source ``tokens`` (no <eos>); ValueError for an invalid source."""
    if task == "seq-translate":
        return [TRANSLATE[w] for w in tokens]
    if task == "seq-reverse":
        return list(reversed(tokens))
    if task == "seq-sort":
        return sorted(tokens, key=int)
    if task == "seq-scan":
        return _scan(list(tokens))
    raise ValueError(f"unknown sequence task {task!r}")


def task_vocabs(task: str) -> tuple[Vocab, Vocab]:
    """Source and target vocabularies: every word the task can use, in a fixed order."""
    if task == "seq-translate":
        src, tgt = tuple(TRANSLATE), tuple(TRANSLATE.values())
    elif task == "seq-reverse":
        src = tgt = LETTERS
    elif task == "seq-sort":
        src = tgt = NUMBERS
    elif task == "seq-scan":
        src = (*SCAN_PRIMS, *SCAN_TURNS, *SCAN_TIMES, "and", "after")
        tgt = (*SCAN_PRIMS.values(), *SCAN_TURNS.values())
    else:
        raise ValueError(f"unknown sequence task {task!r}")
    return Vocab((PAD, UNK, *src)), Vocab((PAD, UNK, BOS, EOS, *tgt))


def _scan_commands() -> list[list[str]]:
    clauses = [[p, *t, *r] for p in SCAN_PRIMS for t in ([], *([d] for d in SCAN_TURNS))
               for r in ([], *([k] for k in SCAN_TIMES))]
    pairs = [[*a, joint, *b] for a, b in itertools.product(clauses, clauses) for joint in ("and", "after")]
    return clauses + pairs


def _random_split(task: str, words: tuple[str, ...], n: int, lo: int, hi: int, rng) -> SeqSplit:
    lengths = rng.integers(lo, hi + 1, n)
    src = [[words[i] for i in rng.integers(0, len(words), k)] for k in lengths]
    return SeqSplit(src, [target_for(task, s) for s in src])


def _scan_splits(config: SeqTaskConfig, rng) -> tuple[SeqSplit, SeqSplit, SeqSplit]:
    commands = _scan_commands()
    order = rng.permutation(len(commands))
    n_val = n_test = len(commands) // 10
    parts = (order[n_val + n_test:], order[:n_val], order[n_val:n_val + n_test])
    sizes = (config.n_train, config.n_val, config.n_test)
    splits = []
    for part, size in zip(parts, sizes):
        # train draws with replacement from its commands; validation and test use each command once
        chosen = rng.choice(part, size) if part is parts[0] else part[:size]
        src = [commands[i] for i in chosen]
        splits.append(SeqSplit(src, [target_for("seq-scan", s) for s in src]))
    return tuple(splits)


def make_seq_task(config: SeqTaskConfig) -> SeqTaskData:
    config.validate()
    rng = np.random.default_rng(config.seed)
    src_vocab, tgt_vocab = task_vocabs(config.name)
    if config.name == "seq-scan":
        train, val, test = _scan_splits(config, rng)
    else:
        words = src_vocab.itos[2:]
        train, val, test = (_random_split(config.name, words, n, config.min_len, config.max_len, rng)
                            for n in (config.n_train, config.n_val, config.n_test))
    return SeqTaskData(config, src_vocab, tgt_vocab, train, val, test, EXAMPLES[config.name])

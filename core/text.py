"""Deterministic tokenizer and vocabulary with <pad> and <unk>."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Sequence

__all__ = ["PAD", "UNK", "PAD_ID", "UNK_ID", "tokenize", "Vocab", "VocabError"]

PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1

# Words keep inner apostrophes (don't, it's); every other non-space symbol is its own token.
_TOKEN_RE = re.compile(r"\w+(?:'\w+)*|[^\w\s]")


class VocabError(ValueError):
    """A vocabulary file is malformed."""


def _visible(ch: str) -> bool:
    # Control, format and unassigned code points carry no meaning for the model and
    # would render as invisible junk in the token strip.
    return unicodedata.category(ch) not in ("Cc", "Cf", "Cn", "Cs", "Co") or ch in "\t\n\r"


def tokenize(text: str, max_tokens: int | None = None) -> list[str]:
    """Lowercase, drop control characters, split words from punctuation."""
    if not isinstance(text, str):
        raise TypeError("text must be a string")
    clean = "".join(ch if _visible(ch) else " " for ch in text.lower())
    if max_tokens is None:
        return _TOKEN_RE.findall(clean)
    tokens = []
    for match in _TOKEN_RE.finditer(clean):
        if len(tokens) >= max_tokens:
            break
        tokens.append(match.group())
    return tokens


@dataclass(frozen=True)
class Vocab:
    itos: tuple[str, ...]

    def __post_init__(self):
        if len(self.itos) < 2 or self.itos[PAD_ID] != PAD or self.itos[UNK_ID] != UNK:
            raise VocabError("vocabulary must start with <pad> and <unk>")
        if len(set(self.itos)) != len(self.itos):
            raise VocabError("vocabulary has duplicate words")
        object.__setattr__(self, "_stoi", {w: i for i, w in enumerate(self.itos)})

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]], max_size: int, min_count: int = 1) -> "Vocab":
        """Most frequent words first; ties broken alphabetically so the result is deterministic."""
        counts = Counter(tok for toks in token_lists for tok in toks)
        ranked = sorted((w for w, c in counts.items() if c >= min_count and w not in (PAD, UNK)),
                        key=lambda w: (-counts[w], w))
        return cls((PAD, UNK, *ranked[: max(0, max_size - 2)]))

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, word: str) -> bool:
        return word in self._stoi

    def index(self, word: str) -> int:
        return self._stoi.get(word, UNK_ID)

    def encode(self, tokens: Sequence[str]) -> list[int]:
        return [self._stoi.get(tok, UNK_ID) for tok in tokens]

    def decode(self, ids: Sequence[int]) -> list[str]:
        return [self.itos[i] for i in ids]

    def to_json(self) -> dict:
        return {"itos": list(self.itos)}

    @classmethod
    def from_json(cls, data) -> "Vocab":
        if not isinstance(data, dict) or not isinstance(data.get("itos"), list):
            raise VocabError("vocab.json must hold an object with an 'itos' list")
        if not all(isinstance(w, str) for w in data["itos"]):
            raise VocabError("vocab.json words must be strings")
        return cls(tuple(data["itos"]))

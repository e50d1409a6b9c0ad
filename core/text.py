"""Deterministic tokenizer and vocabulary with <pad> and <unk>."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

__all__ = ["PAD", "UNK", "PAD_ID", "UNK_ID", "tokenize", "Vocab", "VocabError"]

PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1

APOSTROPHES = "'\u2019\u02bc"  # typed, typographic and modifier-letter apostrophes all mean "'"
WORD, SPACE, SYMBOL = 0, 1, 2
_ASCII_TOKEN_RE = re.compile(r"[A-Za-z0-9_]+(?:'[A-Za-z0-9_]+)*|[^A-Za-z0-9_\s]")  # same rules, fast path


class VocabError(ValueError):
    """A vocabulary file is malformed."""


@lru_cache(maxsize=65_536)
def _kind(ch: str) -> int:
    if ch.isspace():
        return SPACE
    # combining marks (accents, Indic vowel signs) belong to the word they modify
    if ch.isalnum() or ch == "_" or unicodedata.category(ch)[0] == "M":
        return WORD
    return SYMBOL


_SPACES = re.compile(r"\s+")  # str.isspace() characters, as _kind's SPACE
_ASCII_CONTROLS = {i: " " for i in (*range(32), 127) if chr(i) not in "\t\n\r"}


def _clean(text: str) -> str:
    text = text.lower()
    if text.isascii():
        return text.translate(_ASCII_CONTROLS)
    text = unicodedata.normalize("NFC", text)
    # control characters separate words; invisible format characters (soft hyphen, zero-width joiner) vanish.
    # Each distinct character is looked up once: a 100k-character paste of one character costs one lookup.
    return text.translate({ord(ch): _replacement(ch) for ch in set(text)})


def _replacement(ch: str) -> str:
    category = unicodedata.category(ch)
    if category in ("Cc", "Cs", "Co", "Cn") and ch not in "\t\n\r":
        return " "
    return "" if category == "Cf" else ch


def _scan(text: str):
    """Yield words (keeping inner apostrophes: don't, it's) and single symbols."""
    i, n = 0, len(text)
    while i < n:
        kind = _kind(text[i])
        if kind == SPACE:
            i = _SPACES.match(text, i).end()  # a run of spaces at C speed (a paste may be 100k of them)
        elif kind == SYMBOL:
            yield text[i]
            i += 1
        else:
            start = i
            while i < n and (_kind(text[i]) == WORD or (text[i] in APOSTROPHES and i + 1 < n
                                                        and _kind(text[i + 1]) == WORD and i > start)):
                i += 1
            yield "".join("'" if ch in APOSTROPHES else ch for ch in text[start:i])


PROBE_CHARS_PER_TOKEN = 8


def tokenize(text: str, max_tokens: int | None = None) -> list[str]:
    """Lowercase, NFC-normalize, drop control characters, split words from punctuation."""
    if not isinstance(text, str):
        raise TypeError("text must be a string")
    if max_tokens is not None and len(text) > PROBE_CHARS_PER_TOKEN * (max_tokens + 1):
        # A capped paste: tokenize a head first. Its tokens equal the full text's except perhaps the
        # last (cut at the boundary), so when it holds more than max_tokens the first max_tokens are exact.
        head = tokenize(text[: PROBE_CHARS_PER_TOKEN * (max_tokens + 1)])
        if len(head) > max_tokens:
            return head[:max_tokens]
    clean = _clean(text)
    tokens = []
    for token in (m.group() for m in _ASCII_TOKEN_RE.finditer(clean)) if clean.isascii() else _scan(clean):
        if max_tokens is not None and len(tokens) >= max_tokens:
            break
        tokens.append(token)
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
        return [self.itos[i] if 0 <= i < len(self.itos) else UNK for i in ids]

    def to_json(self) -> dict:
        return {"itos": list(self.itos)}

    @classmethod
    def from_json(cls, data) -> "Vocab":
        if not isinstance(data, dict) or not isinstance(data.get("itos"), list):
            raise VocabError("vocab.json must hold an object with an 'itos' list")
        if not all(isinstance(w, str) for w in data["itos"]):
            raise VocabError("vocab.json words must be strings")
        return cls(tuple(data["itos"]))

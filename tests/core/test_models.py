"""One suite, every cell type in the registry (the conftest `cell` fixture): shapes, fused == step loop,
padding, gradients, save/load, readout."""
from __future__ import annotations

import pytest
import torch

from core import store
from core.cells import CELLS
from core.config import ModelConfig, RunConfig, TaskConfig
from core.models import build_model
from core.text import Vocab

B, T, E, U, V, K = 4, 7, 6, 8, 12, 3
LENGTHS = torch.tensor([7, 3, 1, 5])  # ragged, includes the full width and a single token


@pytest.fixture
def model(tiny_model, cell):
    return tiny_model(cell, units=U, embed_dim=E, vocab_size=V, num_classes=K)


def ragged_ids(lengths=LENGTHS, width=T, seed=0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(2, V, (len(lengths), width), generator=gen)
    mask = torch.arange(width)[None, :] < lengths[:, None]
    return torch.where(mask, ids, torch.zeros_like(ids))


def test_shapes(model, cell):
    n = CELLS[cell].state_size(U)
    assert n == (2 * U if cell == "lstm" else U)
    assert model.state_size == n
    ids = ragged_ids()
    x = model.embed(ids)
    assert x.shape == (B, T, E)
    h0 = model.initial_state(B)
    assert h0.shape == (B, n) and h0.dtype == torch.float32 and not h0.any()
    assert model.step(h0, x[:, 0]).shape == (B, n)
    states = model.run(ids, LENGTHS)
    assert states.shape == (B, T, n)
    assert model.hidden(states[:, -1]).shape == (B, U)
    assert model.readout(states[:, -1]).shape == (B, K)
    assert model.readout(states).shape == (B, T, K)
    assert model(ids, LENGTHS).shape == (B, K)
    assert model.run(ids[:, :0], torch.zeros(B, dtype=torch.long)).shape == (B, 0, n)


def test_fused_run_equals_step_loop(model):
    ids = ragged_ids()
    fused = model.run(ids, LENGTHS, use_fused=True)
    looped = model.run(ids, LENGTHS, use_fused=False)
    torch.testing.assert_close(fused, looped, atol=1e-5, rtol=0)


@torch.no_grad()
def test_final_hidden_equals_last_run_state(model):
    ids = ragged_ids()
    for use_fused in (True, False):
        expected = model.hidden(model.run(ids, LENGTHS, use_fused=use_fused)[:, -1])
        torch.testing.assert_close(model.final_hidden(ids, LENGTHS), expected, atol=1e-5, rtol=0)
    # and the training forward is the readout of that same state
    torch.testing.assert_close(model(ids, LENGTHS), model.readout(model.run(ids, LENGTHS)[:, -1]),
                               atol=1e-5, rtol=0)


@torch.no_grad()
def test_final_hidden_of_empty_sequence_is_initial_state(model, cell, request):
    ids = ragged_ids(torch.tensor([3, 0]), width=4)
    lengths = torch.tensor([3, 0])
    assert torch.equal(model.run(ids, lengths)[1], torch.zeros(4, model.state_size))
    torch.testing.assert_close(model.final_hidden(ids, lengths)[1], torch.zeros(U), atol=1e-6, rtol=0)


@torch.no_grad()
def test_padding_is_masked(model):
    ids = ragged_ids()
    states = model.run(ids, LENGTHS)
    for row, length in enumerate(LENGTHS.tolist()):
        held = states[row, length - 1]
        for t in range(length, T):
            assert torch.equal(states[row, t], held), f"state moved after length at row {row}, t {t}"
    # whatever sits in the padding cannot change valid states or the final one
    junk = ragged_ids(seed=1)
    mask = torch.arange(T)[None, :] < LENGTHS[:, None]
    noisy = torch.where(mask, ids, junk)
    torch.testing.assert_close(model.run(noisy, LENGTHS), states, atol=1e-6, rtol=0)
    torch.testing.assert_close(model.run(noisy, LENGTHS, use_fused=False), states, atol=1e-5, rtol=0)
    torch.testing.assert_close(model(noisy, LENGTHS), model(ids, LENGTHS), atol=1e-6, rtol=0)


@torch.no_grad()
def test_zero_length_rows_are_zero_state(model):
    ids = ragged_ids(torch.tensor([2, 0]), width=3)
    states = model.run(ids, torch.tensor([2, 0]))
    assert torch.equal(states[1], torch.zeros_like(states[1]))
    assert states[0].abs().sum() > 0


@torch.no_grad()
def test_known_answer_with_zero_weights(model, cell):
    """All weights zero: every gate is 1/2 and every candidate 0, so the update is known exactly."""
    weights = {k: torch.zeros_like(v) for k, v in model.weights().items()}
    n = model.state_size
    state = torch.linspace(-1, 1, 2 * n).reshape(2, n)
    x = torch.randn(2, E)
    out = model.step(state, x, weights)
    if cell in ("gru", "ugrnn"):
        expected = 0.5 * state
    elif cell == "lstm":
        c_new = 0.5 * state[:, U:]
        expected = torch.cat([0.5 * torch.tanh(c_new), c_new], dim=-1)
    else:
        expected = torch.zeros_like(state)
    torch.testing.assert_close(out, expected, atol=1e-7, rtol=0)


@torch.no_grad()
def test_float64_weights_give_float64_step(model):
    state = torch.randn(3, model.state_size)
    x = torch.randn(3, E)
    out64 = model.step(state.double(), x.double(), model.weights(torch.float64))
    assert out64.dtype == torch.float64
    torch.testing.assert_close(out64.float(), model.step(state, x), atol=1e-6, rtol=0)


def test_gradients_reach_every_parameter(tiny_model, cell):
    model = tiny_model(cell, units=U, embed_dim=E, vocab_size=V, num_classes=K, dropout=0.1).train()
    ids = ragged_ids()
    labels = torch.tensor([0, 1, 2, 1])
    # training path (fused kernels) and analysis path (explicit step) both backpropagate
    losses = {
        "forward": torch.nn.functional.cross_entropy(model(ids, LENGTHS), labels),
        "step": torch.nn.functional.cross_entropy(
            model.readout(model.run(ids, LENGTHS, use_fused=False)[:, -1]), labels),
    }
    for path, loss in losses.items():
        model.zero_grad(set_to_none=True)
        loss.backward()
        for name, param in model.named_parameters():
            assert param.grad is not None, f"{path}: no gradient for {name}"
            assert torch.isfinite(param.grad).all(), f"{path}: non-finite gradient for {name}"
            assert param.grad.abs().sum() > 0, f"{path}: zero gradient for {name}"
        assert not model.embedding.weight.grad[0].any(), "the <pad> embedding must not learn"


def test_save_load_round_trip_is_bit_exact(model, cell, tmp_path):
    config = RunConfig(run_id=f"rt-{cell}", model=model.config,
                       task=TaskConfig(name="categorical", num_classes=K))
    vocab = Vocab(("<pad>", "<unk>", *[f"w{i}" for i in range(V - 2)]))
    path = store.save_bundle(config, model, vocab, {"class_names": ["a", "b", "c"]}, {}, {},
                             store=tmp_path)
    bundle = store.load_path(path)
    assert bundle.config == config and bundle.vocab == vocab
    saved, loaded = model.state_dict(), bundle.model.state_dict()
    assert saved.keys() == loaded.keys()
    for name in saved:
        assert torch.equal(saved[name], loaded[name]), name
    ids = ragged_ids()
    with torch.no_grad():
        assert torch.equal(bundle.model.run(ids, LENGTHS), model.run(ids, LENGTHS))
        assert torch.equal(bundle.model(ids, LENGTHS), model(ids, LENGTHS))


@torch.no_grad()
def test_readout_probabilities(tiny_model, cell):
    ids = ragged_ids()
    multi = tiny_model(cell, units=U, embed_dim=E, vocab_size=V, num_classes=K, multilabel=True)
    logits = multi.readout(multi.run(ids, LENGTHS)[:, -1])
    probs = multi.probabilities(logits)
    torch.testing.assert_close(probs, torch.sigmoid(logits))
    assert not torch.allclose(probs.sum(-1), torch.ones(B)), "multi-label outputs must not be a softmax"
    single = tiny_model(cell, units=U, embed_dim=E, vocab_size=V, num_classes=K)
    logits = single.readout(single.run(ids, LENGTHS)[:, -1])
    torch.testing.assert_close(single.probabilities(logits), torch.softmax(logits, -1))
    torch.testing.assert_close(single.probabilities(logits).sum(-1), torch.ones(B))


def test_readout_sees_h_only(model, cell):
    state = torch.randn(2, model.state_size)
    if cell == "lstm":
        other = state.clone()
        other[:, U:] += 10.0  # change the cell state c only
        torch.testing.assert_close(model.readout(other), model.readout(state))
    torch.testing.assert_close(model.readout(state), model.readout_layer(state[:, :U]))


def test_build_model_is_seeded(cell):
    config = ModelConfig(cell=cell, units=U, embed_dim=E, vocab_size=V, num_classes=K)
    a, b, c = build_model(config, seed=3), build_model(config, seed=3), build_model(config, seed=4)
    for name, tensor in a.state_dict().items():
        assert torch.equal(tensor, b.state_dict()[name]), name
    assert any(not torch.equal(t, c.state_dict()[k]) for k, t in a.state_dict().items())


# the names bundles store their weights under (models_store/*/model.safetensors): a cell class must keep them
KERNEL_NAMES = ("rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0")
STORED_NAMES = {"gru": KERNEL_NAMES, "lstm": KERNEL_NAMES, "tanh": KERNEL_NAMES, "relu": KERNEL_NAMES,
                "ugrnn": ("ugrnn_x.weight", "ugrnn_x.bias", "ugrnn_h.weight"),
                "mrnn": ("mrnn_x.weight", "mrnn_x.bias", "mrnn_fh.weight", "mrnn_hf.weight")}


@pytest.mark.parametrize("cell_type, names", list(STORED_NAMES.items()))
def test_parameter_names_are_the_stored_ones(cell_type, names):
    model = build_model(ModelConfig(cell=cell_type, units=U, embed_dim=E, vocab_size=V, num_classes=K))
    assert list(model.state_dict()) == ["embedding.weight", *names, "readout_layer.weight", "readout_layer.bias"]

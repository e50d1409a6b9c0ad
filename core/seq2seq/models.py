"""Encoder-decoder with dot-product attention (Luong et al. 2015, as in Aitken et al. 2021).

Encoder: a GRU over the source embeddings, or (``encoder="ff"``) a feed-forward map of each source
embedding plus a learned position embedding, with no recurrence. Decoder: a GRU cell whose input is
the previous target token's embedding and the previous attention output (input feeding). At decoder
step u the score with source position s is the plain dot product ``d_u . e_s`` (no projection), so
scores split exactly into the four temporal / input-driven terms (``core.seq2seq.decompose``).

Shapes: ``b`` batch, ``s`` source positions, ``u`` target positions, ``n`` units, ``e`` embedding.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from core.seq2seq.config import SeqModelConfig

__all__ = ["BOS_ID", "EOS_ID", "Seq2Seq", "Seq2SeqRun", "build_seq_model", "source_mask"]

BOS_ID, EOS_ID = 2, 3  # target vocabularies are (<pad>, <unk>, <bos>, <eos>, words...)


@dataclass
class Seq2SeqRun:
    enc_bxsxn: torch.Tensor
    dec_bxuxn: torch.Tensor      # decoder state at each target step (after reading the previous token)
    scores_bxuxs: torch.Tensor   # d_u . e_s, -inf past each source length
    attn_bxuxs: torch.Tensor
    logits_bxuxv: torch.Tensor


def source_mask(lengths_b: torch.Tensor, steps: int) -> torch.Tensor:
    return torch.arange(steps)[None, :] < torch.as_tensor(lengths_b)[:, None]


class Seq2Seq(nn.Module):
    def __init__(self, config: SeqModelConfig):
        super().__init__()
        config.validate()
        self.config = config
        n, e = config.units, config.embed_dim
        self.src_embedding = nn.Embedding(config.src_vocab_size, e, padding_idx=0)
        self.tgt_embedding = nn.Embedding(config.tgt_vocab_size, e, padding_idx=0)
        if config.encoder == "gru":
            self.encoder_rnn = nn.GRU(e, n, batch_first=True)
        else:
            self.position_embedding = nn.Embedding(config.max_src_len, e)
            self.encoder_hidden = nn.Linear(e, n)
            self.encoder_out = nn.Linear(n, n)
        self.decoder_cell = nn.GRUCell(e + n, n)
        self.combine = nn.Linear(2 * n, n)
        self.readout_layer = nn.Linear(n, config.tgt_vocab_size)

    def encode(self, src_bxs: torch.Tensor, lengths_b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Encoder states e_bxsxn (zero past each length) and the decoder's initial state h0_bxn."""
        lengths_b = torch.as_tensor(lengths_b, dtype=torch.long)
        x = self.src_embedding(src_bxs)
        mask = source_mask(lengths_b, src_bxs.shape[1])[..., None].to(x.dtype)
        if self.config.encoder == "gru":
            enc, _ = self.encoder_rnn(x)  # causal: padding after a sequence cannot reach its valid steps
            enc = enc * mask
            last = (lengths_b.clamp(min=1) - 1)
            h0 = enc[torch.arange(enc.shape[0]), last]
        else:
            positions = torch.arange(src_bxs.shape[1]).clamp(max=self.config.max_src_len - 1)
            x = x + self.position_embedding(positions)[None]
            enc = torch.tanh(self.encoder_out(torch.relu(self.encoder_hidden(x)))) * mask
            h0 = enc.sum(1) / lengths_b.clamp(min=1)[:, None].to(x.dtype)
        return enc, h0

    def attend(self, d_bxn: torch.Tensor, enc_bxsxn: torch.Tensor, mask_bxs: torch.Tensor):
        scores = torch.einsum("bn,bsn->bs", d_bxn, enc_bxsxn).masked_fill(~mask_bxs, float("-inf"))
        attn = torch.softmax(scores, dim=-1)
        context = torch.einsum("bs,bsn->bn", attn, enc_bxsxn)
        out = torch.tanh(self.combine(torch.cat([d_bxn, context], -1)))
        return scores, attn, out

    def forward(self, src_bxs: torch.Tensor, src_lengths_b: torch.Tensor, dec_in_bxu: torch.Tensor) -> Seq2SeqRun:
        """Teacher-forced run: ``dec_in_bxu`` is <bos> followed by the target tokens but the last."""
        enc, state = self.encode(src_bxs, src_lengths_b)
        mask = source_mask(src_lengths_b, src_bxs.shape[1])
        emb = self.tgt_embedding(dec_in_bxu)
        feed = enc.new_zeros(enc.shape[0], self.config.units)
        decs, scores, attns, outs = [], [], [], []
        for u in range(dec_in_bxu.shape[1]):
            state = self.decoder_cell(torch.cat([emb[:, u], feed], -1), state)
            score, attn, feed = self.attend(state, enc, mask)
            decs.append(state), scores.append(score), attns.append(attn), outs.append(feed)
        stack = lambda xs, n: torch.stack(xs, 1) if xs else enc.new_zeros(enc.shape[0], 0, n)  # noqa: E731
        return Seq2SeqRun(enc, stack(decs, self.config.units), stack(scores, enc.shape[1]),
                          stack(attns, enc.shape[1]), self.readout_layer(stack(outs, self.config.units)))

    @torch.no_grad()
    def greedy(self, src_bxs: torch.Tensor, src_lengths_b: torch.Tensor, max_steps: int,
               attention_override=None) -> tuple[torch.Tensor, Seq2SeqRun]:
        """Greedy decoding up to ``max_steps`` tokens: out_bxu (ids, <eos> included, <pad> after it) and the run.

        ``attention_override(u, attn_bxs) -> attn_bxs`` replaces the attention weights (tests of known answers).
        """
        enc, state = self.encode(src_bxs, src_lengths_b)
        mask = source_mask(src_lengths_b, src_bxs.shape[1])
        batch = src_bxs.shape[0]
        token = torch.full((batch,), BOS_ID, dtype=torch.long)
        feed = enc.new_zeros(batch, self.config.units)
        done = torch.zeros(batch, dtype=torch.bool)
        outs, decs, scores, attns, logits = [], [], [], [], []
        for u in range(max_steps):
            state = self.decoder_cell(torch.cat([self.tgt_embedding(token), feed], -1), state)
            score, attn, feed = self.attend(state, enc, mask)
            if attention_override is not None:
                attn = attention_override(u, attn)
                context = torch.einsum("bs,bsn->bn", attn, enc)
                feed = torch.tanh(self.combine(torch.cat([state, context], -1)))
            logit = self.readout_layer(feed)
            token = torch.where(done, torch.zeros_like(token), logit.argmax(-1))
            outs.append(token), decs.append(state), scores.append(score), attns.append(attn), logits.append(logit)
            done = done | (token == EOS_ID)
            if bool(done.all()):
                break
        run = Seq2SeqRun(enc, torch.stack(decs, 1), torch.stack(scores, 1), torch.stack(attns, 1),
                         torch.stack(logits, 1))
        return torch.stack(outs, 1), run


def build_seq_model(config: SeqModelConfig, seed: int = 0) -> Seq2Seq:
    torch.manual_seed(seed)
    return Seq2Seq(config)

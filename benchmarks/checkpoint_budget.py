"""What training-time checkpoints cost a bundle, and what the compact embedding costs in fidelity.

    python benchmarks/checkpoint_budget.py gru-cat3 gru-imdb

For each bundle: its files' sizes (with checkpoints.safetensors if it keeps them). For a bundle
without checkpoints, a projection from the one checkpoint that can be rebuilt without retraining,
the step-0 weights (the preset's seeded initialisation, plus the shipped GloVe rows for a
pretrained embedding): the bytes one stored checkpoint takes (``core.checkpoints.pack_checkpoints``),
the bundle's size with 7 stored checkpoints plus the final one (read from the model), and the share
of the first 500 validation texts on which the compressed step-0 checkpoint predicts what the exact
one does. Step 0 is the worst case for the embedding: it lies farthest from the final embedding.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import store  # noqa: E402
from core.checkpoints import FILE_NAME, N_CHECKPOINTS, Checkpoints, load_checkpoints, save_checkpoints  # noqa: E402
from core.embeddings import pretrained_embedding  # noqa: E402
from core.models import build_model  # noqa: E402
from core.tasks import encode_split, load_task  # noqa: E402

N_TEXTS = 500


def _step0(bundle) -> dict:
    cfg = bundle.config
    model = build_model(cfg.model, seed=cfg.train.seed)
    if cfg.model.pretrained:
        emb_vxe, _ = pretrained_embedding(cfg.model.pretrained, bundle.vocab, seed=cfg.train.seed)
        with torch.no_grad():
            model.embedding.weight.copy_(torch.from_numpy(emb_vxe))
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def report(run_id: str) -> None:
    bundle = store.load(run_id)
    sizes = {p.name: p.stat().st_size for p in sorted(bundle.path.iterdir()) if p.is_file()}
    print(f"{run_id}: " + ", ".join(f"{name} {size / 1e6:.2f} MB" for name, size in sizes.items())
          + f"; total {sum(sizes.values()) / 1e6:.2f} MB")
    if bundle.has_checkpoints:
        ck = bundle.checkpoints
        agree = "exact" if ck.agreement_k is None else f"agreement {ck.agreement_k.round(3).tolist()}"
        print(f"  {len(ck)} checkpoints at steps {ck.steps_k.tolist()}; {agree}")
        return
    data = load_task(bundle.config.task)
    val = encode_split(data.val, bundle.vocab)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        path = save_checkpoints(Path(tmp) / FILE_NAME, [(0, 0.0, _step0(bundle)), (1, 0.0, bundle.model.state_dict())],
                                bundle.model, val.ids_bxt[:N_TEXTS], val.lengths_b[:N_TEXTS])
        ck: Checkpoints = load_checkpoints(path, bundle.model)
        per = path.stat().st_size
        rest = sum(size for name, size in sizes.items() if name != FILE_NAME)
        print(f"  one stored checkpoint: {per / 1e6:.2f} MB ({'compressed' if ck.compressed else 'exact'}); "
              f"projected bundle with {N_CHECKPOINTS} checkpoints: {(rest + (N_CHECKPOINTS - 1) * per) / 1e6:.2f} MB "
              "(before the analysis grows by the checkpoints' arrays)")
        if ck.agreement_k is not None:
            print(f"  step-0 checkpoint, compressed vs exact: same prediction on {ck.agreement_k[0]:.1%} of "
                  f"{min(N_TEXTS, len(val.lengths_b))} validation texts ({time.perf_counter() - start:.0f} s)")
            with torch.no_grad():  # is agreement trivial? (an untrained model may predict one class for all)
                ids, lengths = torch.from_numpy(val.ids_bxt[:N_TEXTS]), torch.from_numpy(val.lengths_b[:N_TEXTS])
                exact = ck.final.__class__(bundle.config.model)
                exact.load_state_dict(_step0(bundle))
                p_exact = torch.softmax(exact.eval()(ids, lengths), -1)
                p_packed = torch.softmax(ck.model(0)(ids, lengths), -1)
            shares = torch.bincount(p_exact.argmax(-1), minlength=p_exact.shape[1]).double() / len(p_exact)
            print(f"  exact step-0 predicts class shares {shares.numpy().round(3).tolist()}; mean |Δp| "
                  f"{(p_exact - p_packed).abs().max(-1).values.mean():.4f}, max {(p_exact - p_packed).abs().max():.4f}")


if __name__ == "__main__":
    torch.set_num_threads(1)
    for name in sys.argv[1:] or ["gru-cat3", "gru-imdb"]:
        report(name)

"""How well the linear prediction of a counterfactual edit (core.counterfactual) matches the real change:
random single-word swaps in test reviews of the main review model.

    python benchmarks/counterfactual_report.py                 # gru-imdb, 200 swaps, seed 0
    python benchmarks/counterfactual_report.py --run lstm-imdb --n 50 --seed 1
    python benchmarks/counterfactual_report.py --op insert      # "not" before a random word (or --op drop)

Each swap: a random test text (the task loader's test split), a random position in it and a random
replacement among the words of the bundle's Words analysis (its most frequent words). Printed: the
median relative error of the predicted log-odds change over the tokens from the edit on, the same
for the final token only, the median relative error of the final state difference, and the
fraction of swaps whose predicted final change has the right sign. Nothing is hard-coded.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import store  # noqa: E402
from core.counterfactual import NEGATION, edit_text  # noqa: E402
from core.tasks import load_task  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", default="gru-imdb")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--op", choices=("swap", "drop", "insert"), default="swap")
    args = parser.parse_args()
    torch.set_num_threads(1)
    bundle = store.load(args.run)
    data = load_task(bundle.config.task)
    texts = [toks for toks in data.test.tokens if toks]
    words = bundle.vocab.decode(bundle.analysis.words.ids_w.tolist())
    rng = np.random.default_rng(args.seed)
    rel, rel_final, rel_state, sign_ok, lengths = [], [], [], [], []
    start = time.perf_counter()
    while len(rel) < args.n:
        tokens = texts[int(rng.integers(len(texts)))]
        j = int(rng.integers(len(tokens)))
        word = words[int(rng.integers(len(words)))] if args.op == "swap" else NEGATION
        if args.op == "swap" and word == tokens[j]:
            continue
        cf = edit_text(bundle, tokens, args.op, j, word)
        if not np.isfinite(cf.rel_error) or cf.final_real == 0:
            continue  # the swap changed nothing (e.g. both words read as <unk>)
        rel.append(cf.rel_error)
        rel_final.append(abs(cf.final_linear - cf.final_real) / abs(cf.final_real))
        rel_state.append(cf.state_rel_error)
        sign_ok.append(np.sign(cf.final_linear) == np.sign(cf.final_real))
        lengths.append(len(tokens) - j)
    elapsed = time.perf_counter() - start
    what = {"swap": "single-word swaps", "drop": "dropped words", "insert": f"“{NEGATION}” inserted"}[args.op]
    print(f"{args.run}: {len(rel)} random {what} in test texts (seed {args.seed}; "
          f"median {np.median(lengths):.0f} tokens from the edit to the end), {elapsed:.1f} s")
    print(f"  median relative error of the linear prediction, log-odds change over the tokens from the edit on: "
          f"{np.median(rel):.1%} (quartiles {np.percentile(rel, 25):.1%} / {np.percentile(rel, 75):.1%})")
    print(f"  median relative error at the final token: {np.median(rel_final):.1%}; "
          f"of the final state difference: {np.median(rel_state):.1%}")
    print(f"  predicted sign of the final change right: {np.mean(sign_ok):.1%}")


if __name__ == "__main__":
    main()

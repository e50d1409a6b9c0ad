"""`python -m core train|analyze|list|eval|bundle-all` with progress bars and one-line errors."""
from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys

import torch
from tqdm import tqdm

from core import store
from core.analysis import analyze_bundle
from core.config import (CELL_TYPES, TASK_NAMES, USER_DATA_TASKS, ConfigError, ModelConfig, RunConfig, TaskConfig, TrainConfig,
                         store_dir, user_store_dir)
from core.import_files import ImportRefused
from core.importer import export_folder, import_folder
from core.user_data import UserDataError
from core.jobs import JobRegistry, drain, run_job
from core.pipeline import train_run
from core.presets import PRESETS, TEXT_TASKS, pretrained_for, text_task
from core.seq2seq.cli import analyze_seq_command, is_seq_request, train_seq_command
from core.seq2seq.pipeline import SEQ_PRESETS
from core.studies import STUDIES, StudyError, run_study
from core.study_report import answer, format_table

__all__ = ["main"]



class CliError(Exception):
    """A user mistake: printed as one line, exit code 2."""


def _progress_bar(total: int, desc: str):
    bar = tqdm(total=total, desc=desc, unit="step", dynamic_ncols=True)

    def on_progress(event: dict) -> None:
        bar.total = event.get("total", bar.total)
        bar.n = event.get("step", bar.n)
        extra = {k: f"{event[k]:.3f}" for k in ("val_accuracy", "train_loss") if k in event}
        if "stage" in event:
            extra["stage"] = event["stage"]
        bar.set_postfix(extra, refresh=False)
        bar.refresh()

    return bar, on_progress


def _run_config(args) -> RunConfig:
    if args.preset:
        if args.preset not in PRESETS:
            raise CliError(f"unknown preset {args.preset!r}; choose one of {', '.join([*PRESETS, *SEQ_PRESETS])}")
        config = PRESETS[args.preset]
        penalty = getattr(args, "input_penalty", 0.0)
        train = dataclasses.replace(config.train, input_penalty=penalty) if penalty else config.train
        config = dataclasses.replace(config, run_id=args.run_id or config.run_id, train=train)
        config.validate()
        return config
    if args.task in USER_DATA_TASKS:
        raise CliError("train on your own CSV/TSV on the Train page; import a model with `python -m core import PATH`")
    if args.task not in TASK_NAMES:
        raise CliError(f"unknown task {args.task!r}; choose one of {', '.join(TASK_NAMES)}")
    if args.cell not in CELL_TYPES:
        raise CliError(f"unknown cell {args.cell!r}; choose one of {', '.join(CELL_TYPES)}")
    if not args.run_id:
        raise CliError("give the new run a name with --run-id (letters a-z, digits, '-' and '_')")
    classes = TEXT_TASKS.get(args.task, args.classes)
    config = RunConfig(
        run_id=args.run_id,
        model=ModelConfig(args.cell, args.units, args.embed, num_classes=classes, dropout=args.dropout,
                          multilabel=args.task == "multilabel", pretrained=pretrained_for(args.task, args.embed)),
        task=text_task(args.task, args.seed) if args.task in TEXT_TASKS else TaskConfig(args.task, classes, seed=args.seed),
        train=TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                          bucketed=args.task == "imdb", input_penalty=args.input_penalty),
    )
    config.validate()
    return config


def cmd_train(args) -> int:
    # one thread: reproducible for a seed, and on a shared 2-core machine two threads ran 10-30x slower
    torch.set_num_threads(1)
    if is_seq_request(args):
        return train_seq_command(args, _progress_bar)
    config = _run_config(args)
    bar, on_progress = _progress_bar(config.train.steps, f"train {config.run_id}")
    with bar:
        path = train_run(config, on_progress=on_progress, bundled=bool(args.preset))
    bundle = store.load_path(path)
    print(f"saved {path} (test accuracy {bundle.metrics['test_accuracy']:.3f})")
    if not args.no_analyze:
        return cmd_analyze(argparse.Namespace(run_id=bundle.run_id))
    return 0


def cmd_analyze(args) -> int:
    # one thread: the solver's many small ops lose far more to OpenMP overhead than they gain
    torch.set_num_threads(1)

    if store.bundle_kind(store.find_bundle(args.run_id)) != "classifier":
        return analyze_seq_command(args.run_id)
    bundle = store.load(args.run_id)
    bar, on_progress = _progress_bar(100, f"analyze {bundle.run_id}")
    with bar:
        summary = analyze_bundle(bundle, on_progress=on_progress)
    print(f"wrote {bundle.path / 'analysis.npz'} in {summary['wall_time_s']:.1f} s")
    return 0


def cmd_list(args) -> int:
    rows = store.list_bundles()
    if not rows:
        print(f"no bundles in {' or '.join(str(p) for p in store.store_dirs())}")
    for s in rows:
        if s.ok:
            acc = s.metrics.get("test_accuracy")
            acc_text = f"{acc:.3f}" if isinstance(acc, float) else "-"
            print(f"{s.run_id:20s} {s.task:12s} {s.cell:6s} {s.units:4d} units  acc {acc_text}  "
                  f"{s.size_bytes / 1e6:5.1f} MB  {'analyzed' if s.has_analysis else _analysis_note(s)}")
        else:
            print(f"{s.run_id:20s} UNAVAILABLE: {s.reason}")
    return 0


def _analysis_note(summary) -> str:
    if summary.analysis_damaged:
        return f"analysis unusable: {summary.analysis_reason}"
    return f"no analysis (python -m core analyze {summary.run_id})"


def cmd_eval(args) -> int:
    bundle = store.load(args.run_id)
    traj = bundle.trajectory(args.text, project=False)
    names = bundle.class_names
    if not traj.tokens:
        print("the text has no tokens; nothing to evaluate")
        return 0
    print(f"{'#':>4} {'token':20s} " + " ".join(f"{n[:10]:>10s}" for n in names))
    for i, (tok, known, probs) in enumerate(zip(traj.tokens, traj.known, traj.probs_txk)):
        label = tok if known else f"{tok} (unk)"
        print(f"{i:4d} {label[:20]:20s} " + " ".join(f"{p:10.3f}" for p in probs))
    final = traj.probs_txk[-1]
    print(f"prediction: {names[int(final.argmax())]} ({final.max():.1%})"
          + ("  [text cut at the token cap]" if traj.truncated else ""))
    return 0


def cmd_import(args) -> int:
    torch.set_num_threads(1)
    bar, on_progress = _progress_bar(100, f"import {str(args.path)[:40]}")
    with bar:
        path = import_folder(args.path, args.run_id, on_progress=on_progress)
    print(f"imported and analyzed {path.name} (in {path.parent}); open it on any page")
    return 0


def cmd_export_model(args) -> int:
    folder = export_folder(store.load(args.run_id), args.folder)
    print(f"wrote {folder / 'model.json'} and {folder / 'model.safetensors'} (python -m core import {folder})")
    return 0


def cmd_bundle_all(args) -> int:
    for run_id in args.only or [*PRESETS, *SEQ_PRESETS]:
        ns = argparse.Namespace(preset=run_id, run_id=None, no_analyze=False)
        cmd_train(ns)
    return 0


def cmd_study(args) -> int:
    """Train, analyze and measure every point of a study, then print its table and the measured answer."""
    torch.set_num_threads(1)  # the points are small: one thread, and other work shares the machine
    if args.name not in STUDIES:
        raise CliError(f"unknown study {args.name[:40]!r}; choose one of {', '.join(STUDIES)}")
    bar, on_progress = _progress_bar(len(STUDIES[args.name].points), f"study {args.name}")
    with bar:
        summary = run_study(args.name, on_progress=on_progress, bundled=args.bundled)
    print(format_table(summary))
    print("\n".join(answer(summary)))
    return 0


def cmd_run_job(args) -> int:
    """Run one job from the job registry (the Train page starts this in its own process once the job holds a
    slot), then any jobs queued behind it."""
    torch.set_num_threads(1)
    registry = JobRegistry(user_store_dir(), max_running=int(os.environ.get("ATTRACTORSCOPE_MAX_JOBS", "1")),
                           read_only_stores=(store_dir(),))
    if registry.get(args.job_id) is None:
        raise CliError(f"there is no job {args.job_id[:80]!r} in {registry.root}")
    status = run_job(args.job_id, registry)
    print(f"job {args.job_id}: {status.state if status else 'unknown'}")
    if status is not None and status.state not in ("queued", "running"):
        drain(registry)
    return 0 if status is not None and status.state in ("succeeded", "cancelled") else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="attractorscope command line")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train", help="train a model and save it as a bundle (then analyze it)")
    p.add_argument("--preset", help="one of the bundled run configs, e.g. gru-cat3")
    p.add_argument("--task", default="categorical")
    p.add_argument("--classes", type=int, default=3)
    p.add_argument("--cell", default="gru")
    p.add_argument("--units", type=int, default=64)
    p.add_argument("--embed", type=int, default=32)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--run-id")
    p.add_argument("--input-penalty", type=float, default=0.0,
                   help="weight of the mean squared input drive W_x x in the loss: gentler, more linear word kicks")
    p.add_argument("--no-analyze", action="store_true", help="skip the analysis precompute")
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("analyze", help="precompute fixed points, PCA and geometry for a bundle")
    p.add_argument("run_id")
    p.set_defaults(func=cmd_analyze)
    p = sub.add_parser("list", help="list the bundles in the store")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("eval", help="per-token predictions of a bundle for a text")
    p.add_argument("run_id")
    p.add_argument("--text", required=True)
    p.set_defaults(func=cmd_eval)
    p = sub.add_parser("import", help="import a classifier trained elsewhere (a folder or zip: JSON + weights)")
    p.add_argument("path")
    p.add_argument("--run-id", help="the name in the store (default: the JSON's run_id, else its file name)")
    p.set_defaults(func=cmd_import)
    p = sub.add_parser("export-model", help="write a bundle's weights and JSON in the import format")
    p.add_argument("run_id")
    p.add_argument("folder")
    p.set_defaults(func=cmd_export_model)
    p = sub.add_parser("bundle-all", help="regenerate every bundled pretrained model (train + analyze)")
    p.add_argument("--only", nargs="*", help="run ids to rebuild (default: all)")
    p.set_defaults(func=cmd_bundle_all)
    p = sub.add_parser("study", help="run a study: a sweep of small models, trained, analyzed and measured")
    p.add_argument("name", help=f"one of: {', '.join(STUDIES)}")
    p.add_argument("--bundled", action="store_true", help="write into the bundled store (how the shipped studies were made)")
    p.set_defaults(func=cmd_study)
    p = sub.add_parser("run-job", help="run a queued training job (used by the Train page)")
    p.add_argument("job_id")
    p.set_defaults(func=cmd_run_job)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CliError, ConfigError, store.BundleError, ImportRefused, UserDataError, StudyError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing half-written was kept", file=sys.stderr)
        return 130

"""Background priority for training jobs. Imports nothing heavy: `python -m core run-job` calls it
before torch is imported, so a job's start-up (2-3 s of imports) already yields to the web workers."""
from __future__ import annotations

import os

__all__ = ["JOB_NICENESS", "lower_priority"]

JOB_NICENESS = 19


def lower_priority(niceness: int = JOB_NICENESS) -> None:
    """Make this process a background one: Linux's idle scheduling class where available (it gets only
    CPU time nothing else wants), else the given niceness. A class keeps typing at full speed while a
    model trains (benchmarks/load_bench.py reports the interactive p95 while a job runs)."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        pass
    os.nice(niceness)

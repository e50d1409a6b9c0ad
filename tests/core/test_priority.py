"""`python -m core run-job` runs in the background from its first instruction: its start-up (importing
torch, 2-3 s of CPU) must not compete with the web workers either. Other commands keep normal priority."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.core.test_kill_writers import REPO

# core.cli is replaced by a stand-in whose main() reports the process' scheduling as it starts
PROBE = """
import json, os, sys, types
fake = types.ModuleType("core.cli")
fake.main = lambda: print(json.dumps({"idle": os.sched_getscheduler(0) == os.SCHED_IDLE, "nice": os.nice(0),
                                      "torch_loaded": "torch" in sys.modules})) or 0
sys.modules["core.cli"] = fake
sys.argv = ["core", *sys.argv[1:]]
import runpy
runpy.run_module("core", run_name="__main__", alter_sys=True)
"""


def _probe(*args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.mark.skipif(not hasattr(__import__("os"), "SCHED_IDLE"), reason="Linux scheduling classes only")
def test_run_job_lowers_its_priority_before_importing_torch():
    seen = _probe("run-job", "some-job")
    assert seen == {"idle": True, "nice": 19, "torch_loaded": False}


def test_other_commands_keep_their_priority():
    seen = _probe("list")
    assert not seen["idle"] and seen["nice"] < 19

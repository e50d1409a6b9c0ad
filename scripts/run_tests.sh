#!/usr/bin/env bash
# The one test command: install dev requirements, make sure the browser (and Redis) are there if we
# can, then run the whole pytest suite, slow tests and the full fuzz count included (CI runs this
# through .ci/run). Extra arguments go to pytest: scripts/run_tests.sh -k store -x
# (While developing, `python -m pytest -q -m "not slow"` is the quick loop.) ATTRACTORSCOPE_TEST_WORKERS=1 runs
# the first pass in one process.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
python -m pip install -q -r requirements-dev.txt

# System packages: headless Chromium + chromedriver for tests/e2e, redis-server for the Celery tests.
packages=()
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    packages+=(chromium chromium-driver)
fi
if ! command -v redis-server >/dev/null 2>&1; then
    packages+=(redis-server)
fi
if ((${#packages[@]})); then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        echo "run_tests: installing ${packages[*]} with apt-get" >&2
        if ! { DEBIAN_FRONTEND=noninteractive apt-get update -q \
               && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${packages[@]}"; }; then
            echo "run_tests: apt-get could not install ${packages[*]}; tests that need them will be skipped." >&2
        fi
    else
        echo "run_tests: ${packages[*]} not found (and not root with apt-get), so browser (e2e) tests and" \
             "Redis/Celery tests will be skipped. To run them, install as root:" \
             "apt-get install -y chromium chromium-driver redis-server" >&2
    fi
fi

mkdir -p test-artifacts  # e2e tests save screenshots here
# hostile inputs per entry point in tests/dashboard/test_fuzz.py (a bare pytest runs 50)
export ATTRACTORSCOPE_FUZZ_EXAMPLES="${ATTRACTORSCOPE_FUZZ_EXAMPLES:-1000}"

# Two passes: everything but the browser tests on ATTRACTORSCOPE_TEST_WORKERS processes (pytest-xdist; the
# fuzzing is CPU-bound and splits well), then the browser (e2e) tests one at a time, since they wait on a live
# server and a real browser and must not fight each other for the CPU. "No tests collected" (exit 5, e.g.
# `-k` matching only one pass) is not a failure.
workers="${ATTRACTORSCOPE_TEST_WORKERS:-2}"
status=0
# (worksteal: an idle worker takes queued tests from the busy one, so the long fuzz tests do not end on one worker)
python -m pytest -q -m "not e2e" -n "$workers" --dist worksteal "$@" || { rc=$?; ((rc == 5)) || status=$rc; }
python -m pytest -q -m e2e "$@" || { rc=$?; ((rc == 5)) || status=$rc; }
exit "$status"

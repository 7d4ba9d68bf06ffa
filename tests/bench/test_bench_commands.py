"""Every benchmark the README names runs from a clone, at a small size, and reports its figure.

The figures themselves are not asserted (speed goals live in the benches, on a machine of known
load); what is asserted is what a reader of the README relies on: the command exits 0 and prints
the line it is run for (its measurement and, for the load tests, that no case was lost). This
caught ``bench/history_bench.py`` failing with ModuleNotFoundError from a fresh clone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import system

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

#: (bench script and its small-size arguments, text its output must contain, system parts needed)
BENCHES = [
    ("join_bench.py --sizes 10000 --repeat 1 --cli-rows 20000", "python -m geo join", ()),
    ("cases_bench.py --backends sqlite,postgis --rows 2000 --cases 20000 --writers 2",
     "dispatch under 2 concurrent writers", ("postgis",)),
    ("map_bench.py --sizes 1000 --no-browser", "points", ()),
    ("desk_bench.py --quick", "suggest 200 cases", ()),
    ("report_bench.py --repeat 1", "python -m reports monthly --period", ()),
    ("registry_bench.py --persons 500", "the second import adds nobody", ()),
    ("history_bench.py --cases 20000 --runs 1 --no-explain", "KPI per community", ("postgis",)),
    ("rejoin_bench.py --cases 50000 --partition-rows 10000,25000", "rejoin, 2 partitions of 25,000 rows", ()),
    ("api_load.py --small", "none lost", ()),
    ("service_circle_bench.py --small", "target: compute < 10 s", ()),
    ("cluster_load.py --small --seconds 12 --processes 2 --operators 4", "lost cases 0", ("postgis", "nginx")),
    ("page_settle.py --small --runs 1 --warmup 0", "考核指标", ("chromium",)),
]


@pytest.mark.parametrize(("command", "expected", "needs"), BENCHES, ids=[b[0].split()[0] for b in BENCHES])
def test_bench_runs_at_a_small_size(command: str, expected: str, needs: tuple[str, ...]) -> None:
    for part in needs:
        if part == "nginx":
            from tests.deploy.clusters import require_nginx

            require_nginx()
        else:
            system.require_system(part)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "GRIDCOMMAND_JOBS")}
    done = subprocess.run([sys.executable, f"bench/{command.split()[0]}", *command.split()[1:]], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=400, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert expected in output, output[-3000:]
    assert "Traceback" not in output, output[-3000:]

"""Report benchmark: a monthly report of the demo district as PDF and PPTX (target < 10 s).

A throwaway SQLite store is seeded with the demo district (``demo.seed``, its "now" the clock's),
then for last month's report:

- in process: the first report (imports, font registration, matplotlib warm-up included: "cold")
  and the median of ``--repeat`` more ("warm"), for PDF and PPTX, split into the figures
  (``metrics.briefing``), the pictures and text (``reports.content``) and the layout;
- end to end: ``python -m reports monthly --period P --out FILE`` in a new process (what a user
  waits for), PDF and PPTX, wall time and CPU time (which is what the wall time is on an idle
  machine; most of it is importing pandas, geopandas, SQLAlchemy and matplotlib), with the load
  average.

Needs ``make setup`` (demo district) and the CJK font. Usage::

    .venv/bin/python bench/report_bench.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_S = 10.0


def _seed(folder: Path) -> str:
    from access.database import open_store
    from core.settings import load_settings
    from demo import seed

    url = f"sqlite:///{folder / 'bench.db'}"
    engine = open_store(url)
    print(seed.seed_demo(engine, demo_dir=load_settings().demo_dir, log=lambda message: None))
    engine.dispose()
    return url


def _in_process(url: str, period: str, fmt: str, repeat: int) -> tuple[float, float, dict[str, float]]:
    from access.database import read_session
    from cases.queries import district_scope
    from core import clock
    from core.settings import load_settings
    from geo import read_hierarchy
    from metrics.briefing import build_briefing
    from metrics.periods import parse_period
    from reports.content import build_content
    from reports.make import make_report
    from reports.pdf_writer import write_pdf
    from reports.pptx_writer import write_pptx
    from store.db import make_engine

    settings = load_settings()
    layers = dict(read_hierarchy(settings.hierarchy_path))
    engine = make_engine(url)
    scope, now, month = district_scope("bench"), clock.now(), parse_period(period)

    def once() -> float:
        started = time.perf_counter()
        with read_session(engine) as session:
            make_report(session, scope, month, fmt=fmt, now=now, hierarchy=layers, metric_crs=settings.metric_crs)
        return time.perf_counter() - started

    cold = once()
    warm = statistics.median(once() for _ in range(repeat))
    parts: dict[str, float] = {}
    started = time.perf_counter()
    with read_session(engine) as session:
        briefing = build_briefing(session, scope, month, now=now)
    parts["figures"] = time.perf_counter() - started
    started = time.perf_counter()
    content = build_content(briefing, layers, metric_crs=settings.metric_crs)
    parts["pictures+text"] = time.perf_counter() - started
    started = time.perf_counter()
    (write_pdf if fmt == "pdf" else write_pptx)(content)
    parts["layout"] = time.perf_counter() - started
    engine.dispose()
    return cold, warm, parts


def _command_line(url: str, period: str, out: Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one run of the command line."""
    env = {**os.environ, "DATABASE_URL": url}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "reports", "monthly", "--period", period, "--out", str(out)], cwd=ROOT,
                   env=env, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="warm runs per format (median)")
    args = parser.parse_args()
    from core import clock
    from metrics.periods import last_complete

    period = last_complete("month", clock.now()).label
    with tempfile.TemporaryDirectory(prefix="gc-report-bench-") as tmp:
        folder = Path(tmp)
        url = _seed(folder)
        for fmt in ("pdf", "pptx"):
            cold, warm, parts = _in_process(url, period, fmt, args.repeat)
            split = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in parts.items())
            print(f"monthly {period} {fmt.upper()}, in process: cold {cold:.2f} s, warm {warm:.2f} s ({split})")
        for fmt in ("pdf", "pptx"):
            wall, cpu = _command_line(url, period, folder / f"monthly.{fmt}")
            verdict = "ok" if wall < TARGET_S else "SLOW"
            print(f"python -m reports monthly --period {period} --out monthly.{fmt}: {wall:.2f} s end to end, "
                  f"{cpu:.2f} s CPU (target < {TARGET_S:.0f} s: {verdict}; load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()

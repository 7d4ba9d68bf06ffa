"""Registry import benchmark: a 20,000-person spreadsheet with 1 % bad rows through ``python -m registry
import``, end to end (a new process: reading, checks, matching by ID number, one transaction, the
rejects file).

The spreadsheet is generated from the demo district's buildings: fake persons of every group with
valid ID numbers (GB 11643 check digit), and 1 % bad rows in four kinds - a wrong check digit, an
unknown building, an unknown category, the ID number of an earlier row (duplicate in file). The
bench checks that the rejects file names exactly those rows with the right problem, that every
other person is in the store, and that a second import adds nobody; it prints the times
(target < 30 s for the first import).

Usage::

    .venv/bin/python bench/registry_bench.py [--persons 20000] [--bad-share 0.01] [--format xlsx|csv]
        [--db URL] [--keep DIR]

Needs the demo district (``make demo``). Default store: a fresh SQLite file in a temporary folder.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from sqlalchemy import func, select

from core.constants import KEY_GROUPS, VISIT_CATEGORIES
from core.settings import load_settings
from geo import read_hierarchy
from registry.idnumber import check_character
from store import db
from store.models import Household

ROOT = Path(__file__).resolve().parent.parent
GROUPS = [label.zh for label in (*VISIT_CATEGORIES.values(), *KEY_GROUPS.values())]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国红梅玉兰志强海燕文"
KINDS = ("bad_check_digit", "unknown_building", "unknown_category", "duplicate_in_file")


def _id_number(rng: random.Random, seq: int) -> str:
    born = f"{rng.randint(1930, 2015)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    first17 = f"370811{born}{seq % 1000:03d}"
    return first17 + check_character(first17)


def make_roster(persons: int, bad_share: float, seed: int = 11) -> tuple[pd.DataFrame, dict[int, str]]:
    """The spreadsheet (demo headers) and the bad rows: file row number -> problem key."""
    rng = random.Random(seed)
    buildings = read_hierarchy(load_settings().hierarchy_path)["buildings"]
    codes = buildings["code"].astype(str).tolist()
    parents = buildings["parent_code"].astype(str).tolist()
    rows, numbers = [], set()
    for i in range(persons):
        number = _id_number(rng, i)
        while number in numbers:
            number = _id_number(rng, i)
        numbers.add(number)
        b = rng.randrange(len(codes))
        rows.append({"户编号": f"B{i + 1:06d}", "户主姓名": rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2)),
                     "身份证号": number, "联系电话": f"139{i:08d}", "类别": rng.choice(GROUPS), "楼栋编码": codes[b],
                     "网格编码": parents[b], "经度": "", "纬度": ""})
    bad: dict[int, str] = {}
    for k, index in enumerate(sorted(rng.sample(range(100, persons), int(persons * bad_share)))):
        kind, row = KINDS[k % len(KINDS)], rows[index]
        if kind == "bad_check_digit":
            right = row["身份证号"][-1]
            row["身份证号"] = row["身份证号"][:17] + ("0" if right != "0" else "1")
        elif kind == "unknown_building":
            row["楼栋编码"], row["网格编码"] = "370811999999999999", ""
        elif kind == "unknown_category":
            row["类别"] = "低保户"
        else:
            row["身份证号"] = rows[rng.randrange(0, 100)]["身份证号"]
        bad[index + 2] = kind
    return pd.DataFrame(rows), bad


def _import(path: Path, url: str) -> tuple[float, float, int, str]:
    """Wall and CPU seconds of one ``python -m registry import``, its exit status and output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "registry", "import", str(path), "--db", url], cwd=ROOT,
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode, (done.stdout + done.stderr).strip()


def main() -> int:
    """Generate, import twice, check, print the figures; 1 when a check fails."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--bad-share", type=float, default=0.01)
    parser.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    parser.add_argument("--db", default=None, help="store URL (default: a fresh SQLite file)")
    parser.add_argument("--keep", type=Path, default=None, help="folder for the spreadsheet and the store")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="registry-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    url = args.db or f"sqlite:///{folder / 'registry-bench.db'}"
    db.upgrade(url)
    frame, bad = make_roster(args.persons, args.bad_share)
    path = folder / f"registry-{args.persons}.{args.format}"
    if args.format == "xlsx":
        frame.to_excel(path, index=False)
    else:
        frame.to_csv(path, index=False, encoding="utf-8-sig")
    print(f"{path.name}: {len(frame):,} persons, {len(bad)} bad rows ({', '.join(KINDS)}); store {url}")
    print(f"load average before: {', '.join(f'{v:.1f}' for v in os.getloadavg())} ({os.cpu_count()} CPUs)")
    seconds, cpu, status, output = _import(path, url)
    print(f"first import: {seconds:.2f} s wall, {cpu:.2f} s CPU (target < 30 s), exit {status}\n  {output}")
    with path.with_name(f"{path.stem}.rejects.csv").open(encoding="utf-8-sig") as fh:
        named = {int(r["row"]): r["problem"] for r in csv.DictReader(fh)}
    engine = db.make_engine(url)
    with engine.connect() as conn:
        stored = set(conn.execute(select(Household.id_number)).scalars())
        count = conn.execute(select(func.count()).select_from(Household)).scalar_one()
    expected = {n for i, n in enumerate(frame["身份证号"]) if i + 2 not in bad}
    again, cpu2, status2, output2 = _import(path, url)
    print(f"second import: {again:.2f} s wall, {cpu2:.2f} s CPU, exit {status2}\n  {output2}")
    checks = {"exit 1 (some rejected)": status == 1, "every bad row named with its problem": named == bad,
              "every other person stored": expected <= stored and count == len(frame) - len(bad),
              "the second import adds nobody": status2 == 1 and " 0 added" in output2,
              "under 30 s": seconds < 30}
    for name, ok in checks.items():
        print(f"  {'ok ' if ok else 'FAIL'} {name}")
    engine.dispose()
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

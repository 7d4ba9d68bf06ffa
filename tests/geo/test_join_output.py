"""``joined.csv`` as the user gets it: no live formula in any cell, nothing left behind by a run
killed mid-write, and a progress bar only on a terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from tests.core.formulas import PAYLOADS, assert_csv_inert
from tests.geo.conftest import build_args, run_geo
from tests.geo.test_join import deg

ROOT = Path(__file__).resolve().parents[2]
#: What tqdm draws; none of it may reach a file.
BAR_MARKS = ("\r", "\x1b[", "%|", "█", "rows/s", "it/s", "steps/s")


@pytest.fixture
def hierarchy(tmp_path, toy_gpkg):
    out = tmp_path / "h.gpkg"
    assert run_geo("build", *build_args(toy_gpkg), "--out", out).returncode == 0
    return out


def _cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def test_joined_csv_holds_no_live_formula(tmp_path, hierarchy):
    lon, lat = deg([250] * len(PAYLOADS), [250] * len(PAYLOADS))
    rows = [[f"E{i}", p, p, f"{lon[i]:.7f}", f"{lat[i]:.7f}"] for i, p in enumerate(PAYLOADS)]
    rows += [["E-lon", "lon is a payload", "x", "=1+1", "36.1"], ["E-neg", "a negative number", "x", "-1", "36.1"]]
    header = ["编号", "诉求内容", "=HYPERLINK(\"http://evil\")", "经度", "纬度"]
    path = tmp_path / "events.csv"
    path.write_text("\n".join(",".join(_cell(c) for c in r) for r in [header, *rows]) + "\n", encoding="utf-8")
    out = tmp_path / "joined.csv"
    res = run_geo("join", "--hierarchy", hierarchy, "--incidents", path, "--out", out)
    assert res.returncode == 0, res.stderr
    joined = assert_csv_inert(out, numbers=("经度", "纬度", "distance_m"))
    assert [r["诉求内容"] for r in joined[: len(PAYLOADS)]] == ["'" + p for p in PAYLOADS]
    assert [r["grid_code"] for r in joined[: len(PAYLOADS)]] == ["G11"] * len(PAYLOADS)
    assert (joined[-2]["经度"], joined[-2]["join_status"]) == ("'=1+1", "invalid_coordinates")
    assert (joined[-1]["经度"], joined[-1]["join_status"]) == ("-1", "outside")  # a number stays a number
    assert joined[0]["经度"] == rows[0][3]  # coordinates as given


def test_joined_csv_from_xlsx_holds_no_live_formula(tmp_path, hierarchy):
    lon, lat = deg([750] * len(PAYLOADS), [750] * len(PAYLOADS))
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["编号", "诉求内容", "经度", "纬度", "件数"])
    for i, payload in enumerate(PAYLOADS):
        sheet.append([f"E{i}", payload, float(lon[i]), float(lat[i]), -i])
        sheet.cell(row=i + 2, column=2).data_type = "s"  # typed text, not a formula
    path = tmp_path / "events.xlsx"
    book.save(path)
    out = tmp_path / "joined.csv"
    res = run_geo("join", "--hierarchy", hierarchy, "--incidents", path, "--out", out)
    assert res.returncode == 0, res.stderr
    joined = assert_csv_inert(out, numbers=("经度", "纬度", "distance_m"))
    texts = [r["诉求内容"] for r in joined]
    assert texts[:-1] == ["'" + p for p in PAYLOADS[:-1]]
    # "\r=1" comes back from the workbook as written (lxml) or as "\n=1" (XML without lxml drops bare CRs)
    assert texts[-1] in ("'\r=1", "\n=1")
    assert [r["grid_code"] for r in joined] == ["G22"] * len(PAYLOADS)


def _write_incidents(path: Path, rows: int) -> None:
    rng = np.random.default_rng(7)
    lon, lat = deg(rng.uniform(0, 1000, rows), rng.uniform(0, 1000, rows))
    with path.open("w", encoding="utf-8") as fh:
        fh.write("编号,诉求内容,经度,纬度\n")
        fh.writelines(f"E{i},楼道堆物，请尽快处理，联系网格员上门核实情况 {i},{lon[i]:.7f},{lat[i]:.7f}\n"
                      for i in range(rows))


def _kill_mid_write(args: list[str], folder: Path) -> list[Path]:
    """Start ``python -m geo join``, kill -9 it once its temporary output has data; the leftovers."""
    proc = subprocess.Popen([sys.executable, "-m", "geo", *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            temps = [p for p in folder.iterdir() if p.name.startswith(".joined.csv.")]
            if temps and temps[0].stat().st_size > 0:
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.001)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    return [p for p in folder.iterdir() if p.name.startswith(".")]


@pytest.mark.slow
def test_a_join_killed_mid_write_leaves_nothing_after_the_next_run(tmp_path, hierarchy):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "joined.csv"
    for rows in (1_500_000, 4_000_000):  # a bigger input when the kill came after the write was done
        _write_incidents(tmp_path / "events.csv", rows)
        args = ["join", "--hierarchy", str(hierarchy), "--incidents", str(tmp_path / "events.csv"), "--out", str(out)]
        left = _kill_mid_write(args, out_dir)
        if left and not out.exists():
            break
        out.unlink(missing_ok=True)
    assert left and not out.exists(), "the kill must land while joined.csv is being written"
    assert left[0].stat().st_size > 0  # the leftover of the killed run, as before this change
    res = run_geo(*args)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in out_dir.iterdir()) == ["joined.csv"]  # the leftover is gone
    with out.open("rb") as fh:
        assert fh.read(3) == b"\xef\xbb\xbf"
        assert sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b"")) == rows + 1


def _tiny_join_args(tmp_path: Path, hierarchy: Path) -> list[str]:
    _write_incidents(tmp_path / "few.csv", 50)
    return ["join", "--hierarchy", str(hierarchy), "--incidents", str(tmp_path / "few.csv"),
            "--out", str(tmp_path / "joined.csv")]


def test_no_progress_bar_when_output_goes_to_files(tmp_path, hierarchy, toy_gpkg):
    for args in (_tiny_join_args(tmp_path, hierarchy),
                 ["build", *map(str, build_args(toy_gpkg)), "--out", str(tmp_path / "again.gpkg")]):
        with (tmp_path / "out.txt").open("wb") as out, (tmp_path / "err.txt").open("wb") as err:
            code = subprocess.call([sys.executable, "-m", "geo", *args], cwd=ROOT, stdout=out, stderr=err)
        stdout, stderr = (tmp_path / "out.txt").read_text("utf-8"), (tmp_path / "err.txt").read_text("utf-8")
        assert code == 0 and stderr == ""
        assert stdout.count("\n") == (1 if args[0] == "join" else 2)  # the one-line summary (+ "written:")
        assert not any(mark in stdout for mark in BAR_MARKS), stdout


def _on_a_terminal(args: list[str]) -> str:
    """Run ``python -m geo ARGS`` with stderr on a pseudo-terminal; what was drawn there."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a 100-column terminal
    proc = subprocess.Popen([sys.executable, "-m", "geo", *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=follower)
    os.close(follower)
    drawn = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 1 << 16)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        drawn += chunk
    os.close(leader)
    assert proc.wait(timeout=60) == 0
    return drawn.decode("utf-8", errors="replace")


def test_progress_bar_on_a_terminal(tmp_path, hierarchy, toy_gpkg):
    drawn = _on_a_terminal(_tiny_join_args(tmp_path, hierarchy))
    assert "write joined.csv" in drawn and "rows" in drawn and "\r" in drawn
    drawn = _on_a_terminal(["build", *map(str, build_args(toy_gpkg)), "--out", str(tmp_path / "b.gpkg")])
    assert "geo build" in drawn and "steps" in drawn

"""The CLI contract: python -m cases import|list|show|kpi|migrate with --db, --json, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import select

from cases import cli, lifecycle
from store.models import Case
from tests.factories import add_people
from tests.intake.samples import write_csv


def run(argv, capsys):
    code = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def imported(store, small_hierarchy, tmp_path, capsys):
    with store.Session() as s, s.begin():
        add_people(s)
    path = write_csv(tmp_path / "hotline.csv", "gbk")
    code, out, err = run(["import", path, "--db", store.url, "--hierarchy", small_hierarchy,
                          "--rejects", tmp_path / "bad.csv"], capsys)
    assert (code, err) == (0, "")
    assert "9 rows, 3 added, 1 duplicates, 5 rejected, 1 unrouted" in out and str(tmp_path / "bad.csv") in out
    return store


def test_list_and_json(imported, capsys):
    code, out, _ = run(["--db", imported.url, "list", "--json"], capsys)
    data = json.loads(out)
    assert code == 0 and data["total"] == 3 and {c["source_id"] for c in data["cases"]} == {"GD1", "GD2", "GD3"}
    code, out, _ = run(["list", "--db", imported.url, "--unrouted", "--json"], capsys)
    assert [c["source_id"] for c in json.loads(out)["cases"]] == ["GD3"]
    code, out, _ = run(["list", "--db", imported.url, "--grid", "370811004001001"], capsys)
    assert code == 0 and "GD1" in out and "GD2" not in out and out.strip().endswith("1 of 1 cases")


def test_show_masks_personal_data_and_prints_the_timeline(imported, capsys):
    with imported.Session() as s, s.begin():
        case_id = s.scalar(select(Case.id).where(Case.source_id == "GD1"))
        lifecycle.transition(s, case_id, "register", actor="op1")
    code, out, _ = run(["show", case_id, "--db", imported.url], capsys)
    assert code == 0
    assert "138****5678" in out and "13812345678" not in out and "张*丰" in out and "张三丰" not in out
    assert "上报(report)" in out and "立案(register)" in out and "dispatch(派遣)" in out
    code, out, _ = run(["show", case_id, "--db", imported.url, "--json"], capsys)
    data = json.loads(out)
    assert data["reporter_phone"] == "138****5678" and [e["action"] for e in data["events"]] == ["report", "register"]
    assert data["available_actions"][0] == "dispatch"


def test_kpi_table_and_json(imported, capsys):
    code, out, _ = run(["kpi", "--db", imported.url, "--by", "grid", "--json"], capsys)
    data = json.loads(out)
    assert code == 0 and data["by"] == "grid"
    assert {r["code"] for r in data["rows"]} == {"370811004001001", "370811004001002"}
    assert data["total"]["reported"] == 2 and "on_time_rate" in data["formulas"]
    code, out, _ = run(["kpi", "--db", imported.url, "--by", "district", "--since", "2026-11-16"], capsys)
    assert code == 0 and "按期结案率" in out and "合计" in out


def test_errors_are_one_line_with_exit_2(store, tmp_path, capsys):
    code, _, err = run(["show", "999999", "--db", store.url], capsys)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and "no case 999999" in err
    code, _, err = run(["import", tmp_path / "nope.csv", "--db", store.url], capsys)
    assert code == 2 and "file not found" in err
    missing = tmp_path / "absent.db"
    code, _, err = run(["list", "--db", f"sqlite:///{missing}"], capsys)
    assert code == 2 and "does not exist yet" in err and not missing.exists()
    code, _, err = run(["kpi", "--db", "mysql://x/y"], capsys)
    assert code == 2 and "unsupported database backend" in err
    code, _, err = run(["kpi", "--db", store.url, "--rank-by", "closed"], capsys)
    assert code == 2 and "is not a rate" in err


def test_module_entry_point(store, tmp_path):
    ok = subprocess.run([sys.executable, "-m", "cases", "migrate", "--db", store.url],
                        capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and "revision" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "cases", "show", "424242", "--db", store.url],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr

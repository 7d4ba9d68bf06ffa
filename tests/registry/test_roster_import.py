"""python -m registry import: every bad row refused and named in FILE.rejects.csv (the rest imported),
persons matched by ID number (a second import adds nobody), moves between grids reported, exit
0/1/2, unreadable files change nothing; CSV (UTF-8, GBK) and XLSX; SQLite and PostGIS."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from registry import roster_import
from registry.cli import main
from store.models import Household, Visit, Worker
from store.models.people import PersonMove
from tests.intake.test_progress import FakeTerminal, recorded_bars
from tests.registry.town import COMMUNITY, G1, G2, HEADER, STREET, id_number, roster_line, write_roster, write_town


@pytest.fixture
def town(people_store, tmp_path):
    with people_store.Session() as s, s.begin():
        s.add_all([Worker(id=wid, name=f"网格员{wid}", role="worker", grid_code=grid, community_code=COMMUNITY,
                          active=True) for wid, grid in (("W001", G1), ("W002", G2))])
    return people_store, write_town(tmp_path)


def _run(store, hierarchy, path: Path) -> tuple[int, list[str]]:
    lines: list[str] = []
    status = main(["import", str(path), "--db", store.url, "--hierarchy", str(hierarchy)], out=lines.append)
    return status, lines


def _rejects(path: Path) -> dict[int, dict[str, str]]:
    text = path.with_name(f"{path.stem}.rejects.csv").read_text(encoding="utf-8-sig")
    return {int(r["row"]): r for r in csv.DictReader(text.splitlines())}


def _persons(store) -> dict[str, Household]:
    with store.Session() as s:
        return {h.id: h for h in s.scalars(select(Household))}


MIXED = [
    roster_line("HH1", "张三明", 1, "空巢老人", G1 + "0001", grid=G1, phone="13811112222"),  # row 2
    roster_line("HH2", "李四光", 2, "困难家庭", G1 + "0002"),
    roster_line("HH3", "王五福", 3, "信访人员", G2 + "0001"),
    roster_line("HH4", "赵六顺", 4, "空巢老人", G1 + "0003", valid=False),  # row 5
    roster_line("HH5", "钱七宝", 5, "困难家庭", G1 + "9999"),
    roster_line("HH6", "孙八斗", 6, "低保户", G1 + "0004"),
    roster_line("HH7", "周九洲", 2, "困难家庭", G1 + "0005"),  # row 8: the ID number of row 3
    roster_line("HH8", "吴十全", 8, "残疾人", "", lon="116.575", lat="35.435"),
    roster_line("HH9", "郑一鸣", 9, "空巢老人", "", lon="117.0", lat="35.0"),  # row 10
    roster_line("HH10", "", 10, "空巢老人", G1 + "0004"),
    roster_line("HH11", "冯二虎", 11, "空巢老人", G1 + "0003", grid=G2),  # row 12
]


def test_bad_rows_are_named_the_rest_imported_and_nobody_added_twice(town, tmp_path):
    store, hierarchy = town
    path = write_roster(tmp_path / "roster.csv", MIXED)
    status, lines = _run(store, hierarchy, path)
    assert status == 1
    assert lines[0].startswith("roster.csv: 11 rows: 4 added, 0 updated (0 moved between grids), 0 unchanged, "
                               "7 rejected")
    rejects = _rejects(path)
    assert {row: r["problem"] for row, r in rejects.items()} == {
        5: "bad_check_digit", 6: "unknown_building", 7: "unknown_category", 8: "duplicate_in_file",
        10: "outside_grids", 11: "missing_name", 12: "grid_mismatch"}
    assert "bad check digit" in rejects[5]["reason"] and "unknown building" in rejects[6]["reason"]
    assert "unknown category" in rejects[7]["reason"] and "duplicate in file" in rejects[8]["reason"]
    assert "row 3" in rejects[8]["reason"] and rejects[8]["户编号"] == "HH7" and rejects[6]["fix"]
    persons = _persons(store)
    assert sorted(persons) == ["HH1", "HH2", "HH3", "HH8"]
    assert (persons["HH1"].category, persons["HH1"].grid_code, persons["HH1"].community_code,
            persons["HH1"].street_code, persons["HH1"].phone) == ("empty_nest", G1, COMMUNITY, STREET, "13811112222")
    assert persons["HH3"].category == "petitioner" and persons["HH3"].id_number == id_number(3)
    assert (persons["HH8"].grid_code, persons["HH8"].building_code, persons["HH8"].lon) == (G2, None, 116.575)
    assert persons["HH1"].lon == pytest.approx(116.51, abs=2e-4)  # the building's position
    status, lines = _run(store, hierarchy, path)
    assert status == 1 and "0 added, 0 updated (0 moved between grids), 4 unchanged, 7 rejected" in lines[0]
    assert len(_persons(store)) == 4


def test_a_move_between_grids_is_reported_and_kept(town, tmp_path):
    store, hierarchy = town
    first = [roster_line("HH1", "张三明", 1, "空巢老人", G1 + "0001", phone="13811112222"),
             roster_line("HH2", "李四光", 2, "困难家庭", G1 + "0002")]
    assert _run(store, hierarchy, write_roster(tmp_path / "october.csv", first))[0] == 0
    with store.Session() as s, s.begin():
        s.get(Household, "HH1").worker_id = "W001"  # set by hand: falls back to the new grid's worker
    moved = [roster_line("HH1", "张三明", 1, "空巢老人", G2 + "0005"),  # phone left empty: kept
             roster_line("HH2", "李四光", 2, "困难家庭", G1 + "0002", phone="13933334444")]
    status, lines = _run(store, hierarchy, write_roster(tmp_path / "november.csv", moved))
    assert status == 0
    assert "2 updated (1 moved between grids), 0 unchanged, 0 rejected" in lines[0]
    assert lines[1] == f"moved: row 2 HH1 370***********{id_number(1)[-4:]} grid {G1} -> {G2}"
    persons = _persons(store)
    assert (persons["HH1"].grid_code, persons["HH1"].building_code, persons["HH1"].phone,
            persons["HH1"].worker_id) == (G2, G2 + "0005", "13811112222", None)
    assert persons["HH2"].phone == "13933334444"
    with store.Session() as s:
        move = s.scalars(select(PersonMove)).one()
        assert (move.household_id, move.from_grid_code, move.to_grid_code, move.source) == (
            "HH1", G1, G2, "november.csv")
    assert _rejects(tmp_path / "november.csv") == {}  # the rejects file holds its header only


def test_gbk_csv_and_xlsx_read_alike(town, tmp_path):
    from openpyxl import Workbook

    store, hierarchy = town
    rows = [roster_line("HH1", "张三明", 1, "空巢老人", G1 + "0001"),
            roster_line("HH2", "李四光", 2, "留守儿童", G1 + "0009")]
    path = write_roster(tmp_path / "gbk.csv", rows, encoding="gbk")
    assert _run(store, hierarchy, path)[0] == 1 and set(_rejects(path)) == {3}
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append([])  # a blank row: the sheet's row numbers still count it
    for line in [roster_line("HH2", "李四光", 2, "留守儿童", G1 + "0002"),
                 roster_line("HH3", "王五福", 3, "精神障碍患者", G1 + "0009")]:
        sheet.append(line.split(","))
    book.save(tmp_path / "sheet.xlsx")
    status, lines = _run(store, hierarchy, tmp_path / "sheet.xlsx")
    assert status == 1 and "1 added" in lines[0]
    assert {row: r["problem"] for row, r in _rejects(tmp_path / "sheet.xlsx").items()} == {4: "unknown_building"}
    assert _persons(store)["HH2"].category == "left_behind"


@pytest.mark.parametrize("content", [
    "户编号,户主姓名,联系电话,类别,楼栋编码\nHH1,张三明,,空巢老人,370811004001001\n",  # no 身份证号 column
    "户编号,户主姓名,身份证号,类别\nHH1,张三明,x,空巢老人\n",  # neither 楼栋编码 nor 经度/纬度
    b"\xff\xfe\x00\x00not text",
])
def test_unreadable_files_exit_2_and_change_nothing(town, tmp_path, capsys, content):
    store, hierarchy = town
    path = tmp_path / "broken.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    assert _run(store, hierarchy, path)[0] == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and error.count("\n") == 1 and "broken.csv" in error and "Fix:" in error
    assert _persons(store) == {} and not (tmp_path / "broken.rejects.csv").exists()
    assert _run(store, hierarchy, tmp_path / "missing.xlsx")[0] == 2
    with store.Session() as s:
        assert s.scalar(select(func.count()).select_from(Household)) == 0


def test_visits_from_a_file_are_measured_against_the_home(town, tmp_path):
    store, hierarchy = town
    _run(store, hierarchy, write_roster(tmp_path / "roster.csv", [roster_line("HH1", "张三明", 1, "空巢老人",
                                                                              G1 + "0001")]))
    visits = tmp_path / "visits.csv"
    visits.write_text("走访编号,户编号,工号,走访时间,经度,纬度,走访结果\n"
                      "ZF1,HH1,W001,2026-11-03 10:00:00,116.5101,35.41,情况稳定\n", encoding="utf-8-sig")
    for expected in ("1 visits added", "0 visits added"):
        lines: list[str] = []
        assert main(["visits", str(visits), "--db", store.url], out=lines.append) == 0
        assert lines == [f"visits.csv: {expected} (the others were in the store already)"]
    with store.Session() as s:
        visit = s.get(Visit, "ZF1")
    assert visit.on_site and visit.distance_m == pytest.approx(9.1, abs=0.5) and visit.grid_code == G1


def test_an_import_shows_its_progress_on_a_terminal_only(town, tmp_path, monkeypatch):
    store, hierarchy = town
    path = write_roster(tmp_path / "roster.csv", MIXED)
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with recorded_bars(monkeypatch, roster_import) as bars:
        assert _run(store, hierarchy, path)[0] == 1
    assert bars == [("roster.csv: check", 11, 11, True), ("roster.csv: compare", 4, 4, True)]
    assert "roster.csv: check" in terminal.getvalue()
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    with recorded_bars(monkeypatch, roster_import) as bars:
        assert _run(store, hierarchy, path)[0] == 1
    assert [drawn for *_, drawn in bars] == [False, False] and pipe.getvalue() == ""

"""Import files as a user hands them over: the rejects file holds no live formula, undecodable
bytes are named by line and offset, XLSX rows keep the numbers Excel shows."""

from __future__ import annotations

import pytest

from cases import cli
from core.errors import InputError
from intake.tables import read_table
from tests.core.formulas import PAYLOADS, assert_csv_inert
from tests.factories import add_people
from tests.intake.samples import HEADERS, ROWS, write_csv


def _payload_rows(time_payloads: bool = False) -> list[list[str]]:
    """Rows refused for a bad category (or time), a payload in it and in the text, address, reporter
    and longitude cells."""
    rows = []
    for i, payload in enumerate(PAYLOADS):
        row = [f"X{i}", "12345热线", "群众诉求", "噪音扰民", payload, payload, payload, "35.415", payload, "",
               "2026-11-16"]
        row[10 if time_payloads else 2] = payload  # 受理时间 or 一级分类
        rows.append(row)
    return rows


def _import(store, small_hierarchy, tmp_path, rows):
    with store.Session() as s, s.begin():
        add_people(s)
    lines = [",".join(HEADERS)] + [",".join(_csv_cell(c) for c in row) for row in rows]
    path = tmp_path / "hotline.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    rejects = tmp_path / "rejects.csv"
    code = cli.main(["import", str(path), "--db", store.url, "--hierarchy", str(small_hierarchy),
                     "--rejects", str(rejects)])
    return code, rejects


def _csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def test_import_rejects_file_holds_no_live_formula(store, small_hierarchy, tmp_path, capsys):
    code, rejects = _import(store, small_hierarchy, tmp_path, [ROWS[0], *_payload_rows()])
    out = capsys.readouterr().out
    assert code == 0 and f"{len(PAYLOADS)} rejected" in out
    rows = assert_csv_inert(rejects)
    assert len(rows) == len(PAYLOADS)
    assert sorted(r["诉求内容"] for r in rows) == sorted("'" + p for p in PAYLOADS)
    assert all(r["column"].startswith("一级分类") for r in rows)
    assert sorted(r["一级分类"] for r in rows) == sorted(r["经度"] for r in rows) == sorted("'" + p for p in PAYLOADS)


def test_a_time_cell_of_minus_one_is_rejected_not_a_crash(store, small_hierarchy, tmp_path):
    code, rejects = _import(store, small_hierarchy, tmp_path, _payload_rows(time_payloads=True))
    assert code == 0 and len(assert_csv_inert(rejects)) == len(PAYLOADS)


def test_undecodable_csv_names_line_and_byte(tmp_path):
    good = ",".join(HEADERS) + "\n" + ",".join(ROWS[0]) + "\n"
    data = good.encode("gbk") + b"GD9,\x80\x80\n"
    path = tmp_path / "hotline.csv"
    path.write_bytes(data)
    with pytest.raises(InputError) as err:
        read_table(path)
    message = str(err.value)
    assert f"line 3, byte offset {len(good.encode('gbk')) + 4:,}" in message
    assert "byte 0x80 is neither UTF-8 nor GBK/GB18030" in message and "named above" not in message


def test_gbk_and_bom_files_read_alike(tmp_path):
    gbk = read_table(write_csv(tmp_path / "a.csv", "gbk"))
    bom = read_table(write_csv(tmp_path / "b.csv", "utf-8-sig"))
    assert (gbk.encoding, bom.encoding) == ("gb18030", "utf-8-sig")
    assert gbk.frame.equals(bom.frame)


def test_missing_columns_message_is_bounded(tmp_path):
    headers = [f"列{i}" for i in range(3000)]
    path = tmp_path / "wide.csv"
    path.write_text(",".join(headers) + "\n" + ",".join("x" for _ in headers) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing column") as err:
        read_table(path)
    assert len(str(err.value)) < 1000

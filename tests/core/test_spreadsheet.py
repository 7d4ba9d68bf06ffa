"""core.spreadsheet is the one writer of what a spreadsheet opens: the source is scanned for any
other, every writer path is fed the OWASP payloads, and killed writes leave nothing behind."""

from __future__ import annotations

import ast
import io
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from cases import queries
from core import spreadsheet
from store.models import Case
from tests.core.formulas import PAYLOADS, assert_csv_inert, assert_xlsx_inert
from tests.fixtures.world import G1, G2, SCOPES, T0

ROOT = Path(__file__).resolve().parents[2]
#: The one module allowed to write CSV/XLSX.
WRITER = "core/spreadsheet.py"
#: Attribute calls that write a spreadsheet file: pandas, Arrow, openpyxl.
_WRITER_ATTRIBUTES = {"to_csv", "to_excel", "ExcelWriter", "write_csv", "CSVWriter", "Workbook", "WriteOnlyCell"}
_WRITER_IMPORTS = {"csv": {"writer", "DictWriter"}, "pyarrow.csv": {"write_csv", "CSVWriter"},
                   "openpyxl": {"Workbook"}, "openpyxl.cell": {"WriteOnlyCell"}, "pandas": {"ExcelWriter"}}
#: Writers of generated, trusted data only (no user-supplied text): allowed to write directly.
OUTSIDE = {
    "demo/seed.py": "a temporary copy of the demo incidents, imported at once (machine to machine)",
    "data/make_demo.py": "the demo district generator's CSV files",
    "bench/join_bench.py": "the benchmark's pandas baseline and its generated input",
    "bench/cases_bench.py": "the benchmark's generated 100k-row input",
    "bench/registry_bench.py": "the benchmark's generated 20,000-person roster",
    "cases/history.py": "the synthetic history's generated rows, streamed to PostgreSQL's COPY (no file)",
}


def spreadsheet_writers(source: str) -> list[str]:
    """``line: call`` of every place in ``source`` that writes CSV or XLSX itself."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and (
                node.attr in _WRITER_ATTRIBUTES
                or (node.attr in ("writer", "DictWriter") and isinstance(node.value, ast.Name)
                    and node.value.id == "csv")):
            found.append(f"{node.lineno}: .{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module in _WRITER_IMPORTS:
            found += [f"{node.lineno}: from {node.module} import {a.name}" for a in node.names
                      if a.name in _WRITER_IMPORTS[node.module]]
        elif isinstance(node, ast.Import):
            found += [f"{node.lineno}: import {a.name}" for a in node.names if a.name == "xlsxwriter"]
    return found


def _project_sources() -> dict[str, str]:
    skip = (".venv/", "tests/", "node_modules/", "static/", ".git/")
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if not rel.startswith(skip):
            out[rel] = path.read_text(encoding="utf-8")
    return out


def test_the_scan_finds_each_kind_of_writer():
    snippet = """
import csv
import pyarrow.csv as pacsv
from openpyxl import Workbook
frame.to_csv("a.csv"); frame.to_excel("a.xlsx"); pd.ExcelWriter(b)
csv.writer(f); csv.DictWriter(f, []); pacsv.write_csv(t, f); openpyxl.Workbook()
openpyxl.load_workbook("read.xlsx")
"""
    found = spreadsheet_writers(snippet)
    assert len(found) == 8, found  # the reader (load_workbook) is not a writer


def test_only_core_spreadsheet_writes_csv_or_xlsx():
    sources = _project_sources()
    assert {"geo/join_cli.py", "intake/files.py", "access/exports.py", WRITER} <= set(sources)
    assert spreadsheet_writers(sources[WRITER]), "the scan must see the writer's own calls"
    offenders = {rel: calls for rel, src in sources.items()
                 if rel != WRITER and rel not in OUTSIDE and (calls := spreadsheet_writers(src))}
    assert not offenders, f"write CSV/XLSX with core.spreadsheet (to_bytes, write_table, write_arrow_csv): {offenders}"


def _payload_frame() -> pd.DataFrame:
    return pd.DataFrame({"text": list(PAYLOADS), "=header": ["x"] * len(PAYLOADS),
                         "count": np.arange(-3, len(PAYLOADS) - 3), "lon": np.linspace(-1.5, 1.5, len(PAYLOADS))})


def test_to_bytes_csv_prefixes_formula_text_and_keeps_numbers():
    rows = assert_csv_inert(spreadsheet.to_bytes(_payload_frame(), "csv"), numbers=("count", "lon"))
    assert [r["text"] for r in rows] == ["'" + p for p in PAYLOADS]
    assert [int(r["count"]) for r in rows] == list(range(-3, len(PAYLOADS) - 3))  # -3 stays -3


def test_to_bytes_xlsx_writes_text_cells_not_formulas():
    data = spreadsheet.to_bytes(_payload_frame(), "xlsx", sheet="cases")
    assert_xlsx_inert(data, texts={"text": list(PAYLOADS), "=header": ["x"] * len(PAYLOADS)},
                      numbers=("count", "lon"))
    back = pd.read_excel(io.BytesIO(data))
    assert back["text"].tolist()[:5] == list(PAYLOADS[:5])  # as typed: no apostrophe to see in Excel
    assert back["count"].tolist()[0] == -3


def test_write_arrow_csv_keeps_the_cells_said_to_be_numbers(tmp_path):
    table = pa.table({"text": list(PAYLOADS), "lon": ["-1", "-73.9", "=1", "+2", "", "@", "-0.5"]})
    numbers = {"lon": np.array([True, True, False, True, False, False, True])}
    out = spreadsheet.write_arrow_csv(table, tmp_path / "t.csv", numbers=numbers, batch_rows=3)
    rows = assert_csv_inert(out, numbers=("lon",))
    assert [r["text"] for r in rows] == ["'" + p for p in PAYLOADS]
    assert [r["lon"] for r in rows] == ["-1", "-73.9", "'=1", "+2", "", "'@", "-0.5"]


def test_export_csv_and_xlsx_hold_no_live_formula(world):
    """The user's path: an operator exports the case list while cases hold formula-like text."""
    with world.store.Session() as session, session.begin():
        ids = [*world.case_ids[G1], *world.case_ids[G2]]
        payloads = [PAYLOADS[i % len(PAYLOADS)] for i in range(len(ids))]
        for cid, payload in zip(ids, payloads, strict=True):
            session.get(Case, cid).text = payload
        session.flush()
        now = T0 + timedelta(days=2)
        frame = queries.list_cases(session, SCOPES["admin"], limit=None)
        texts = frame["text"].tolist()
        assert set(payloads) <= set(texts)
        csv_bytes = queries.export_cases(session, SCOPES["admin"], fmt="csv", now=now)
        xlsx_bytes = queries.export_cases(session, SCOPES["admin"], fmt="xlsx", now=now)
    rows = assert_csv_inert(csv_bytes, numbers=tuple(c for c in frame.columns
                                                   if pd.api.types.is_numeric_dtype(frame[c])))
    assert sorted(r["text"] for r in rows) == sorted("'" + t if t.startswith(("=", "+", "-", "@", "\t", "\r"))
                                                     else t for t in texts)
    assert_xlsx_inert(xlsx_bytes, texts={"text": texts},
                      numbers=tuple(c for c in ("lon", "lat") if c in frame.columns))


def _leftover(folder: Path, name: str, pid: int, start: int = 0) -> Path:
    path = folder / f".{name}.{pid}-{start}-abcd1234.tmp{Path(name).suffix}"
    path.write_bytes(b"x" * 1000)
    return path


def test_replacing_removes_leftovers_of_dead_writers_only(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    gone = _leftover(tmp_path, "joined.csv", int(dead.stdout))
    mine = _leftover(tmp_path, "joined.csv", os.getpid())  # another thread of this process is writing
    legacy = tmp_path / ".joined.csv.q1w2e3r4.tmp"  # the kind earlier versions left
    legacy.write_bytes(b"x")
    os.utime(legacy, (1, 1))
    other = _leftover(tmp_path, "other.csv", int(dead.stdout))
    with spreadsheet.replacing(tmp_path / "joined.csv") as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(f".joined.csv.{os.getpid()}-")
        tmp.write_text("done")
    assert (tmp_path / "joined.csv").read_text() == "done"
    umask = os.umask(0o022)
    os.umask(umask)
    assert (tmp_path / "joined.csv").stat().st_mode & 0o777 == 0o666 & ~umask  # like any new file, not 0600
    assert not gone.exists() and not legacy.exists()
    assert mine.exists() and other.exists()  # alive, or another file's


def test_replacing_removes_its_temporary_file_on_error(tmp_path):
    with pytest.raises(RuntimeError), spreadsheet.replacing(tmp_path / "r.csv") as tmp:
        tmp.write_text("half")
        raise RuntimeError
    assert list(tmp_path.iterdir()) == []

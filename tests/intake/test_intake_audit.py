"""Every import writes one ``import`` audit entry in the same transaction as the cases: present
after a successful import, absent after a failed one."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from intake import files
from intake.files import import_file
from store.models import AuditEntry
from tests.factories import add_people
from tests.intake.samples import RULES, counts, write_csv


def _import_entries(store, name: str) -> list[AuditEntry]:
    with store.Session() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == "import",
                                                       AuditEntry.target_id == name)))


def test_import_writes_one_audit_entry(store, small_hierarchy, tmp_path):
    with store.Session() as s, s.begin():
        add_people(s)
    path = write_csv(tmp_path / "audited_hotline.csv", "utf-8")
    result = import_file(store.engine, path, hierarchy=small_hierarchy, rules=RULES, actor="clerk",
                         rejects_path=tmp_path / "r.csv")
    entries = _import_entries(store, path.name)
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.actor, entry.target_kind) == ("clerk", "file")
    detail = entry.detail
    assert detail["file"] == path.name
    assert (detail["rows"], detail["added"], detail["duplicates"], detail["rejected"]) == (
        result.rows, result.added, result.duplicates, result.rejected)
    assert "13812345678" not in str(detail)  # no personal data in the log


def test_failed_import_leaves_no_audit_entry(store, small_hierarchy, tmp_path, monkeypatch):
    with store.Session() as s, s.begin():
        add_people(s)
        before = s.scalar(select(func.count()).select_from(AuditEntry))
    path = write_csv(tmp_path / "failing_hotline.csv", "utf-8")

    def explode(*args, **kwargs):
        raise OSError("disk full while writing rejects")

    monkeypatch.setattr(files, "_write_rejects", explode)  # fails after the audit entry is written
    with pytest.raises(OSError, match="disk full"):
        import_file(store.engine, path, hierarchy=small_hierarchy, rules=RULES, rejects_path=tmp_path / "r.csv")
    assert _import_entries(store, path.name) == []
    assert counts(store) == (0, 0)
    with store.Session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == before

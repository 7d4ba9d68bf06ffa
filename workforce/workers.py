"""Loading grid workers and chiefs (网格员, 网格长) from ``workers.csv``: 工号, 姓名, 手机号, 网格编码,
社区编码, 岗位 (UTF-8 or GBK)."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.csvfile import read_csv_cells, row_label
from core.errors import InputError
from store.models import Worker

WORKER_HEADERS = ("工号", "姓名", "手机号", "网格编码", "社区编码", "岗位")
#: 岗位 in workers.csv -> worker role in the store.
POSTS: dict[str, str] = {"专职网格员": "worker", "兼职网格员": "worker", "机动网格员": "worker", "网格长": "chief"}


def load_workers(session: Session, path: Path, *, inactive: Collection[str] = ()) -> int:
    """Add the workers of ``path`` that the store lacks; returns how many were added.

    ``inactive`` staff numbers are stored as not active (vacant posts: nothing is routed to them).
    """
    frame = read_csv_cells(path, WORKER_HEADERS, missing_fix="check the path of workers.csv")
    existing = set(session.scalars(select(Worker.id)))
    added = 0
    for i, row in enumerate(frame.to_dict("records")):
        if row["工号"] in existing:
            continue
        role = POSTS.get(row["岗位"])
        if role is None:
            raise InputError(str(path), f"unknown 岗位 {row['岗位']!r}", f"use one of {', '.join(POSTS)}",
                             where=row_label(i))
        session.add(Worker(id=row["工号"], name=row["姓名"], phone=row["手机号"] or None, role=role,
                           grid_code=row["网格编码"] or None, community_code=row["社区编码"] or None,
                           active=row["工号"] not in inactive))
        added += 1
    session.flush()
    return added

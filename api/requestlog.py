"""Every API request in the audit log: accepted ones as ``api_request``, refused ones as
``api_refused`` (with the status, the field and the reason), actor ``api:<channel>`` (or
``api:anonymous`` without a valid key), target the case when there is one, and the client address.

An accepted report's entry is written in the same transaction as its case (:mod:`api.reports`);
reads and refusals get a small transaction of their own. Refusals for the rate limit come in
floods: one entry per caller and 10 seconds is written, counting the refusals it stands for.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from access import audit
from access.database import unit_of_work
from api.errors import ApiError
from api.keys import Caller
from core import clock

#: Rate-limit refusals of one caller are written at most once per this many seconds.
COALESCE_SECONDS = 10.0


@dataclass(frozen=True)
class RequestInfo:
    """What the audit log keeps of a request: method, path (no query string: it may hold the key),
    client address and, once known, the caller."""

    method: str
    path: str
    ip: str | None
    caller: Caller | None = None

    @property
    def actor(self) -> str:
        """``api:<channel>`` or ``api:anonymous``."""
        return self.caller.actor if self.caller else "api:anonymous"

    def detail(self, status: int, **extra: Any) -> dict[str, Any]:
        """The audit detail: method, path, status, key id and ``extra`` (no personal data)."""
        base: dict[str, Any] = {"method": self.method, "path": self.path[:200], "status": status}
        if self.caller:
            base["key_id"] = self.caller.key_id
        return {**base, **{k: v for k, v in extra.items() if v is not None}}


def record_accepted(session: Session, info: RequestInfo, status: int, *, case_id: int | None = None,
                    **extra: Any) -> None:
    """Write an ``api_request`` entry in the caller's transaction."""
    audit.record(session, actor=info.actor, action="api_request", at=clock.now(),
                 target_kind="case" if case_id is not None else "api",
                 target_id=case_id if case_id is not None else info.path[:64],
                 detail=info.detail(status, case_id=case_id, **extra), ip=info.ip)


def log_accepted(engine: Engine, info: RequestInfo, status: int, **extra: Any) -> None:
    """:func:`record_accepted` in a transaction of its own (reads)."""
    with unit_of_work(engine) as session:
        record_accepted(session, info, status, **extra)


class RefusalLog:
    """Writes ``api_refused`` entries, folding rate-limit floods (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._folded: dict[str, tuple[float, int]] = {}

    def _fold(self, name: str) -> int | None:
        """None when this refusal is folded into a later entry, else how many were folded before."""
        now = time.monotonic()
        with self._lock:
            last, count = self._folded.get(name, (-COALESCE_SECONDS, 0))
            if now - last < COALESCE_SECONDS:
                self._folded[name] = (last, count + 1)
                return None
            self._folded[name] = (now, 0)
            return count

    def write(self, info: RequestInfo, error: ApiError) -> None:
        """Write the refusal of ``info`` for ``error`` (or fold it)."""
        folded = 0
        if error.reason == "rate_limited":
            got = self._fold(f"{info.actor}|{info.ip}")
            if got is None:
                return
            folded = got
        detail = info.detail(error.status, reason=error.reason, field=error.field or None,
                             message=error.message[:200], folded=folded or None)
        with unit_of_work(self.engine) as session:
            audit.record(session, actor=info.actor, action="api_refused", at=clock.now(), target_kind="api",
                         target_id=info.path[:64], detail=detail, ip=info.ip)

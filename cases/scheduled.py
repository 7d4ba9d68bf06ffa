"""The app process's scheduled jobs, run by exactly one process at a time.

Every app process (``make run``; several behind a proxy later) starts a :class:`JobRunner` thread.
Each run first takes the job's lease in the store (``job_leases``: one row per job, a holder and an
expiry, taken with one conditional ``UPDATE`` that a single process can win), so however many
processes run, one runs the job; a process that died loses its lease when it expires.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from cases.escalation import escalate_overdue
from core import clock
from core.constants import JOBS_INTERVAL_SECONDS
from metrics.kpi import settled_measures
from store import partitions, rollup
from store.db import session_scope
from store.models import JobLease, table_of

log = logging.getLogger(__name__)
#: A lease outlives a run by far; a crashed holder frees the job after this long.
LEASE = timedelta(minutes=5)


def fold_kpi_delta(engine: Engine, _now: datetime) -> int:
    """Move the KPI roll-up's delta into ``kpi_daily`` (PostgreSQL; nothing to do on SQLite)."""
    with engine.begin() as connection:
        return rollup.fold_delta(connection, tuple(settled_measures()))


def keep_case_partitions(engine: Engine, now: datetime) -> int:
    """Create the coming months' partitions of ``cases`` and re-home rows from the default one
    (PostgreSQL; nothing to do on SQLite); the number of partitions created."""
    with engine.begin() as connection:
        return partitions.maintain(connection, now)


#: The jobs, by name: each takes the engine and the time of the run and returns a count.
JOBS: dict[str, Callable[[Engine, datetime], int]] = {
    "escalation": escalate_overdue, "kpi_fold": fold_kpi_delta, "case_partitions": keep_case_partitions}


def holder_name() -> str:
    """The name of this process in the lease table (host and process id)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def take_lease(engine: Engine, job: str, holder: str, now: datetime, *, min_gap: timedelta = timedelta(0)) -> bool:
    """Whether ``holder`` now holds the lease of ``job`` (taken or renewed until ``now + LEASE``);
    not while another holds it, nor within ``min_gap`` of the job's last run in any process (so N
    processes run an every-minute job once a minute, not N times)."""
    try:
        with session_scope(engine) as session:
            if session.get(JobLease, job) is None:
                session.execute(insert(table_of(JobLease)).values(name=job, holder=holder, until=now - LEASE))
    except IntegrityError:
        pass  # another process created the row first
    with session_scope(engine) as session:
        lease = table_of(JobLease)
        free = (lease.c.until < now) | (lease.c.holder == holder)
        due = lease.c.last_run.is_(None) | (lease.c.last_run <= now - min_gap)
        taken = session.execute(update(lease).where(lease.c.name == job, free, due)
                                .values(holder=holder, until=now + LEASE))
        return bool(getattr(taken, "rowcount", 0))


def release_lease(engine: Engine, job: str, holder: str, now: datetime) -> None:
    """Give the lease back after a run (others may run the job at once), noting when it ran."""
    with session_scope(engine) as session:
        lease = table_of(JobLease)
        session.execute(update(lease).where(lease.c.name == job, lease.c.holder == holder)
                        .values(until=now, last_run=now))


def run_job(engine: Engine, job: str, *, holder: str | None = None, now: datetime | None = None,
            min_gap: timedelta = timedelta(0)) -> int | None:
    """Run ``job`` once if this process can take its lease and the job did not run within ``min_gap``
    anywhere; its count, or None when another holds it or ran it."""
    holder, now = holder or holder_name(), now or clock.now()
    if not take_lease(engine, job, holder, now, min_gap=min_gap):
        return None
    try:
        return JOBS[job](engine, now)
    finally:
        release_lease(engine, job, holder, now)


def last_run(engine: Engine, job: str) -> datetime | None:
    """When ``job`` last ran to its end, in any process."""
    with session_scope(engine) as session:
        return session.scalar(select(JobLease.last_run).where(JobLease.name == job))


class JobRunner(threading.Thread):
    """A daemon thread running every job every ``interval_s`` seconds (the first run at once)."""

    def __init__(self, engine: Engine, *, interval_s: float = JOBS_INTERVAL_SECONDS) -> None:
        super().__init__(name="gridcommand-jobs", daemon=True)
        self.engine, self.interval_s = engine, interval_s
        #: Another process's run this recently counts as this round's (a tenth spare for clock jitter).
        self.min_gap = timedelta(seconds=0.9 * interval_s)
        self.stopped = threading.Event()

    def run(self) -> None:
        """Run the jobs until :meth:`stop`; a failing run is logged and the next one tries again."""
        while not self.stopped.is_set():
            for job in JOBS:
                try:
                    count = run_job(self.engine, job, min_gap=self.min_gap)
                except Exception:  # a job must never kill the app's thread: logged, tried again
                    log.exception("scheduled job %s failed", job)
                    continue
                if count:
                    log.info("scheduled job %s: %s done", job, count)
            self.stopped.wait(self.interval_s)

    def stop(self) -> None:
        """Ask the thread to end after its current run."""
        self.stopped.set()

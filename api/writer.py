"""One writer thread per server process: reports waiting at the same moment are stored together in
one transaction (one :func:`intake.pipeline.submit` per channel), other writes run one by one.

A single record through ``intake.submit`` costs tens of milliseconds, almost all of it fixed
(normalising, joining and routing a one-row frame); eight records cost little more. Requests hand
their report to this thread and wait for its answer, so the work of concurrent requests is shared
and the store sees one writer per process. Nothing waits on purpose: a batch is whatever queued up
while the previous one was being stored, so a lone request goes straight through.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)
#: Most reports stored in one transaction.
MAX_BATCH = 64


@dataclass
class _Job:
    """A report to store (``fn`` None) or a call to run alone, with the future of its answer."""

    payload: Any
    fn: Callable[..., Any] | None = None
    future: Future[Any] = field(default_factory=Future)


class Writer:
    """The writer thread.

    Parameters
    ----------
    store_reports : callable
        ``store_reports(payloads) -> answers`` (same length and order; an answer that is an
        exception is raised to that request's waiter).
    max_batch : int
        Most reports per call of ``store_reports``.
    """

    def __init__(self, store_reports: Callable[[Sequence[Any]], Sequence[Any]], *, max_batch: int = MAX_BATCH) -> None:
        self._store_reports = store_reports
        self._max_batch = max_batch
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (idempotent)."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="api-writer", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the queued work, then end the thread."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def report(self, payload: Any) -> Future[Any]:
        """Queue a report; the future holds its answer."""
        job = _Job(payload)
        self._queue.put(job)
        return job.future

    def call(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Queue ``fn(*args)`` to run alone on the writer thread; the future holds its result."""
        job = _Job(args, fn)
        self._queue.put(job)
        return job.future

    def _take(self, first: _Job) -> tuple[list[_Job], bool]:
        """``first`` and whatever else is queued now (up to the batch size), less the jobs whose
        waiter gave up; True when told to stop."""
        jobs, stop = [first], False
        while len(jobs) < self._max_batch:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:
                stop = True
                break
            jobs.append(job)
        return [j for j in jobs if j.future.set_running_or_notify_cancel()], stop

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            jobs, stop = self._take(first)
            reports = [j for j in jobs if j.fn is None]
            if reports:
                self._answer(reports)
            for job in jobs:
                if job.fn is not None:
                    self._call(job)
            if stop:
                return

    def _answer(self, jobs: list[_Job]) -> None:
        try:
            answers = list(self._store_reports([j.payload for j in jobs]))
        except Exception as exc:  # handed to every waiter, never lost in the thread
            log.exception("storing %d reports failed", len(jobs))
            answers = [exc] * len(jobs)
        for job, answer in zip(jobs, answers, strict=True):
            if isinstance(answer, BaseException):
                job.future.set_exception(answer)
            else:
                job.future.set_result(answer)

    @staticmethod
    def _call(job: _Job) -> None:
        assert job.fn is not None
        try:
            job.future.set_result(job.fn(*job.payload))
        except Exception as exc:  # noqa: BLE001 - handed to the waiter, who answers for it
            job.future.set_exception(exc)

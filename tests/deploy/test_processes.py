"""The launcher's supervision without nginx or a store: a dead dashboard or API process is started
again (same command, environment and log), one that keeps dying is given up after the back-off, a
dead nginx or PostgreSQL ends the cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.cluster import supervise
from deploy.processes import Backoff, Supervisor
from tests.deploy.clusters import alive, wait_for

QUICK = Backoff(first_s=0.05, most_s=0.2, limit=3, window_s=60)


class Saved(Exception):
    """Raised by the state callback to end :func:`supervise` (which otherwise runs until a signal)."""


def test_backoff_doubles_then_gives_up_within_the_window() -> None:
    backoff = Backoff(first_s=1, most_s=5, limit=5, window_s=60)
    assert [backoff.delay([0.0] * n, 0.0) for n in range(1, 6)] == [1, 2, 4, 5, None]
    assert backoff.delay([0.0, 1.0, 2.0, 3.0, 100.0], 100.0) == 1  # deaths long ago do not count


def test_a_dead_process_is_started_again_with_the_same_environment(tmp_path: Path, capsys) -> None:
    sup = Supervisor(tmp_path / "logs")
    marker = tmp_path / "ran-once"
    script = f'echo "start $GC_WORD"; [ -e {marker} ] && exec sleep 60; touch {marker}; exit 3'
    sup.start("app1", ["sh", "-c", script], env={"GC_WORD": "kept", "PATH": "/usr/bin:/bin"}, restartable=True)
    first = sup.children[0].proc.pid
    saved: list[int] = []

    def save() -> None:
        saved.append(sup.children[0].proc.pid)
        raise Saved

    try:
        with pytest.raises(Saved):
            supervise(sup, save, QUICK)
        child = sup.children[0]
        assert saved == [child.proc.pid] and child.proc.pid != first and alive(child.proc.pid)
        assert child.restarts == 1 and child.proc.poll() is None
        wait_for(lambda: child.log.read_text().count("start kept") == 2, timeout_s=10, pause_s=0.05,
                 what=lambda: f"the restarted process's line in {child.log}: {child.log.read_text()!r}")
        assert "restarted by the launcher" in child.log.read_text()
    finally:
        sup.stop_all()
    assert not alive(sup.children[0].proc.pid)
    err = capsys.readouterr().err
    assert "*** app1 ended (exit 3)" in err and "app1: restarting in 0 s" in err and "app1 restarted (pid" in err


def test_a_process_that_keeps_dying_is_given_up(tmp_path: Path, capsys) -> None:
    sup = Supervisor(tmp_path / "logs")
    sup.start("api", ["sh", "-c", "exit 4"], restartable=True)
    sup.start("app1", ["sh", "-c", "exit 5"], restartable=True)
    restarts: list[str] = []
    try:
        assert supervise(sup, lambda: restarts.append("saved"), QUICK) == 1  # every dashboard given up
    finally:
        sup.stop_all()
    err = capsys.readouterr().err
    assert "*** app1 gave up: it died 3 times within 60 s, so it is not restarted again" in err
    assert "*** api gave up: it died 3 times within 60 s" in err
    assert "every dashboard process was given up: stopping the cluster" in err
    assert [c.restarts for c in sup.children] == [2, 2] and len(restarts) == 4


def test_a_dead_nginx_ends_the_cluster(tmp_path: Path, capsys) -> None:
    sup = Supervisor(tmp_path / "logs")
    sup.start("app1", ["sleep", "60"], restartable=True)
    sup.start("nginx", ["sh", "-c", "exit 1"])
    try:
        assert supervise(sup, lambda: None, QUICK) == 1
        assert sup.children[0].proc.poll() is None and sup.children[0].restarts == 0
    finally:
        sup.stop_all()
    assert "*** nginx ended (exit 1)" in capsys.readouterr().err

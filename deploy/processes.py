"""The launcher's child processes: started in their own sessions, logged to files, restarted when
they may be, stopped together.

Every child runs in a new session (a terminal's Ctrl-C reaches only the launcher, which then stops
the children in order) and asks the kernel for SIGTERM when the launcher dies (``PR_SET_PDEATHSIG``),
so even a launcher killed with SIGKILL leaves no process behind. A child started with
``restartable=True`` is started again after it dies (same command, environment and log file), after
a back-off (:class:`Backoff`) that gives up on a process dying over and over.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: ``prctl`` option: the signal a process gets when its parent ends.
_PR_SET_PDEATHSIG = 1
#: Seconds a child has to end after its stop signal before it is killed.
STOP_SECONDS = 15.0
#: Held back while a child starts, so that the launcher's stop handler never runs half-way through it.
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _die_with_parent(parent: int) -> Callable[[], None]:
    """A ``preexec_fn``: SIGTERM this child when the launcher ends (also after a SIGKILL)."""

    def preexec() -> None:
        signal.pthread_sigmask(signal.SIG_SETMASK, set())  # the launcher blocks its stop signals around a start
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the launcher ended before prctl took effect
            os._exit(1)

    return preexec


def as_postgres() -> str | None:
    """The user PostgreSQL programs run as: ``postgres`` when we are root, else ourselves (None)."""
    return "postgres" if os.geteuid() == 0 else None


@dataclass(frozen=True)
class Backoff:
    """When a dead child is started again: ``first_s`` after a death, doubled for each earlier death
    within ``window_s`` (at most ``most_s``); never again once it died ``limit`` times within ``window_s``."""

    first_s: float = 1.0
    most_s: float = 16.0
    limit: int = 5
    window_s: float = 60.0

    def delay(self, deaths: Sequence[float], now: float) -> float | None:
        """Seconds to wait before the next start, given the times of the deaths so far; None: give up."""
        recent = [at for at in deaths if now - at <= self.window_s]
        if len(recent) >= self.limit:
            return None
        return min(self.first_s * 2 ** max(len(recent) - 1, 0), self.most_s)


@dataclass(frozen=True)
class Spec:
    """How a child is started (kept to start it again)."""

    command: tuple[str, ...]
    env: dict[str, str] | None
    cwd: Path | None
    user: str | None


@dataclass
class Child:
    """A started child: its name, process, log file, the signal that stops it cleanly, how it was
    started and, when it may be restarted, its deaths (``time.monotonic``) and the restart's state."""

    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    stop_signal: int
    spec: Spec
    restartable: bool = False
    deaths: list[float] = field(default_factory=list)
    restart_at: float | None = None
    restarts: int = 0
    given_up: bool = False

    def died(self, now: float, backoff: Backoff) -> float | None:
        """Note a death at ``now``; the seconds until the restart, or None (given up, or not restartable)."""
        if not self.restartable:
            return None
        self.deaths.append(now)
        delay = backoff.delay(self.deaths, now)
        if delay is None:
            self.given_up = True
        else:
            self.restart_at = now + delay
        return delay

    @property
    def handled(self) -> bool:
        """Whether its death was noted already (a restart is due, or it was given up)."""
        return self.restart_at is not None or self.given_up


@dataclass
class Supervisor:
    """The children of one cluster run, stopped in the reverse order of their start."""

    log_dir: Path
    children: list[Child] = field(default_factory=list)

    def start(self, name: str, command: Sequence[str], *, env: Mapping[str, str] | None = None,
              cwd: Path | None = None, stop_signal: int = signal.SIGTERM, user: str | None = None,
              restartable: bool = False) -> Child:
        """Start ``command`` with its output in ``<log_dir>/<name>.log``; ``restartable``: start it
        again when it dies (:meth:`restart_due`, :meth:`restart`)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        spec = Spec(tuple(command), dict(env) if env is not None else None, cwd, user)
        log = self.log_dir / f"{name}.log"
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)  # a stop lands after the bookkeeping
        try:
            child = Child(name, _spawn(spec, log), log, stop_signal, spec, restartable)
            self.children.append(child)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        return child

    def restart_due(self, now: float) -> list[Child]:
        """The dead children whose restart time has come."""
        return [c for c in self.children if c.restart_at is not None and c.restart_at <= now]

    def restart(self, child: Child) -> None:
        """Start a dead child again: same command, environment and working folder, log appended."""
        self.stop(child)  # the old process group's stragglers
        with child.log.open("ab") as out:
            out.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} restarted by the launcher ---\n".encode())
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            child.proc, child.restart_at = _spawn(child.spec, child.log), None
            child.restarts += 1
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)

    def run(self, name: str, command: Sequence[str], *, env: Mapping[str, str] | None = None,
            cwd: Path | None = None, timeout_s: float = 900.0) -> None:
        """Run a one-off step (migrate, seed) to its end; raise with the log's tail when it fails."""
        child = self.start(name, command, env=env, cwd=cwd)
        try:
            code = child.proc.wait(timeout=timeout_s)
        finally:
            self.stop(child)
            self.children.remove(child)
        if code != 0:
            raise RuntimeError(f"{name} failed (exit {code}); last lines of {child.log}:\n{tail(child.log)}")

    def dead(self) -> list[Child]:
        """The children that have ended."""
        return [c for c in self.children if c.proc.poll() is not None]

    def stop(self, child: Child) -> None:
        """Stop one child and its process group: its stop signal, then SIGKILL after ``STOP_SECONDS``."""
        if child.proc.poll() is None:
            _signal_group(child.proc.pid, child.stop_signal, group=False)
            try:
                child.proc.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                _signal_group(child.proc.pid, signal.SIGKILL, group=True)
                child.proc.wait()
        _signal_group(child.proc.pid, signal.SIGKILL, group=True)  # stragglers of its session

    def stop_all(self) -> None:
        """Stop every child, the last started first."""
        for child in reversed(self.children):
            self.stop(child)


def _spawn(spec: Spec, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(  # the launcher is single-threaded: preexec_fn is safe
            list(spec.command), env=spec.env, cwd=spec.cwd, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent(os.getpid()),
            user=spec.user, group=spec.user,
        )


def _signal_group(pid: int, signum: int, *, group: bool) -> None:
    try:
        if group:
            os.killpg(pid, signum)
        else:
            os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def tail(path: Path, lines: int = 15) -> str:
    """The last ``lines`` lines of a log file (empty when it is missing)."""
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def http_ok(url: str, timeout_s: float = 2.0) -> bool:
    """Whether ``url`` answers HTTP 200 now."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def wait_healthy(supervisor: Supervisor, urls: Mapping[str, str], timeout_s: float) -> None:
    """Wait until every URL answers 200; raise when a child ends or the time runs out."""
    waiting = dict(urls)
    deadline = time.monotonic() + timeout_s
    while waiting:
        for name, url in list(waiting.items()):
            if http_ok(url):
                print(f"  healthy: {name} ({url})", flush=True)
                del waiting[name]
        ended = supervisor.dead()
        if ended:
            child = ended[0]
            raise RuntimeError(f"{child.name} ended (exit {child.proc.returncode}); last lines of "
                               f"{child.log}:\n{tail(child.log)}")
        if waiting and time.monotonic() > deadline:
            raise RuntimeError(f"not healthy within {timeout_s:.0f} s: {', '.join(sorted(waiting))}")
        if waiting:
            time.sleep(0.5)

"""``python -m cases users add|disable|enable|reset|list`` as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from store import db
from store.models import AuditEntry, User

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cases", *args], input=stdin, capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def test_users_commands(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    done = _cli("users", "add", "Wang", "--role", "worker", "--area", "370811004001001", "--name", "王伟",
                "--worker-id", "WG0001", "--password-stdin", "--db", url, stdin="Grid#2026\n")
    assert done.returncode == 0, done.stderr
    assert "added wang (worker, 370811004001001)" in done.stdout
    again = _cli("users", "add", "wang", "--role", "worker", "--area", "X", "--password-stdin", "--db", url,
                 stdin="Grid#2026\n")
    assert again.returncode == 2 and again.stderr.count("\n") == 1 and "exists already" in again.stderr
    weak = _cli("users", "add", "li", "--role", "admin", "--password-stdin", "--db", url, stdin="abc\n")
    assert weak.returncode == 2 and "shorter than 8" in weak.stderr and "Traceback" not in weak.stderr
    chief = _cli("users", "add", "zhao", "--role", "chief", "--password-stdin", "--db", url, stdin="Chief#2026\n")
    assert chief.returncode == 2 and "needs at least one area code" in chief.stderr
    assert _cli("users", "disable", "wang", "--db", url).returncode == 0
    listing = _cli("users", "list", "--db", url)
    assert listing.returncode == 0 and "wang" in listing.stdout and "disabled" in listing.stdout
    assert _cli("users", "enable", "wang", "--db", url).returncode == 0
    reset = _cli("users", "reset", "wang", "--password-stdin", "--db", url, stdin="New#Grid2026\n")
    assert reset.returncode == 0 and "password reset for wang" in reset.stdout
    missing = _cli("users", "reset", "ghost", "--password-stdin", "--db", url, stdin="New#Grid2026\n")
    assert missing.returncode == 2 and "no account called 'ghost'" in missing.stderr

    engine = db.make_engine(url)
    with engine.connect() as conn:
        user = conn.execute(select(User.username, User.display_name, User.worker_id, User.disabled)).one()
        actions = conn.execute(select(AuditEntry.action, AuditEntry.actor).order_by(AuditEntry.id)).all()
    engine.dispose()
    assert tuple(user) == ("wang", "王伟", "WG0001", False)
    assert [a for a, _ in actions] == ["user_add", "user_disable", "user_enable", "password_reset"]
    assert all(actor.startswith("cli") for _, actor in actions)

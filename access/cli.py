"""``python -m cases users add|disable|enable|reset|list``: manage local accounts.

Examples::

    python -m cases users add wang --role worker --area 370811004001001 --name 王伟 --worker-id WG0001
    python -m cases users add li --role chief --area 370811004001 --password-stdin < pw.txt
    python -m cases users disable wang
    python -m cases users reset wang          # prompts twice for the new password
    python -m cases users list

Passwords are read from the terminal (twice) or, with ``--password-stdin``, from the first line
of standard input; never from the command line, where they would land in the shell history.
Every change is audited with the actor ``cli:<operating-system user>``.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable

from access.policy import ROLES
from core.errors import GridCommandError, InputError


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _read_password(args: argparse.Namespace, *, stdin: Callable[[], str] | None = None) -> str:
    if args.password_stdin:
        line = (stdin or sys.stdin.readline)()
        return line.rstrip("\r\n")
    first = getpass.getpass("New password: ")
    second = getpass.getpass("Repeat it: ")
    if first != second:
        raise InputError("password", "the two entries differ", "type the same password twice")
    return first


def _db_option(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: an absent option leaves a --db given elsewhere on the command line in place
    parser.add_argument("--db", default=argparse.SUPPRESS, help="store URL (default: the configured store)")


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``users`` command to a ``python -m cases`` sub-parser set; returns its parser."""
    users = subparsers.add_parser("users", help="manage local accounts (add, disable, enable, reset, list)")
    _db_option(users)
    sub = users.add_subparsers(dest="users_command", required=True, metavar="{add,disable,enable,reset,list}")

    add = sub.add_parser("add", help="create an account")
    _db_option(add)
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=list(ROLES))
    add.add_argument("--area", default="", help="comma-separated codes: a chief's street/community, a worker's grid(s)")
    add.add_argument("--name", default="", help="display name")
    add.add_argument("--worker-id", default=None, help="the worker's staff number (工号)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    for name, text in (("disable", "disable an account"), ("enable", "re-enable an account and clear its lock-out")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("username")
        _db_option(cmd)

    reset = sub.add_parser("reset", help="set a new password and clear the lock-out")
    reset.add_argument("username")
    _db_option(reset)
    reset.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    _db_option(sub.add_parser("list", help="list the accounts"))
    users.set_defaults(func=run)
    return users


def run(args: argparse.Namespace, *, out: Callable[[str], None] = print) -> int:
    """Execute a parsed ``users`` command; returns the exit status (errors as one line on stderr)."""
    from access import accounts
    from core import clock
    from store import db

    try:
        engine = db.make_engine(getattr(args, "db", None))
        try:
            db.upgrade(engine)
            now = clock.now()
            with db.session_scope(engine) as session:
                command = args.users_command
                if command == "add":
                    password = _read_password(args)
                    user = accounts.add_user(session, username=args.username, password=password, role=args.role,
                                             actor=_actor(), now=now, area_codes=args.area,
                                             display_name=args.name, worker_id=args.worker_id)
                    out(f"added {user.username} ({user.role}{', ' + user.area_codes if user.area_codes else ''})")
                elif command in ("disable", "enable"):
                    user = accounts.disable_user(session, args.username, actor=_actor(), now=now,
                                                 enable=command == "enable")
                    out(f"{command}d {user.username}")
                elif command == "reset":
                    password = _read_password(args)
                    user = accounts.reset_password(session, args.username, password, actor=_actor(), now=now)
                    out(f"password reset for {user.username}")
                else:
                    rows = accounts.list_users(session)
                    out(f"{'username':<16} {'role':<10} {'status':<9} {'last sign-in':<19} area")
                    for u in rows:
                        status = "disabled" if u.disabled else ("locked" if u.locked_until and u.locked_until > now
                                                                else "active")
                        last = u.last_sign_in.strftime("%Y-%m-%d %H:%M:%S") if u.last_sign_in else "-"
                        out(f"{u.username:<16} {u.role:<10} {status:<9} {last:<19} {u.area_codes or '-'}")
        finally:
            engine.dispose()
    except GridCommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point (``python -m access.cli ...``)."""
    parser = argparse.ArgumentParser(prog="python -m cases")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())

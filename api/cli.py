"""``python -m api``: serve the API, manage channel keys and alarm devices.

Examples::

    python -m api serve [--host 127.0.0.1] [--port 8502] [--workers 1]
    python -m api keys add --channel wechat-snap [--allow report,alarm,hotline] [--rate 600]
    python -m api keys revoke k1a2b3c4d
    python -m api keys list
    python -m api devices add CAM-0001 --channel iot --lon 116.59 --lat 35.46 [--coords gcj02]
                              [--name 北门摄像头] [--category hazard] [--subcategory fire_safety] [--priority high]
    python -m api devices remove CAM-0001
    python -m api devices list

``keys add`` prints the new key on its last line (it is shown once; the store keeps its SHA-256).
Every change is audited with the actor ``cli:<operating-system user>``. ``--db URL`` picks another
store (default: the configured one). Errors are one line; exit status 2.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable

from access.database import open_store, unit_of_work
from api import devices, keys
from core import clock, constants
from core.errors import GridCommandError

Out = Callable[[str], None]


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m api", description="Grid Command intake API")
    parser.add_argument("--db", default=None, help="store URL (default: the configured store)")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the API server (uvicorn)")
    serve.add_argument("--host", default=None, help="default [api] host (127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="default [api] port (8502)")
    serve.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    serve.add_argument("--quiet", action="store_true", help="no access log")
    serve.add_argument("--root-path", default="", help="prefix a reverse proxy serves the API under, e.g. /api")
    key_cmd = sub.add_parser("keys", help="channel keys").add_subparsers(dest="action", required=True)
    add = key_cmd.add_parser("add", help="make a key (printed on the last line, once)")
    add.add_argument("--channel", required=True, help="channel name, e.g. wechat-snap, 12345, iot-vendor")
    add.add_argument("--allow", default="report", help=f"comma-separated grants from {', '.join(keys.GRANTS)}")
    add.add_argument("--rate", type=int, default=None, help="requests per minute (default: the [api] setting)")
    key_cmd.add_parser("revoke", help="revoke a key").add_argument("key_id", help="the key's id (k...)")
    key_cmd.add_parser("list", help="list the keys (ids, channels, grants; never the keys)")
    dev_cmd = sub.add_parser("devices", help="alarm devices").add_subparsers(dest="action", required=True)
    dev = dev_cmd.add_parser("add", help="register (or move) a device")
    dev.add_argument("device_id")
    dev.add_argument("--channel", required=True)
    dev.add_argument("--lon", type=float, required=True)
    dev.add_argument("--lat", type=float, required=True)
    dev.add_argument("--coords", default="wgs84", choices=list(constants.COORD_SYSTEMS))
    dev.add_argument("--name", default="")
    dev.add_argument("--category", default="hazard", choices=list(constants.CATEGORIES))
    dev.add_argument("--subcategory", default="")
    dev.add_argument("--priority", default="high", choices=list(constants.PRIORITIES))
    dev_cmd.add_parser("remove", help="deactivate a device").add_argument("device_id")
    dev_cmd.add_parser("list", help="list the devices")
    return parser


def _keys(args: argparse.Namespace, out: Out) -> int:
    engine = open_store(args.db)
    now, actor = clock.now(), _actor()
    with unit_of_work(engine) as session:
        if args.action == "add":
            row, key = keys.add_key(session, args.channel, actor=actor, now=now, allow=args.allow,
                                    rate_per_minute=args.rate)
            out(f"key id {row.key_id} for channel {row.channel} (allow {row.allow}); keep the key secret, "
                "it is not shown again:")
            out(key)
        elif args.action == "revoke":
            row = keys.revoke_key(session, args.key_id, actor=actor, now=now)
            out(f"revoked {row.key_id} ({row.channel}) at {row.revoked_at:%Y-%m-%d %H:%M:%S}")
        else:
            out("key_id     channel                  allow                 rate/min  created              revoked")
            for r in keys.list_keys(session):
                out(f"{r.key_id:<10} {r.channel:<24} {r.allow:<21} {r.rate_per_minute or '-':>8}  "
                    f"{r.created_at:%Y-%m-%d %H:%M:%S}  {f'{r.revoked_at:%Y-%m-%d %H:%M:%S}' if r.revoked_at else '-'}")
    engine.dispose()
    return 0


def _devices(args: argparse.Namespace, out: Out) -> int:
    engine = open_store(args.db)
    now, actor = clock.now(), _actor()
    with unit_of_work(engine) as session:
        if args.action == "add":
            d = devices.add_device(session, args.device_id, channel=args.channel, lon=args.lon, lat=args.lat,
                                   name=args.name, category=args.category, subcategory=args.subcategory,
                                   priority=args.priority, coords=args.coords, actor=actor, now=now)
            out(f"device {d.id} of {d.channel} at {d.lon:.7f}, {d.lat:.7f} (EPSG:4490): {d.category} {d.priority}")
        elif args.action == "remove":
            d = devices.remove_device(session, args.device_id, actor=actor, now=now)
            out(f"device {d.id} deactivated")
        else:
            out("device_id        channel          lon          lat         category  active  alarms")
            for d in devices.list_devices(session):
                out(f"{d.id:<16} {d.channel:<16} {d.lon:<12.7f} {d.lat:<11.7f} {d.category:<9} "
                    f"{'yes' if d.active else 'no':<7} {d.alarms_total}")
    engine.dispose()
    return 0


def main(argv: list[str] | None = None, *, out: Out = print) -> int:
    """Run the command line; 0 on success, 2 with one line on stderr for a user error."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            from api.serve import serve

            return serve(host=args.host, port=args.port, workers=args.workers, db=args.db, quiet=args.quiet,
                         root_path=args.root_path)
        return _keys(args, out) if args.command == "keys" else _devices(args, out)
    except GridCommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

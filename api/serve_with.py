"""``python -m api.serve_with --host H --port P -- DASHBOARD COMMAND...``: the API beside the dashboard.

``make run`` starts the dashboard through this launcher: it starts ``python -m api serve`` on its
own port, runs the dashboard command in the foreground, and stops the API when the dashboard ends
(or when the launcher is interrupted or terminated). When the API cannot start (its port is taken,
another ``make run`` has it) the dashboard still runs and a warning says how to pick another port.
"""

from __future__ import annotations

import argparse
import signal
import socket
import subprocess
import sys
import time
from types import FrameType

_STOP_SECONDS = 10.0


def port_free(host: str, port: int) -> bool:
    """Whether ``host:port`` can be bound now."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _warn(text: str) -> None:
    print(f"\n*** intake API: {text}\n", file=sys.stderr, flush=True)


def _start_api(host: str, port: int) -> subprocess.Popen[bytes] | None:
    if not port_free(host, port):
        _warn(f"port {port} on {host} is in use; the dashboard runs without the API. "
              "Fix: stop what holds the port, or `make run API_PORT=<another port>`")
        return None
    print(f"intake API: http://{host}:{port}/open311/v2/services.json (OpenAPI: /openapi.json)", flush=True)
    return subprocess.Popen([sys.executable, "-m", "api", "serve", "--host", host, "--port", str(port)])


def run(host: str, port: int, command: list[str]) -> int:
    """Run ``command`` with the API beside it; the command's exit status."""
    api = _start_api(host, port)
    dashboard = subprocess.Popen(command)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        _stop(dashboard)
        _stop(api)
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    warned = False
    try:
        while dashboard.poll() is None:
            if api is not None and api.poll() is not None and not warned:
                _warn(f"the API stopped (exit {api.returncode}); the dashboard goes on. See the lines above.")
                warned = True
            time.sleep(0.5)
    finally:
        _stop(api)
    return dashboard.returncode


def main(argv: list[str] | None = None) -> int:
    """Parse ``--host``, ``--port`` and the dashboard command after ``--``."""
    parser = argparse.ArgumentParser(prog="python -m api.serve_with")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8502)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- the dashboard command")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the dashboard command after --")
    return run(args.host, args.port, command)


if __name__ == "__main__":
    raise SystemExit(main())

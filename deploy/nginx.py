"""The nginx reverse proxy of the cluster: its configuration rendered from ``nginx.conf.template``.

Placeholders are ``@NAME@`` (nginx's own ``$variables`` stay as they are). The rendered file and
nginx's pid, temporary folders and access log live under ``<var>/nginx``. The dashboard processes
are named ``app1``, ``app2``, … in the order of their ports, as the launcher names them; the sticky
cookie holds the name of the process that last answered a browser (see the template).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"
#: The sticky-session cookie set by nginx (which dashboard process a browser is pinned to).
STICKY_COOKIE = "gc_node"
#: nginx skips a process for this many seconds after one failed connection (passive health check).
FAIL_TIMEOUT_S = 10
_PLACEHOLDER = re.compile(r"@[A-Z_]+@")


def nginx_binary() -> str | None:
    """The nginx program (``GRIDCOMMAND_NGINX`` or the one on PATH / in /usr/sbin), or None."""
    named = os.environ.get("GRIDCOMMAND_NGINX")
    if named:
        return named if Path(named).exists() else None
    return shutil.which("nginx") or (str(Path("/usr/sbin/nginx")) if Path("/usr/sbin/nginx").exists() else None)


def render(*, listen: str, app_ports: Sequence[int], api_port: int, prefix: Path, body_mb: int = 25,
           template: Path = TEMPLATE) -> str:
    """The nginx configuration for dashboard processes on ``app_ports`` and the API on ``api_port``.

    Parameters
    ----------
    listen : str
        ``host:port`` nginx listens on.
    app_ports : sequence of int
        The dashboard processes' ports on 127.0.0.1.
    api_port : int
        The intake API's port on 127.0.0.1.
    prefix : Path
        nginx's folder (pid file, temporary files, access log).
    body_mb : int
        Largest request body (uploads), MiB.
    template : Path
        The template file.

    Returns
    -------
    str
    """
    names = process_names(app_ports)
    values = {
        "@APP_SERVERS@": "\n".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout={FAIL_TIMEOUT_S}s;"
                                   for port in app_ports),
        "@APP_POOLS@": "\n".join(f"    upstream gc_{name} {{\n        server 127.0.0.1:{port};\n"
                                 f"        keepalive 8;\n    }}" for port, name in names.items()),
        "@NODE_ROUTES@": "\n".join(f'        "~^{name}\\." gc_{name};' for name in names.values()),
        "@NODE_NAMES@": "\n".join(f'        "~(^| )127\\.0\\.0\\.1:{port}$" {name};' for port, name in names.items()),
        "@API_PORT@": str(api_port), "@LISTEN@": listen, "@PREFIX@": str(prefix), "@BODY_MB@": str(body_mb),
        "@COOKIE@": STICKY_COOKIE,
    }
    text = template.read_text(encoding="utf-8")
    text = _PLACEHOLDER.sub(lambda m: values.get(m.group(0), m.group(0)), text)
    left = sorted(set(_PLACEHOLDER.findall(text)))
    if left:
        raise ValueError(f"{template}: unknown placeholder(s) {', '.join(left)}")
    return text


def process_names(app_ports: Sequence[int]) -> dict[int, str]:
    """The dashboard processes' names by port: ``app1``, ``app2``, … (the launcher's names)."""
    return {port: f"app{number}" for number, port in enumerate(app_ports, start=1)}


def write_config(text: str, prefix: Path) -> Path:
    """Write the configuration to ``<prefix>/nginx.conf`` (and make the temporary folders)."""
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    path = prefix / "nginx.conf"
    path.write_text(text, encoding="utf-8")
    return path


def command(binary: str, config: Path, prefix: Path) -> list[str]:
    """The foreground nginx command for ``config``."""
    return [binary, "-p", str(prefix), "-c", str(config), "-e", "stderr", "-g", "daemon off;"]


def check(binary: str, config: Path, prefix: Path) -> None:
    """``nginx -t`` on the configuration; raise with nginx's message when it is refused."""
    done = subprocess.run([binary, "-t", "-q", "-p", str(prefix), "-c", str(config), "-e", "stderr"],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"nginx refused {config}:\n{done.stderr.strip()}")

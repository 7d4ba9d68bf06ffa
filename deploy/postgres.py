"""A local PostgreSQL + PostGIS server for the demo cluster, the way the tests start one.

The data directory (``<var>/pg/data``) is created by ``initdb`` on the first run and kept between
runs; the server listens on 127.0.0.1 only, with ``trust`` authentication (a demo on one machine:
never expose it). As root, the server runs as the ``postgres`` user. ``postgres`` itself runs in
the foreground as a child of the launcher.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from deploy.processes import as_postgres

PG_BIN = Path(os.environ.get("GRIDCOMMAND_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_EXTENSIONS = Path(os.environ.get("GRIDCOMMAND_PG_EXTENSIONS", "/usr/share/postgresql/15/extension"))
DATABASE = "gridcommand"


def postgis_missing() -> str | None:
    """Why a local PostGIS server cannot start here, or None when it can."""
    if not (PG_BIN / "initdb").exists():
        return f"PostgreSQL 15 not found in {PG_BIN} (Debian package postgresql-15)"
    if not (PG_EXTENSIONS / "postgis.control").exists():
        return "PostGIS not installed (Debian packages postgresql-15-postgis-3 postgis)"
    return None


@dataclass(frozen=True)
class LocalPostgis:
    """The demo's server: data under ``root``, listening on 127.0.0.1:``port``."""

    root: Path
    port: int
    max_connections: int = 200

    @property
    def data(self) -> Path:
        """The data directory."""
        return self.root / "data"

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the demo database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def init(self) -> None:
        """Create the data directory with ``initdb`` unless it exists (owned by ``postgres`` as root)."""
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            self.root.chmod(0o755)
            shutil.chown(self.root, "postgres", "postgres")
        if (self.data / "PG_VERSION").exists():
            return
        done = subprocess.run(
            [str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
             "--locale=C.UTF-8"], capture_output=True, text=True, check=False, user=as_postgres(),
            group=as_postgres())
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed in {self.data} (is every parent folder readable by the postgres "
                               f"user?):\n{done.stderr.strip()}")

    def command(self) -> list[str]:
        """The foreground ``postgres`` command."""
        return [str(PG_BIN / "postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.root),
                "-c", "listen_addresses=127.0.0.1", "-c", f"max_connections={self.max_connections}"]

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Wait until the server accepts connections."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            ready = subprocess.run([str(PG_BIN / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
                                   check=False)
            if ready.returncode == 0:
                return
            time.sleep(0.3)
        raise RuntimeError(f"PostgreSQL on port {self.port} not ready within {timeout_s:.0f} s")

    def _psql(self, sql: str, database: str = "postgres") -> str:
        done = subprocess.run(
            [str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database,
             "-v", "ON_ERROR_STOP=1", "-tAc", sql], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"psql {sql!r} failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def create_database(self) -> None:
        """Create the demo database with the PostGIS extension unless they exist."""
        if self._psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'") != "1":
            self._psql(f"CREATE DATABASE {DATABASE}")
        self._psql("CREATE EXTENSION IF NOT EXISTS postgis", database=DATABASE)

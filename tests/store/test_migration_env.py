"""The Alembic environment's target metadata covers the people tables: autogenerate against a
freshly migrated store finds no difference (it would otherwise propose dropping users,
audit_log, households, visits and worker_tracks). Run in a fresh interpreter so no earlier
import of ``store.models`` can hide a missing import in ``env.py``."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
from alembic import command
from sqlalchemy import create_engine
from store import db
url = sys.argv[1]
db.upgrade(url)
engine = create_engine(url)
config = db._alembic_config(engine)
with engine.begin() as connection:
    config.attributes["connection"] = connection
    command.check(config)
print("no differences")
"""


def test_autogenerate_sees_no_difference_in_a_fresh_interpreter(tmp_path, project_root):
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    done = subprocess.run([sys.executable, "-c", SCRIPT, url], cwd=project_root, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "no differences" in done.stdout

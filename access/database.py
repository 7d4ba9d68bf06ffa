"""How pages and command lines open the store: one engine per URL (migrated on first use) and
units of work. Pages never import ``store`` themselves; they come through here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from store import db


def open_store(url: str | None = None, *, migrate: bool = True) -> Engine:
    """The store's engine at ``url`` (default the configured one), migrated to the newest schema."""
    engine = db.make_engine(url)
    if migrate:
        db.upgrade(engine)
    return engine


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error (objects stay readable after)."""
    with db.session_scope(engine) as session:
        yield session


def read_session(engine: Engine) -> Session:
    """A session for reads (use it as a context manager; nothing is committed)."""
    return db.session_factory(engine)()

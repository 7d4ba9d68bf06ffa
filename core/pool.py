"""How many database connections one process may hold: the SQLAlchemy pool of the PostgreSQL store.

Set by the environment so that a cluster of N processes can be sized against PostgreSQL's
``max_connections`` (``make run-cluster`` does it): ``GRIDCOMMAND_DB_POOL_SIZE`` connections kept
open, ``GRIDCOMMAND_DB_MAX_OVERFLOW`` more opened under load. Defaults: 10 and 10. SQLite keeps
SQLAlchemy's own pooling (one file, no server connections).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from core.errors import InputError

DEFAULT_POOL_SIZE = 10
DEFAULT_MAX_OVERFLOW = 10
ENV_POOL_SIZE = "GRIDCOMMAND_DB_POOL_SIZE"
ENV_MAX_OVERFLOW = "GRIDCOMMAND_DB_MAX_OVERFLOW"


@dataclass(frozen=True)
class PoolLimits:
    """``size`` connections kept open, ``overflow`` more at peak; ``size + overflow`` at most."""

    size: int = DEFAULT_POOL_SIZE
    overflow: int = DEFAULT_MAX_OVERFLOW

    @property
    def most(self) -> int:
        """The most connections one engine opens."""
        return self.size + self.overflow


def _count(name: str, default: int, least: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < least:
        raise InputError(name, f"{raw!r} is not a whole number of at least {least}",
                         f"set e.g. {name}={default}, or unset it for the default")
    return int(raw)


def pool_limits() -> PoolLimits:
    """The limits from the environment (:data:`ENV_POOL_SIZE`, :data:`ENV_MAX_OVERFLOW`)."""
    return PoolLimits(_count(ENV_POOL_SIZE, DEFAULT_POOL_SIZE, 1), _count(ENV_MAX_OVERFLOW, DEFAULT_MAX_OVERFLOW, 0))

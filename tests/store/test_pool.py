"""The PostgreSQL connection pool of one process is sized by the environment (a cluster of N
processes must fit PostgreSQL's max_connections); a bad value is refused in one line."""

from __future__ import annotations

import pytest

from core.errors import InputError
from store.db import make_engine

URL = "postgresql+psycopg://gc@127.0.0.1:1/none"  # an engine does not connect until it is used


def test_the_pool_takes_its_size_from_the_environment(monkeypatch):
    monkeypatch.delenv("GRIDCOMMAND_DB_POOL_SIZE", raising=False)
    monkeypatch.delenv("GRIDCOMMAND_DB_MAX_OVERFLOW", raising=False)
    default = make_engine(URL)
    assert (default.pool.size(), default.pool._max_overflow) == (10, 10)
    monkeypatch.setenv("GRIDCOMMAND_DB_POOL_SIZE", "3")
    monkeypatch.setenv("GRIDCOMMAND_DB_MAX_OVERFLOW", "0")
    small = make_engine(URL)
    assert (small.pool.size(), small.pool._max_overflow) == (3, 0)


@pytest.mark.parametrize("value", ["0", "ten", "-1", "2.5"])
def test_a_bad_pool_size_is_refused_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv("GRIDCOMMAND_DB_POOL_SIZE", value)
    with pytest.raises(InputError, match="GRIDCOMMAND_DB_POOL_SIZE") as raised:
        make_engine(URL)
    assert "\n" not in str(raised.value) and "Fix" in str(raised.value)

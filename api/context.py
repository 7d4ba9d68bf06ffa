"""What every request of one server process shares: the store's engine, the API settings, the
hierarchy (join index and address look-up, read once), the routing rules, the rate limiter and the
writer thread."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from api.geocode import AddressIndex
from api.limits import RateLimiter
from api.writer import Writer
from core.api_settings import ApiSettings


@dataclass
class ApiContext:
    """The shared state of one server process.

    Attributes
    ----------
    engine : Engine
        The case store.
    settings : ApiSettings
        The ``[api]`` settings.
    hierarchy : path, dict of layers or None
        The grid hierarchy (default the ``hierarchy_path`` setting), read on first use.
    limiter : RateLimiter
        Token buckets per key and per client address.
    """

    engine: Engine
    settings: ApiSettings
    hierarchy: Any = None
    limiter: RateLimiter = field(default_factory=RateLimiter)
    writer: Writer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _index: Any = field(default=None, repr=False)
    _address: AddressIndex | None = field(default=None, repr=False)
    _rules: Any = field(default=None, repr=False)

    def _load(self) -> None:
        import geo
        from cases import routing

        hierarchy = self.hierarchy
        if hierarchy is None:
            from core.settings import load_settings

            hierarchy = load_settings().hierarchy_path
        layers = hierarchy if isinstance(hierarchy, dict) else geo.read_hierarchy(Path(hierarchy))
        self._index = geo.HierarchyIndex(layers)
        self._address = AddressIndex(layers)
        self._rules = routing.load_rules()

    def loaded(self) -> tuple[Any, AddressIndex, Any]:
        """The join index, the address look-up and the routing rules (read on first use)."""
        with self._lock:
            if self._index is None:
                self._load()
            assert self._address is not None
            return self._index, self._address, self._rules

    def start(self) -> None:
        """Read the hierarchy and start the writer thread (at server start-up)."""
        from api.reports import store_reports

        self.loaded()
        if self.writer is None:
            self.writer = Writer(lambda payloads: store_reports(self, payloads))
        self.writer.start()

    def stop(self) -> None:
        """Finish queued writes and stop the writer thread (at server shutdown)."""
        if self.writer is not None:
            self.writer.stop()

"""Running the API under uvicorn (``python -m api serve``): the configured store is migrated once
before the server processes start, then each process builds the app (``api.app:create_app``)."""

from __future__ import annotations

import os

from core.api_settings import load_api_settings


def serve(*, host: str | None = None, port: int | None = None, workers: int = 1, db: str | None = None,
          quiet: bool = False, root_path: str = "") -> int:
    """Serve until stopped (SIGINT/SIGTERM); 0 after a clean stop.

    Parameters
    ----------
    host, port : optional
        Default the ``[api]`` settings (127.0.0.1:8502; env ``GRIDCOMMAND_API_HOST``/``_PORT``).
    workers : int
        Server processes (each with its own writer thread and rate-limit buckets).
    db : str, optional
        Store URL (sets ``DATABASE_URL`` for the server processes).
    quiet : bool
        No access log.
    root_path : str
        The prefix a reverse proxy serves the API under (``/api`` behind ``make run-cluster``'s
        nginx), so that the OpenAPI page links its document there.
    """
    import uvicorn

    from access.database import open_store

    if db:
        os.environ["DATABASE_URL"] = db
    settings = load_api_settings()
    open_store().dispose()  # migrate once, before several processes would race to
    uvicorn.run("api.app:create_app", factory=True, host=host or settings.host, port=port or settings.port,
                workers=max(1, workers), access_log=not quiet, log_level="info", server_header=False,
                timeout_graceful_shutdown=10, root_path=root_path)
    return 0

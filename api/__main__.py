"""Entry point of ``python -m api`` (see :mod:`api.cli`)."""

from api.cli import main

raise SystemExit(main())

"""Entry point of ``python -m cases`` (see :mod:`cases.cli`)."""

from cases.cli import main

raise SystemExit(main())

"""``python -m registry``: import the registry, coverage and visit plans (see :mod:`registry.cli`)."""

from registry.cli import main

raise SystemExit(main())

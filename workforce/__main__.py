"""``python -m workforce``: patrol coverage from GPS tracks (see :mod:`workforce.cli`)."""

from workforce.cli import main

raise SystemExit(main())

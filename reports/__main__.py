"""``python -m reports``: weekly, monthly and quarterly reports (see :mod:`reports.cli`)."""

from reports.cli import main

raise SystemExit(main())

"""Key populations (一键可知) and their visits (四访): the registry of persons by group and visit
frequency (``groups``), its import from community spreadsheets (``roster``, ``checks``, ``places``,
``roster_import``, GB 11643 ``idnumber``), who is planned, visited and verified in a period
(``population``, ``schedule``, ``status``, ``suspicion``), visit plans (``plans``), the month's
visits with verdicts (``visit_log``), the person card (``cards``) and its changes
(``person_commands``), recording a visit (``commands``), the read API (``queries``) and the
command line (``cli``). Coverage figures live in ``metrics.coverage``."""

"""Leaders' reports (周报 / 月报 / 季报) as PDF and PPTX, and the big screen's panels, from
:mod:`metrics.briefing`: ``python -m reports weekly|monthly|quarterly --period P --out FILE``."""

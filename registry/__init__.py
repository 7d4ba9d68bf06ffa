"""Four visits (四访): households and persons to visit, visits with the on-site rule, to-visit
lists; coverage figures live in ``metrics.coverage``."""

"""Local scale-out deployment: N dashboard processes and the intake API behind nginx, on PostGIS.

``python -m deploy.cluster`` (``make run-cluster``) runs it all in the foreground; see
``deploy/README.md``. Nothing in the application imports this package.
"""

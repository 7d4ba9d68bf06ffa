"""Case store and closed-loop dispatch engine (no Streamlit here).

Modules: db (engine, migrations, sessions), models (ORM), lifecycle (the state machine),
deadlines (SLAs, due status), routing (rules), intake (file import), kpi (every number),
reads (case reads for pages and CLI), demo (seed-demo). CLI: ``python -m cases``.
"""

"""Shared constants, settings, error classes and UI labels for Grid Command.

Nothing here imports Streamlit, a database driver or folium: every other package may depend on
``core`` and ``core`` depends on nothing of the project's.
"""

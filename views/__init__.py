"""Streamlit pages (thin: they call the packages and hold no business rules) and their helpers."""

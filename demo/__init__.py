"""Seeding the demo store: workers, cases replayed through the lifecycle, four-visit people, accounts.

Imported only by the command lines and the tests.
"""

"""Starts the scheduled jobs (:mod:`cases.scheduled`) once per app process, when asked to.

``make run`` sets ``GRIDCOMMAND_JOBS=1``; page tests and bare runs leave the jobs off. Several app
processes may each start a runner: the job's lease in the store lets one of them run it at a time.
"""

from __future__ import annotations

import os

import streamlit as st

from cases.scheduled import JobRunner
from views._auth import store_engine

#: The environment variable that turns the jobs on ("1").
JOBS_ENV = "GRIDCOMMAND_JOBS"


@st.cache_resource(show_spinner=False)
def _runner() -> JobRunner:
    runner = JobRunner(store_engine())
    runner.start()
    return runner


def start_jobs() -> JobRunner | None:
    """The process's job runner (started on the first call), or None when the jobs are off."""
    if os.environ.get(JOBS_ENV) != "1":
        return None
    return _runner()

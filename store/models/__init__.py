"""ORM models of the store, one module per topic (importing this package registers every table).

- :mod:`store.models.cases`: categories, departments, cases, case events
- :mod:`store.models.people`: grid workers and chiefs, GPS fixes, four-visit households and visits
- :mod:`store.models.access`: accounts, the audit log, browser sessions
- :mod:`store.models.api`: the intake API's keys, devices, nonces and submissions
"""

from store.models.access import AuditEntry, JobLease, User, WebSession
from store.models.api import ApiDevice, ApiKey, ApiNonce, ApiSubmission
from store.models.base import Base, table_of
from store.models.cases import Case, CaseEvent, CasePhoto, Category, Department
from store.models.people import CaseCoHandler, Household, TeamMember, Visit, Worker, WorkerTrack

#: Tables that hold data (truncated by tests, counted by ``seed-demo``), children first.
DATA_TABLES: tuple[str, ...] = ("case_cohandlers", "case_photos", "case_events", "cases", "team_members", "workers",
                                 "departments")
#: Tables of people and access, children first.
PEOPLE_TABLES: tuple[str, ...] = ("web_sessions", "worker_tracks", "visits", "households", "audit_log", "users")

__all__ = ["DATA_TABLES", "PEOPLE_TABLES", "ApiDevice", "ApiKey", "ApiNonce", "ApiSubmission", "AuditEntry", "Base",
           "Case", "CaseCoHandler", "CaseEvent", "CasePhoto", "Category", "Department", "Household", "JobLease",
           "TeamMember", "User", "Visit", "WebSession", "Worker", "WorkerTrack", "table_of"]

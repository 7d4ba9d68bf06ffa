"""What a caller sees of personal data in a frame of rows: masked for record roles, blank for
aggregate-only roles, phone and ID numbers scrubbed from free text.

The personal fields of each record kind are named here once; the read APIs pass every frame
through :func:`protect` before it leaves them.
"""

from __future__ import annotations

import pandas as pd

from access.masking import MASKERS, map_unique, mask_frame, scrub_text
from access.scope import Scope

#: Personal fields of each record kind and their masking kind.
PERSONAL_FIELDS: dict[str, dict[str, str]] = {
    "case": {"reporter_name": "name", "reporter_phone": "phone"},
    "household": {"head_name": "name", "id_number": "id", "phone": "phone"},
    "visit": {"head_name": "name"},
    "team_member": {"name": "name", "phone": "phone"},
}
#: Free-text fields scrubbed of phone and ID numbers.
TEXT_FIELDS: dict[str, tuple[str, ...]] = {"case": ("text",), "visit": ("outcome",), "event": ("note",)}


def protect(frame: pd.DataFrame, kind: str, scope: Scope) -> pd.DataFrame:
    """Mask (or, for aggregate-only roles, blank) the personal columns of ``kind`` and scrub free text.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows of one record kind (``case``, ``household``, ``visit``, ``event``).
    kind : str
        Key of :data:`PERSONAL_FIELDS` / :data:`TEXT_FIELDS`.
    scope : Scope
        The caller; without ``read_records`` personal columns come out empty and numbers in
        text are redacted.

    Returns
    -------
    pandas.DataFrame
        A new frame; the input is not changed.
    """
    personal = {c: k for c, k in PERSONAL_FIELDS.get(kind, {}).items() if c in frame.columns}
    redact = not scope.records_allowed
    out = mask_frame(frame, personal, blank=redact)
    for column in TEXT_FIELDS.get(kind, ()):
        if column in out.columns:
            out[column] = map_unique(out[column], lambda v: scrub_text(v, redact=redact) if isinstance(v, str) else v)
    return out


def masked(kind: str, field: str, value: str | None) -> str | None:
    """Mask one value the way the lists do (for pages that show a single record)."""
    return MASKERS[PERSONAL_FIELDS[kind][field]](value)

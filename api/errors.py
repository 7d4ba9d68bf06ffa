"""Errors of the API: one class naming the field, what is wrong and the fix, rendered as JSON
(``{"error": {...}}``) or, under ``/open311/``, in GeoReport v2's error format (JSON or XML).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from core.errors import InputError


@dataclass(eq=False)
class ApiError(Exception):
    """A refused request.

    Attributes
    ----------
    status : int
        HTTP status (400 bad value, 401 no key, 403 bad key, 404 unknown, 409 conflict, 413 too
        large, 422 unusable value, 429 rate limit, 503 busy).
    field : str
        The request field (form field, query parameter or header) at fault, or ``""``.
    message : str
        What is wrong.
    fix : str
        What the client should do.
    headers : dict
        Extra response headers (``Retry-After``).
    reason : str
        A short key for the audit log (``bad_value``, ``no_key``, ``rate_limited`` ...).
    """

    status: int
    field: str
    message: str
    fix: str
    headers: dict[str, str] = dc_field(default_factory=dict)
    reason: str = "bad_value"

    def __post_init__(self) -> None:
        super().__init__(self.text())

    def text(self) -> str:
        """One line: ``field: message. Fix: fix``."""
        lead = f"{self.field}: " if self.field else ""
        return f"{lead}{self.message}. Fix: {self.fix}"

    def body(self) -> dict[str, Any]:
        """The JSON body of the API's own endpoints."""
        return {"error": {"code": self.status, "field": self.field, "message": self.message, "fix": self.fix,
                          "description": self.text()}}

    def open311(self) -> list[dict[str, Any]]:
        """The GeoReport v2 error list (``[{"code": ..., "description": ...}]``)."""
        return [{"code": self.status, "description": self.text()}]


def from_input_error(exc: InputError, *, status: int = 400, field_name: str | None = None) -> ApiError:
    """An :class:`ApiError` from the project's :class:`~core.errors.InputError` (its source is the field)."""
    where = f" ({exc.where})" if exc.where else ""
    return ApiError(status, field_name or exc.source, f"{exc.problem}{where}", exc.fix)


def bad(field_name: str, message: str, fix: str, *, status: int = 400) -> ApiError:
    """A 400 (or ``status``) for one field."""
    return ApiError(status, field_name, message, fix)


#: The JSON schema of the API's error body, for the OpenAPI document.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"error": {"type": "object", "properties": {
        "code": {"type": "integer"}, "field": {"type": "string"}, "message": {"type": "string"},
        "fix": {"type": "string"}, "description": {"type": "string"}}}},
}
#: GeoReport v2's error list, for the OpenAPI document.
OPEN311_ERROR_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {"type": "object", "properties": {"code": {"type": "integer"}, "description": {"type": "string"}}},
}


def error_responses(*codes: int, open311: bool = False) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the error codes an endpoint may answer."""
    schema = OPEN311_ERROR_SCHEMA if open311 else ERROR_SCHEMA
    content: dict[str, Any] = {"application/json": {"schema": schema}}
    if open311:
        content["application/xml"] = {"schema": {"type": "string"}}
    return {code: {"description": "refused (the body names the field and the fix)", "content": content}
            for code in codes}

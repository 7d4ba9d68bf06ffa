"""Answers in GeoReport v2's two formats: ``.json`` or ``.xml`` by the path's suffix."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from starlette.responses import JSONResponse, Response

from api.xml import to_xml

XML_TYPE = "application/xml; charset=utf-8"


class Format(StrEnum):
    """The suffix of a GeoReport path."""

    json = "json"
    xml = "xml"


def respond(fmt: Format | str, root: str, item: str, rows: Any, *, status: int = 200,
            headers: dict[str, str] | None = None) -> Response:
    """``rows`` as JSON, or as XML under ``root`` with one ``item`` element per row."""
    if str(getattr(fmt, "value", fmt)) == "xml":
        return Response(to_xml(root, item, rows), status_code=status, media_type=XML_TYPE, headers=headers)
    return JSONResponse(rows, status_code=status, headers=headers)


def content(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI ``content`` of an answer given as JSON (``schema``) or as XML."""
    return {"application/json": {"schema": schema}, "application/xml": {"schema": {"type": "string"}}}

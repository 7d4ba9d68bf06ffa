"""GeoReport v2's XML twins of the JSON answers: a root element holding one element per row,
each row's keys as child elements (lists as repeated elements, ``None`` as an empty element).

Examples
--------
>>> to_xml("services", "service", [{"service_code": "a", "metadata": True}]).splitlines()[1]
'<services><service><service_code>a</service_code><metadata>true</metadata></service></services>'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from xml.etree import ElementTree as ET

#: Characters XML 1.0 cannot carry (control characters but tab, newline and carriage return).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
#: Child element names of list values (GeoReport's ``attributes`` → ``attribute`` ...).
_ITEM_TAGS = {"attributes": "attribute", "values": "value", "keywords": "keyword", "problems": "problem"}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _fill(ET.SubElement(element, str(key)), item)
    elif isinstance(value, list | tuple):
        tag = _ITEM_TAGS.get(element.tag, "item")
        for item in value:
            _fill(ET.SubElement(element, tag), item)
    else:
        element.text = _text(value)


def to_xml(root: str, item: str, rows: Iterable[Mapping[str, Any]] | Mapping[str, Any]) -> str:
    """The XML document of ``rows`` (or of one mapping, directly under ``root`` when ``item`` is empty).

    Parameters
    ----------
    root : str
        Root element (``services``, ``service_requests``, ``errors``, ``service_definition``).
    item : str
        Element of each row (``service``, ``request``, ``error``); ``""`` to put one mapping's
        keys directly under the root.
    rows : iterable of mappings, or a mapping
        The values; text is escaped, characters XML cannot carry are dropped.

    Returns
    -------
    str
        UTF-8 XML with its declaration.
    """
    element = ET.Element(root)
    if isinstance(rows, Mapping):
        _fill(element if not item else ET.SubElement(element, item), rows)
    else:
        for row in rows:
            _fill(ET.SubElement(element, item), row)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(element, encoding="unicode")

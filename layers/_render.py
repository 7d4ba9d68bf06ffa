"""Render folium elements without a second template pass over their output.

branca's ``MacroElement.render`` wraps each rendered macro (header, html, script) in a new
``Element``, which compiles that *output* as a Jinja template again. For elements whose output
carries data (case texts, names, GeoJSON) that is slow (the lexer walks megabytes) and unsafe:
an incident text holding ``{% if %}`` breaks the page and ``{{ ... }}`` would be evaluated on
the server. :class:`RawRender` puts the output into the figure as it is.
"""

from __future__ import annotations

from typing import Any

from branca.element import Element, Figure, MacroElement


class RawText(Element):
    """Text placed in a figure as it is (no template compiled from it)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "RawText"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


class RawRender(MacroElement):
    """Mixin: render the element's header/html/script macros once, output kept verbatim."""

    def render(self, **kwargs: Any) -> None:
        figure = self.get_root()
        if not isinstance(figure, Figure):
            msg = f"{type(self).__name__} renders only inside a map on a figure (add it to a folium map first)"
            raise TypeError(msg)
        module = self._template.module.__dict__
        for part in ("header", "html", "script"):
            if part in module:
                getattr(figure, part).add_child(RawText(module[part](self, kwargs)), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)

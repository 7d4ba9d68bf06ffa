"""Offline front-end assets: install them into ``static/vendor/`` and point folium at them.

Leaflet, jQuery, Font Awesome and Leaflet.markercluster come from the XStatic PyPI packages in
the virtualenv (``requirements-assets.txt``); Leaflet.awesome-markers and Leaflet.heat, which
PyPI lacks, come from the npm registry (``npm pack`` of a pinned version). Nothing is committed:
``python -m layers.assets install`` copies them at set-up time, and Streamlit serves
``./static`` at ``/app/static/`` (``server.enableStaticServing`` in ``.streamlit/config.toml``).

:func:`localize` rewrites every folium element's ``default_js``/``default_css`` to those local
URLs (dropping the ones the dashboard does not need, such as Bootstrap and glyphicons) and
refuses any asset it does not know, so a map can never load a file from outside the machine.
:func:`offline_map` builds a :class:`OfflineMap` that does this on every render, which covers
both ``Map.get_root().render()`` and ``streamlit_folium.st_folium``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import branca.colormap
import folium
from branca.element import Figure, MacroElement
from folium.elements import JSCSSMixin
from folium.template import Template

from core.errors import GridCommandError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: Where the assets are installed (gitignored).
VENDOR_DIR = PROJECT_ROOT / "static" / "vendor"
#: URL prefix under which Streamlit serves ``static/``.
STATIC_URL = "/app/static"
VENDOR_URL = f"{STATIC_URL}/vendor"
#: The project's own style sheet (committed, ``static/css/gridcommand.css``).
STYLE_URL = f"{STATIC_URL}/css/gridcommand.css"
#: Deepest zoom of the map (building level).
MAX_ZOOM = 19
#: Background of a map without a basemap.
PLAIN_BACKGROUND = "#eef0ec"


@dataclass(frozen=True)
class Package:
    """One front-end package and the files taken from it.

    ``files`` maps a path inside the package (a file or a folder) to a path under
    ``static/vendor/<name>/``.
    """

    name: str
    source: str  # "pypi" (an XStatic module) or "npm"
    package: str  # module name for pypi, package name for npm
    version: str
    files: tuple[tuple[str, str], ...]


PACKAGES: tuple[Package, ...] = (
    Package("leaflet", "pypi", "xstatic.pkg.leaflet", "1.9.3",
            (("leaflet.js", "leaflet.js"), ("leaflet.css", "leaflet.css"), ("images", "images"))),
    Package("jquery", "pypi", "xstatic.pkg.jquery", "3.7.1",
            (("jquery.min.js", "jquery.min.js"),)),
    Package("fontawesome", "pypi", "xstatic.pkg.font_awesome", "6.2.1",
            (("css/all.min.css", "css/all.min.css"), ("webfonts", "webfonts"))),
    Package("markercluster", "pypi", "xstatic.pkg.leaflet_markercluster", "1.4.1",
            (("leaflet.markercluster.js", "leaflet.markercluster.js"),
             ("MarkerCluster.css", "MarkerCluster.css"),
             ("MarkerCluster.Default.css", "MarkerCluster.Default.css"))),
    Package("awesome-markers", "npm", "drmonty-leaflet-awesome-markers", "2.0.2",
            (("js/leaflet.awesome-markers.min.js", "leaflet.awesome-markers.min.js"),
             ("css/leaflet.awesome-markers.css", "leaflet.awesome-markers.css"),
             ("css/images", "images"))),
    Package("leaflet-heat", "npm", "leaflet.heat", "0.2.0",
            (("dist/leaflet-heat.js", "leaflet-heat.js"),)),
)

#: folium's asset names -> path under ``static/vendor``.
LOCAL_ASSETS: dict[str, str] = {
    "leaflet": "leaflet/leaflet.js",
    "leaflet_css": "leaflet/leaflet.css",
    "jquery": "jquery/jquery.min.js",
    "awesome_markers": "awesome-markers/leaflet.awesome-markers.min.js",
    "awesome_markers_css": "awesome-markers/leaflet.awesome-markers.css",
    "awesome_markers_font_css": "fontawesome/css/all.min.css",
    "markerclusterjs": "markercluster/leaflet.markercluster.js",
    "markerclustercss": "markercluster/MarkerCluster.css",
    "markerclusterdefaultcss": "markercluster/MarkerCluster.Default.css",
    "leaflet-heat.js": "leaflet-heat/leaflet-heat.js",
}
#: folium defaults the dashboard does not use; dropped instead of fetched.
DROPPED_ASSETS: frozenset[str] = frozenset(
    {"bootstrap", "bootstrap_css", "glyphicons_css", "awesome_rotate_css"}
)

#: Assets only folium.Icon markers need (left out of maps without one).
ICON_ASSETS: frozenset[str] = frozenset({"awesome_markers", "awesome_markers_css", "awesome_markers_font_css"})

_STAMP = ".installed.json"


class AssetError(GridCommandError):
    """A front-end asset cannot be installed, or a map asks for one that is not local."""


# --- install -----------------------------------------------------------------------------


def _stamp_ok(target: Path, pkg: Package) -> bool:
    stamp = target / _STAMP
    if not stamp.exists():
        return False
    try:
        recorded = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if recorded.get("version") != pkg.version or recorded.get("package") != pkg.package:
        return False
    return all((target / dest).exists() for _, dest in pkg.files)


def _pypi_root(pkg: Package) -> Path:
    try:
        module = importlib.import_module(pkg.package)
    except ImportError as exc:
        msg = (f"{pkg.name}: Python package {pkg.package} is not installed "
               f"(fix: .venv/bin/pip install -r requirements-assets.txt, or `make setup`)")
        raise AssetError(msg) from exc
    version = str(getattr(module, "VERSION", ""))
    if version != pkg.version:
        msg = (f"{pkg.name}: {pkg.package} is version {version or '?'}, expected {pkg.version} "
               f"(fix: .venv/bin/pip install -r requirements-assets.txt)")
        raise AssetError(msg)
    return Path(module.BASE_DIR)


def _npm_root(pkg: Package, work: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        msg = (f"{pkg.name}: npm is not installed, needed for {pkg.package}@{pkg.version} "
               f"(fix: apt-get install npm)")
        raise AssetError(msg)
    spec = f"{pkg.package}@{pkg.version}"
    proc = subprocess.run(
        [npm, "pack", spec, "--silent", "--pack-destination", str(work)],
        capture_output=True, text=True, check=False, cwd=work,
    )
    tarballs = sorted(work.glob("*.tgz"))
    if proc.returncode != 0 or not tarballs:
        detail = (proc.stderr.strip().splitlines() or ["no tarball"])[-1]
        msg = f"{pkg.name}: `npm pack {spec}` failed ({detail}) (fix: check access to the npm registry)"
        raise AssetError(msg)
    with tarfile.open(tarballs[0]) as tar:
        tar.extractall(work / "unpacked", filter="data")
    return work / "unpacked" / "package"


def install_package(pkg: Package, *, vendor_dir: Path = VENDOR_DIR, force: bool = False) -> bool:
    """Install one package into ``vendor_dir/<name>``.

    Parameters
    ----------
    pkg : Package
    vendor_dir : Path
        Destination root (default ``static/vendor``).
    force : bool
        Reinstall even if the recorded version is already there.

    Returns
    -------
    bool
        True if files were copied, False if the package was already installed.
    """
    target = vendor_dir / pkg.name
    if not force and _stamp_ok(target, pkg):
        return False
    vendor_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{pkg.name}-", dir=vendor_dir) as tmp:
        work = Path(tmp)
        root = _pypi_root(pkg) if pkg.source == "pypi" else _npm_root(pkg, work)
        staged = work / "staged"
        for src, dest in pkg.files:
            source = root / src
            if not source.exists():
                msg = f"{pkg.name}: {src} is missing from {pkg.package} {pkg.version} (fix: reinstall it)"
                raise AssetError(msg)
            out = staged / dest
            out.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, out)
            else:
                shutil.copy2(source, out)
        stamp = {"package": pkg.package, "version": pkg.version, "source": pkg.source}
        (staged / _STAMP).write_text(json.dumps(stamp), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        staged.rename(target)
    return True


def install(*, vendor_dir: Path = VENDOR_DIR, force: bool = False) -> list[str]:
    """Install every package of :data:`PACKAGES`; return the names actually copied."""
    return [p.name for p in PACKAGES if install_package(p, vendor_dir=vendor_dir, force=force)]


def missing_assets(*, vendor_dir: Path = VENDOR_DIR) -> list[str]:
    """Local asset files (paths under ``vendor_dir``) that are not installed."""
    return [rel for rel in LOCAL_ASSETS.values() if not (vendor_dir / rel).exists()]


# --- folium ------------------------------------------------------------------------------


def local_url(name: str) -> str:
    """The local URL of folium asset ``name`` (a key of :data:`LOCAL_ASSETS`)."""
    return f"{VENDOR_URL}/{LOCAL_ASSETS[name]}"


def _localize_list(element: object, links: list[tuple[str, str]], kind: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name, url in links:
        if name in DROPPED_ASSETS:
            continue
        if name in LOCAL_ASSETS:
            out.append((name, local_url(name)))
        elif url.startswith(STATIC_URL + "/"):
            out.append((name, url))
        else:
            msg = (f"{type(element).__name__} needs {kind} asset {name!r} ({url}) which is not "
                   f"installed locally (fix: add it to layers.assets.PACKAGES and LOCAL_ASSETS, "
                   f"or do not use this folium element)")
            raise AssetError(msg)
    return out


def _walk(element: object) -> Iterator[object]:
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def localize(element: folium.Element) -> folium.Element:
    """Point every asset of ``element`` and its descendants at ``/app/static/vendor``.

    Parameters
    ----------
    element : folium.Element
        A map, figure or any element tree, fully built. A map without any ``folium.Icon``
        also drops the Leaflet.awesome-markers and Font Awesome files (:data:`ICON_ASSETS`).

    Returns
    -------
    folium.Element
        The same element (changed in place: instance-level asset lists).

    Raises
    ------
    AssetError
        If an element needs an asset that is not installed locally, or the tree holds a branca
        colormap (``st_folium`` would load d3 from a CDN for it).
    """
    nodes = list(_walk(element))
    uses_icons = any(isinstance(node, folium.Icon) for node in nodes)
    for node in nodes:
        if isinstance(node, folium.Map) and not uses_icons:
            # Leaflet.awesome-markers and Font Awesome serve folium.Icon only: skip them otherwise
            node.default_js = [(n, u) for n, u in node.default_js if n not in ICON_ASSETS]
            node.default_css = [(n, u) for n, u in node.default_css if n not in ICON_ASSETS]
        if isinstance(node, branca.colormap.ColorMap):
            msg = ("a branca colormap is on the map; st_folium would load d3 from a CDN for it "
                   "(fix: draw the legend with layers.choropleth's HTML legend instead)")
            raise AssetError(msg)
        if isinstance(node, JSCSSMixin):
            node.default_js = _localize_list(node, list(node.default_js), "JS")
            node.default_css = _localize_list(node, list(node.default_css), "CSS")
    return element


class ProjectStyle(JSCSSMixin):
    """Loads the project's own style sheet (``static/css/gridcommand.css``)."""

    default_css = [("gridcommand_css", STYLE_URL)]


class MetricScale(MacroElement):
    """A metric-only scale bar (folium's ``control_scale`` also draws feet and miles)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false, maxWidth: 160}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )


class OfflineMap(folium.Map):
    """A folium map that localizes its assets (and its children's) whenever it renders."""

    def render(self, **kwargs: Any) -> None:
        """Localize the assets, then render as :class:`folium.Map` does."""
        localize(self)
        super().render(**kwargs)

    def fit_bounds(self, bounds: Sequence[Sequence[float]], *args: Any, **kwargs: Any) -> None:
        """Fit the view to ``bounds`` (``[[south, west], [north, east]]``) and remember them."""
        self._gc_bounds = [list(map(float, corner)) for corner in bounds]
        return super().fit_bounds(bounds, *args, **kwargs)

    def get_bounds(self) -> list:
        """The bounds the map was fitted to, else those of every coordinate on it (folium's walk)."""
        # streamlit-folium asks for the bounds of every coordinate on the map (a slow walk);
        # the view the map was fitted to is the answer it needs.
        fitted = getattr(self, "_gc_bounds", None)
        return fitted if fitted is not None else super().get_bounds()

    def add_child(self, child: folium.Element, name: str | None = None,
                  index: int | None = None) -> folium.Element:
        """Add ``child`` (as :meth:`folium.Map.add_child` does) with its assets localized."""
        # streamlit-folium adds `feature_group_to_add` after rendering the map and then reads
        # every element's asset lists itself: localize what arrives at that moment too.
        localize(child)
        return super().add_child(child, name=name, index=index)


def offline_map(*, background: str = PLAIN_BACKGROUND, **kwargs: Any) -> OfflineMap:
    """A folium map that loads nothing from outside the machine.

    Parameters
    ----------
    background : str
        CSS colour of the map container (shown where no basemap tile is drawn).
    **kwargs
        Passed to :class:`folium.Map`; ``tiles`` defaults to None (no basemap), ``maxZoom``
        to :data:`MAX_ZOOM`. A metric scale bar is added.

    Returns
    -------
    OfflineMap
    """
    kwargs.setdefault("tiles", None)
    # Without a tile layer the map itself must carry a max zoom (Leaflet.markercluster needs it).
    kwargs.setdefault("maxZoom", MAX_ZOOM)
    fmap = OfflineMap(**kwargs)
    fmap.add_child(ProjectStyle(), name="gridcommand_style")
    fmap.add_child(MetricScale(), name="gridcommand_scale")
    style = f"<style>.leaflet-container {{ background: {background}; }}</style>"
    root = fmap.get_root()
    if isinstance(root, Figure):
        root.header.add_child(folium.Element(style), name="gridcommand_background")
    return fmap


def main(argv: list[str] | None = None) -> int:
    """``python -m layers.assets install [--force]`` / ``check``."""
    parser = argparse.ArgumentParser(prog="python -m layers.assets", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("install", "check"))
    parser.add_argument("--force", action="store_true", help="reinstall even if present")
    parser.add_argument("--vendor-dir", type=Path, default=VENDOR_DIR)
    args = parser.parse_args(argv)
    if args.command == "check":
        missing = missing_assets(vendor_dir=args.vendor_dir)
        if missing:
            print(f"assets: missing {', '.join(missing)} (fix: python -m layers.assets install)",
                  file=sys.stderr)
            return 1
        print(f"assets: all {len(LOCAL_ASSETS)} files present in {args.vendor_dir}")
        return 0
    try:
        copied = install(vendor_dir=args.vendor_dir, force=args.force)
    except AssetError as exc:
        print(f"assets: {exc}", file=sys.stderr)
        return 1
    if copied:
        print(f"assets: installed {', '.join(copied)} into {args.vendor_dir}")
    else:
        print(f"assets: up to date in {args.vendor_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

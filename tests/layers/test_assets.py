"""Offline assets: installation into static/vendor and folium's asset lists made local."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import folium
import folium.plugins
import pytest

from layers import assets
from layers.assets import AssetError, localize, offline_map

ROOT = Path(__file__).resolve().parents[2]
URL_ATTR = re.compile(r'(?:src|href)\s*=\s*"([^"]+)"')


def _pypi_packages() -> list[assets.Package]:
    return [p for p in assets.PACKAGES if p.source == "pypi"]


def test_pypi_packages_install_and_second_run_skips(tmp_path: Path) -> None:
    for pkg in _pypi_packages():
        assert assets.install_package(pkg, vendor_dir=tmp_path) is True
    assert (tmp_path / "leaflet" / "leaflet.js").stat().st_size > 100_000
    assert (tmp_path / "leaflet" / "images" / "layers.png").exists()
    assert any((tmp_path / "fontawesome" / "webfonts").glob("fa-solid-900.*"))
    stamp = json.loads((tmp_path / "leaflet" / ".installed.json").read_text())
    assert stamp["version"] == "1.9.3"
    before = (tmp_path / "jquery" / "jquery.min.js").stat().st_mtime_ns
    for pkg in _pypi_packages():
        assert assets.install_package(pkg, vendor_dir=tmp_path) is False
    assert (tmp_path / "jquery" / "jquery.min.js").stat().st_mtime_ns == before


def test_broken_install_is_repaired(tmp_path: Path) -> None:
    pkg = next(p for p in assets.PACKAGES if p.name == "leaflet")
    assets.install_package(pkg, vendor_dir=tmp_path)
    (tmp_path / "leaflet" / "leaflet.css").unlink()
    assert assets.install_package(pkg, vendor_dir=tmp_path) is True
    assert (tmp_path / "leaflet" / "leaflet.css").exists()
    assert not list(tmp_path.glob(".leaflet-*")), "temporary folder left behind"


def test_cli_without_npm_fails_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}
    proc = subprocess.run(
        [sys.executable, "-m", "layers.assets", "install", "--vendor-dir", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "npm" in lines[0] and "fix:" in lines[0]
    assert "Traceback" not in proc.stderr


def test_project_assets_are_installed() -> None:
    """`make` ran `python -m layers.assets install`: every file the maps use is present."""
    if not (assets.VENDOR_DIR / "leaflet" / ".installed.json").exists():
        pytest.skip("static/vendor not installed (run `make setup` or `python -m layers.assets install`)")
    assert assets.missing_assets() == []
    assert (ROOT / "static" / "css" / "gridcommand.css").exists()


def _rendered_urls(fmap: folium.Map) -> set[str]:
    return set(URL_ATTR.findall(fmap.get_root().render()))


def test_offline_map_loads_only_local_assets() -> None:
    fmap = offline_map(location=[35.45, 116.6], zoom_start=12)
    folium.plugins.MarkerCluster().add_to(fmap)
    folium.plugins.HeatMap([[35.45, 116.6, 1.0]]).add_to(fmap)
    folium.Marker([35.45, 116.6], icon=folium.Icon(icon="fire", prefix="fa")).add_to(fmap)
    urls = _rendered_urls(fmap)
    assert urls, "no asset links rendered"
    assert all(u.startswith("/app/static/") for u in urls), urls
    html = fmap.get_root().render()
    assert "bootstrap" not in html and "glyphicons" not in html
    assert "tile.openstreetmap" not in html  # no basemap by default
    for needed in ("leaflet/leaflet.js", "markercluster/leaflet.markercluster.js",
                   "leaflet-heat/leaflet-heat.js", "css/gridcommand.css"):
        assert any(u.endswith(needed) for u in urls), needed
    for url in urls:
        local = ROOT / url.removeprefix("/app/")
        if url.startswith(assets.VENDOR_URL) and (assets.VENDOR_DIR / "leaflet").exists():
            assert local.exists(), f"{url} is not installed"


def test_unknown_remote_asset_is_refused() -> None:
    fmap = offline_map(location=[35.45, 116.6])
    with pytest.raises(AssetError, match="Terminator.*not installed locally"):
        folium.plugins.Terminator().add_to(fmap)
    group = folium.FeatureGroup().add_to(fmap)
    folium.plugins.Terminator().add_to(group)  # nested later: caught when the map renders
    with pytest.raises(AssetError, match="Terminator.*not installed locally"):
        fmap.get_root().render()


def test_colormap_is_refused() -> None:
    import branca.colormap

    fmap = offline_map(location=[35.45, 116.6])
    with pytest.raises(AssetError, match="d3"):
        fmap.add_child(branca.colormap.LinearColormap(["#ffffff", "#000000"], vmin=0, vmax=1))
    group = folium.FeatureGroup()
    group.add_child(branca.colormap.LinearColormap(["#ffffff", "#000000"], vmin=0, vmax=1))
    with pytest.raises(AssetError, match="d3"):
        localize(group)


def test_class_defaults_are_not_mutated() -> None:
    offline_map(location=[35.45, 116.6]).get_root().render()
    assert folium.Map.default_js[0][1].startswith("https://")  # folium's own lists untouched
    assert folium.plugins.MarkerCluster.default_js[0][1].startswith("https://")


def test_st_folium_receives_local_asset_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    """streamlit-folium gathers every element's default_js/default_css itself: all local."""
    import streamlit_folium

    captured: dict = {}

    def fake_component(**kwargs):
        captured.update(kwargs)
        return kwargs["default"]

    monkeypatch.setattr(streamlit_folium, "_component_func", fake_component)
    fmap = offline_map(location=[35.45, 116.6])
    folium.plugins.MarkerCluster().add_to(fmap)
    streamlit_folium.st_folium(fmap, key="t", returned_objects=[])
    links = captured["js_links"] + captured["css_links"]
    assert any("leaflet.js" in u for u in captured["js_links"])
    assert all(u.startswith("/app/static/") for u in links), links
    assert "://" not in captured["header"] + captured["html"]


def test_st_folium_feature_groups_are_local_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """Layers handed over as feature_group_to_add (added after the map rendered) stay local."""
    import streamlit_folium

    captured: dict = {}

    def fake_component(**kwargs):
        captured.update(kwargs)
        return kwargs["default"]

    monkeypatch.setattr(streamlit_folium, "_component_func", fake_component)
    fmap = offline_map(location=[35.45, 116.6])
    group = folium.FeatureGroup(name="live")
    folium.plugins.FastMarkerCluster([[35.45, 116.6]]).add_to(group)
    folium.plugins.HeatMap([[35.45, 116.6, 1.0]]).add_to(group)
    streamlit_folium.st_folium(fmap, key="t", returned_objects=[], feature_group_to_add=[group],
                               layer_control=folium.LayerControl())
    links = captured["js_links"] + captured["css_links"]
    assert any("leaflet.markercluster.js" in u for u in links)
    assert any("leaflet-heat.js" in u for u in links)
    assert all(u.startswith("/app/static/") for u in links), links
    assert "://" not in captured["feature_group"]


def test_icon_assets_only_when_a_folium_icon_is_used() -> None:
    plain = _rendered_urls(offline_map(location=[35.45, 116.6]))
    assert not any("awesome" in u or "fontawesome" in u for u in plain)
    fmap = offline_map(location=[35.45, 116.6])
    folium.Marker([35.45, 116.6], icon=folium.Icon(icon="fire", prefix="fa")).add_to(fmap)
    with_icon = _rendered_urls(fmap)
    assert any(u.endswith("awesome-markers/leaflet.awesome-markers.min.js") for u in with_icon)
    assert any(u.endswith("fontawesome/css/all.min.css") for u in with_icon)

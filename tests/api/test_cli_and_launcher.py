"""``python -m api keys|devices`` (real processes on a store of their own), the ``[api]`` settings,
and the launcher ``make run`` uses: the API starts beside the dashboard command and stops with it,
and a taken port leaves the dashboard running with a warning."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from api.keys import find_caller
from core.api_settings import load_api_settings
from core.errors import InputError
from core.settings import PROJECT_ROOT
from store import db
from tests import system


def _run(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run([sys.executable, "-m", "api", *args], cwd=PROJECT_ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_keys_add_list_revoke(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    added = _run("keys", "add", "--channel", "wechat-snap", "--allow", "report,hotline", "--rate", "600", url=url)
    assert added.returncode == 0, added.stderr
    key = added.stdout.strip().splitlines()[-1]
    assert key.startswith("gc_k") and len(key) == 56
    engine = db.make_engine(url)
    with db.session_factory(engine)() as session:
        caller = find_caller(session, key)
    assert caller.channel == "wechat-snap" and caller.allow == {"report", "hotline"}
    listed = _run("keys", "list", url=url)
    assert caller.key_id in listed.stdout and key not in listed.stdout and "wechat-snap" in listed.stdout
    revoked = _run("keys", "revoke", caller.key_id, url=url)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    with db.session_factory(engine)() as session:
        assert find_caller(session, key) is None
    engine.dispose()
    bad = _run("keys", "add", "--channel", "Bad Name!", url=url)
    assert bad.returncode == 2 and bad.stderr.startswith("error: --channel:") and "Fix:" in bad.stderr
    unknown = _run("keys", "revoke", "k00000000", url=url)
    assert unknown.returncode == 2 and "keys list" in unknown.stderr


def test_devices_add_list_remove(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'dev.db'}"
    added = _run("devices", "add", "CAM-9", "--channel", "iot", "--lon", "116.5905", "--lat", "35.4650",
                 "--coords", "gcj02", "--category", "emergency", "--subcategory", "fire", url=url)
    assert added.returncode == 0, added.stderr
    assert "116.58520" in added.stdout and "EPSG:4490" in added.stdout  # GCJ-02 converted
    assert "CAM-9" in _run("devices", "list", url=url).stdout
    assert _run("devices", "remove", "CAM-9", url=url).returncode == 0
    wrong = _run("devices", "add", "CAM-8", "--channel", "iot", "--lon", "116.5", "--lat", "35.4",
                 "--category", "hazard", "--subcategory", "fire", url=url)
    assert wrong.returncode == 2 and "--subcategory" in wrong.stderr


def test_api_settings_from_a_file(tmp_path, monkeypatch) -> None:
    path = tmp_path / "api.toml"
    path.write_text('[api]\nport = 8600\nrate_per_minute = 10\n[api.services."noise"]\nname = "噪音"\n'
                    'category = "request"\nsubcategory = "noise"\n', encoding="utf-8")
    settings = load_api_settings(path)
    assert settings.port == 8600 and settings.rate_per_minute == 10 and list(settings.services) == ["noise"]
    monkeypatch.setenv("GRIDCOMMAND_API_PORT", "8701")
    assert load_api_settings(path).port == 8701
    assert load_api_settings(tmp_path / "missing.toml").port == 8701
    for text, named in (("[api]\nspeed = 1\n", "unknown key"), ("[api]\nrate_per_minute = 0\n", "positive"),
                        ('[api.services.x]\nname = "x"\ncategory = "weather"\n', "category"),
                        ('[api]\nalarm_source = "radio"\n', "alarm_source")):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InputError, match=named):
            load_api_settings(path)


def _launch(api_port: int, seconds: float, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "api.serve_with", "--host", "127.0.0.1", "--port", str(api_port), "--",
               sys.executable, "-c", f"import time; time.sleep({seconds})"]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{log.parent / 'launch.db'}"}
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.mark.slow
def test_the_api_runs_beside_the_dashboard_and_stops_with_it(tmp_path, demo_dir) -> None:
    port = system.free_port()
    proc = _launch(port, 25, tmp_path / "launch.log")
    try:
        system.wait_for_http(f"http://127.0.0.1:{port}/health", timeout_s=60)
        assert _answers(f"http://127.0.0.1:{port}/open311/v2/services.json")
        assert proc.wait(timeout=60) == 0  # the "dashboard" ended on its own ...
        deadline = time.monotonic() + 15
        while _answers(f"http://127.0.0.1:{port}/health") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _answers(f"http://127.0.0.1:{port}/health")  # ... and took the API with it
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=20)


def test_a_taken_port_leaves_the_dashboard_running(tmp_path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = _launch(port, 1, tmp_path / "busy.log")
        assert proc.wait(timeout=60) == 0
    text = (tmp_path / "busy.log").read_text(encoding="utf-8")
    assert f"port {port} on 127.0.0.1 is in use" in text and "API_PORT" in text

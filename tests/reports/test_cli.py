"""``python -m reports``: a report of the demo district from the command line; one-line errors."""

from __future__ import annotations

import pytest

from reports import cli, fonts
from tests.reports.demo_store import DEMO_NOW, demo_hierarchy

pytestmark = pytest.mark.slow


@pytest.fixture()
def demo_env(demo_url, demo_dir, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", demo_url)
    return demo_hierarchy(demo_dir)


def test_monthly_pdf_from_the_command_line(demo_env, tmp_path, capsys):
    out = tmp_path / "月报.pdf"
    code = cli.main(["monthly", "--period", "2026-10", "--out", str(out), "--hierarchy", str(demo_env),
                     "--at", DEMO_NOW.isoformat(sep=" ")])
    printed = capsys.readouterr().out.splitlines()
    assert code == 0 and out.read_bytes().startswith(b"%PDF")
    assert printed[0].startswith(f"{out}: 锦川街道2026年10月月报 (2026年10月)")
    assert printed[1].startswith("受理数 1,070 · 结案率 ")


def test_default_period_is_the_last_complete_one(demo_env, tmp_path, capsys):
    out = tmp_path / "weekly.pptx"
    assert cli.main(["weekly", "--out", str(out), "--hierarchy", str(demo_env), "--at", "2026-11-23 09:00"]) == 0
    assert "2026年第47周周报" in capsys.readouterr().out  # the week 16-22 Nov 2026
    assert out.read_bytes()[:2] == b"PK"


@pytest.mark.parametrize(("args", "message"), [
    (["weekly", "--period", "2026-11"], "error: --period: '2026-11' is a month, not a week. Fix: write it as YYYY-Www"),
    (["monthly", "--area", "999"], "error: --area: no street, community or grid with code '999'"),
    (["monthly", "--at", "yesterday"], "error: --at: not a time: 'yesterday'"),
])
def test_errors_are_one_line_naming_the_fix(demo_env, tmp_path, capsys, args, message):
    code = cli.main([*args, "--out", str(tmp_path / "r.pdf"), "--hierarchy", str(demo_env)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(message) and err.count("\n") == 1 and "Fix:" in err


def test_unknown_format(demo_env, tmp_path, capsys):
    assert cli.main(["monthly", "--out", str(tmp_path / "r.docx"), "--hierarchy", str(demo_env)]) == 2
    assert capsys.readouterr().err.strip() == ("error: --out: cannot tell the format of 'r.docx'. Fix: end the file "
                                               "name with .pdf or .pptx")


def test_missing_font_names_the_package(demo_env, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(fonts.ENV_VARIABLE, raising=False)
    monkeypatch.setattr(fonts, "DEBIAN_PATH", tmp_path / "nowhere" / "wqy-microhei.ttc")
    monkeypatch.setattr(fonts, "_fontconfig_path", lambda: None)
    fonts.cjk_font_path.cache_clear()
    try:
        code = cli.main(["monthly", "--out", str(tmp_path / "r.pdf"), "--hierarchy", str(demo_env)])
    finally:
        fonts.cjk_font_path.cache_clear()
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "wqy-microhei.ttc not found" in err and "apt-get install fonts-wqy-microhei" in err
    assert not (tmp_path / "r.pdf").exists()


def test_missing_store_is_not_created(demo_env, tmp_path, capsys, monkeypatch):
    store = tmp_path / "none.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{store}")
    assert cli.main(["monthly", "--out", str(tmp_path / "r.pdf"), "--hierarchy", str(demo_env)]) == 2
    err = capsys.readouterr().err
    assert "the store does not exist yet" in err and err.count("\n") == 1
    assert not store.exists()

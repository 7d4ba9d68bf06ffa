"""The KPI page through the router (AppTest, real SQLite store): rankings come from metrics.kpi and
follow the caller's scope; the formulas are shown."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from metrics.formulas import KPI_FORMULAS as FORMULAS
from tests.views.conftest import signed_in
from tests.views.test_command_page import store_config  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[2]


def _kpi_page(role: str, username: str) -> AppTest:
    at = signed_in(AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60),
                   role=role, username=username).run()
    at.switch_page("views/kpi.py").run()
    assert not at.exception, at.exception
    return at


def test_leader_sees_grid_ranking_and_formulas(store_config) -> None:  # noqa: F811
    at = _kpi_page("leader", "leader")
    assert at.title[0].value == "考核指标"
    ranking = at.dataframe[0].value
    # the sample store holds four cases in four different grids: one ranked row per grid
    assert len(ranking) == 4
    assert set(ranking["受理数"]) == {"1"}
    labels = {m.label.strip("🟢🟡🔴 ") for m in at.metric}
    assert FORMULAS["on_time_rate"].zh in labels
    formulas = at.dataframe[1].value
    assert list(formulas["名称"]) == [f.zh for f in FORMULAS.values()]
    # a leader sees aggregates only: no reporter names or phone numbers anywhere on the page
    assert "诉求人" not in str(ranking.columns)


def test_ranking_level_switch(store_config) -> None:  # noqa: F811
    at = _kpi_page("commander", "commander")
    at.selectbox(key="kpi_by").set_value("community").run()
    assert not at.exception, at.exception
    ranking = at.dataframe[0].value
    assert 1 <= len(ranking) <= 2  # the sample hierarchy has two communities
    assert ranking["受理数"].astype(int).sum() == 4

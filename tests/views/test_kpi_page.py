"""The KPI page through the router (AppTest, real SQLite store): rankings come from metrics.kpi and
follow the caller's scope; the formulas are shown."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from core import clock
from metrics.formulas import KPI_FORMULAS as FORMULAS
from store.db import make_engine
from store.models import Case
from tests.views.pages import signed_in

ROOT = Path(__file__).resolve().parents[2]


def _kpi_page(role: str, username: str) -> AppTest:
    at = signed_in(AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60),
                   role=role, username=username).run()
    at.switch_page("views/kpi.py").run()
    assert not at.exception, at.exception
    return at


def test_leader_sees_grid_ranking_and_formulas(store_config) -> None:
    at = _kpi_page("leader", "leader")
    assert at.title[0].value == "考核指标"
    ranking, more, formulas = (frame.value for frame in at.dataframe)
    # the sample store holds four cases in four different grids: one ranked row per grid
    assert len(ranking) == 4
    assert list(ranking.columns) == ["排名", "名称", "综合得分", "按期结案率", "满意率", "返工率"]
    assert set(more["受理数"]) == {"1"}
    labels = {m.label for m in at.metric}
    assert {"综合得分", FORMULAS["on_time_rate"].zh} <= labels
    assert list(formulas["名称"])[:2] == ["综合得分", FORMULAS["closure_rate"].zh]
    assert all(f.zh in set(formulas["名称"]) for f in FORMULAS.values() if f.better)
    assert not any(ch in " ".join(at.markdown.values) for ch in "🟢🟡🔴")


def test_leader_sees_no_reporter_anywhere_on_the_page(store_config) -> None:
    """A case with a reporter's name and phone is counted, but neither (nor a masked form) is shown."""
    engine = make_engine(store_config)
    with Session(engine) as session, session.begin():
        session.execute(insert(Case), [{
            "source": "hotline_12345", "source_id": "P1", "category": "request", "text": "路灯不亮",
            "reporter_name": "张三丰", "reporter_phone": "13812345678", "grid_code": None, "state": "reported",
            "priority": "normal", "reported_at": clock.now() - timedelta(hours=1), "version": 1, "rework_count": 0,
            "supervised": False}])
    engine.dispose()
    at = _kpi_page("leader", "leader")
    shown = " ".join([*(d.value.to_csv() for d in at.dataframe), *(m.value for m in at.markdown),
                      *(str(m.value) + m.label for m in at.metric), *(c.value for c in at.caption)])
    assert "路灯" not in shown  # not even the case text: counts and rates only
    for secret in ("张三丰", "张*丰", "13812345678", "138****5678"):
        assert secret not in shown


def test_ranking_level_switch(store_config) -> None:
    at = _kpi_page("commander", "commander")
    at.selectbox(key="kpi_by").set_value("community").run()
    assert not at.exception, at.exception
    ranking = at.dataframe[1].value
    assert 1 <= len(ranking) <= 2  # the sample hierarchy has two communities
    assert ranking["受理数"].astype(int).sum() == 4


def test_english_page_has_english_options_and_grade_words(store_config) -> None:
    at = signed_in(AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60),
                   role="leader", username="leader")
    at.session_state["lang"] = "en"
    at.run()
    at.switch_page("views/kpi.py").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="kpi_window").options == ["Last 30 days", "Last 90 days", "Last year", "All"]
    assert "Community/village" in at.selectbox(key="kpi_by").options
    assert at.selectbox(key="kpi_rank_by").options[:2] == ["Composite score", "Closure rate"]
    formulas = at.dataframe[2].value
    assert formulas["Numerator"].str.contains("[\u4e00-\u9fff]", regex=True).sum() == 0

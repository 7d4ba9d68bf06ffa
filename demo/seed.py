"""``python -m cases seed-demo``: fill an empty store with the demo district's cases.

Loads the workers (``workers.csv``) and departments, imports ``incidents.csv`` through the real
intake (join onto ``hierarchy.gpkg``, routing), then replays a realistic history through the
real lifecycle API: most cases closed or archived with the CSV's satisfaction, the rest spread
over every open state, with some reworked, extended, supervised, sent back and voided; cases
the rules could not route stay in the unrouted queue. The demo's timeline is shifted by whole
days so that its newest report falls within the last day (the dashboard then looks live and
only some open cases are overdue). Idempotent: a store that already has cases is left alone.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, select

from cases import deadlines, routing
from cases.escalation import escalate_overdue
from cases.lifecycle import apply
from core import clock
from core.constants import Sla
from core.errors import InputError
from core.progress import progress
from core.settings import load_settings
from demo.people import seed_people
from intake.files import import_file
from store import db
from store.bulk import bulk_insert
from store.models import Case, CaseEvent, Worker, table_of
from workforce.workers import load_workers

#: 满意度 in incidents.csv -> satisfaction key.
RATINGS: dict[str, str] = {"满意": "satisfied", "基本满意": "basically_satisfied", "不满意": "dissatisfied"}
#: Share of still-open cases left in each open state (the rest of the loop is replayed).
OPEN_SPREAD: tuple[tuple[str, float], ...] = (
    ("reported", 0.08), ("registered", 0.08), ("voided", 0.04), ("dispatched", 0.18), ("returned", 0.04),
    ("accepted", 0.14), ("on_site", 0.14), ("handled", 0.12), ("rework", 0.06), ("verified", 0.06),
    ("followed_up", 0.06),
)
#: Ratings drawn for closed cases whose export has no 满意度 (the follow-up requires one).
UNRATED_DRAW: tuple[str, ...] = ("satisfied",) * 6 + ("basically_satisfied",) * 3 + ("dissatisfied",)
COMMANDER = "demo-commander"
CHIEF = "demo-chief"
#: Grid workers whose posts the demo leaves vacant (inactive), so that their grids' cases show
#: the unrouted queue; the commander dispatches the older ones by hand to the community chief.
VACANT_POSTS: tuple[str, ...] = ("WG0042", "WG0137")
#: Cases reported within this period are still being worked on (open states), whatever the
#: export says about their closure.
RECENT = timedelta(days=3)
#: Unrouted cases younger than this stay in the queue; older ones were dispatched by hand.
QUEUE_AGE = timedelta(days=3)


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(str(path), "demo file missing", "generate the demo: python data/make_demo.py --out data/demo")
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _shifted_copy(path: Path, now: datetime, out_dir: Path) -> tuple[Path, timedelta, pd.DataFrame]:
    frame = _read_csv(path)
    reported = pd.to_datetime(frame["受理时间"], errors="coerce")
    newest = reported.max()
    shift = timedelta(days=max(0, (now - newest.to_pydatetime()).days))
    for column in ("受理时间", "办结时间"):
        times = pd.to_datetime(frame[column].where(frame[column] != ""), errors="coerce") + shift
        frame[column] = times.dt.strftime("%Y-%m-%d %H:%M:%S").fillna("")
    target = out_dir / "incidents.csv"
    frame.to_csv(target, index=False, encoding="utf-8-sig")
    return target, shift, frame


def _near(rng: random.Random, lon: float, lat: float, metres: float) -> tuple[float, float]:
    # about 1e-5 degrees per metre at this latitude: good enough for a demo's GPS scatter
    return lon + rng.uniform(-1, 1) * metres * 1.1e-5, lat + rng.uniform(-1, 1) * metres * 0.9e-5


class _Replay:
    """Drives one case through the lifecycle rules (:func:`cases.lifecycle.apply`) in memory with
    plausible times and actors; the events are collected for one bulk insert."""

    def __init__(self, case: Case, rng: random.Random, now: datetime, sla: dict[str, Sla],
                 check: Callable[[str, str], None], events: list[dict[str, Any]]) -> None:
        self.case, self.rng, self.now, self.sla, self.check, self.events = case, rng, now, sla, check, events
        self.t = case.reported_at

    def step(self, action: str, minutes: float, *, actor: str = COMMANDER, **fields: Any) -> None:
        if (action, self.case.state) in (("register", "dispatched"), ("dispatch", "dispatched")):
            return  # dispatched by hand from the unrouted queue already
        self.t = min(self.t + timedelta(minutes=max(1.0, minutes)), self.now - timedelta(minutes=1))
        extra: dict[str, Any] = {}
        if action == "arrive":
            extra["lon"], extra["lat"] = _near(self.rng, float(self.case.lon or 0.0), float(self.case.lat or 0.0),
                                               300 if self.rng.random() < 0.03 else 60)
        if action == "dispatch":
            extra["sla"] = self.sla
        self.events.append(apply(self.case, action, actor=actor, at=self.t, check_assignee=self.check,
                                 **extra, **fields))

    @property
    def assignee(self) -> str:
        return self.case.assignee_id or COMMANDER


def _replay_closed(r: _Replay, closed_at: datetime, rating: str | None, archive_before: datetime) -> None:
    total = max(30.0, (closed_at - r.t).total_seconds() / 60)
    rng = r.rng
    r.step("register", total * 0.02)
    r.step("dispatch", total * 0.03)
    if rng.random() < 0.04:
        r.step("supervise", total * 0.01, actor=CHIEF, note="请加快办理")
    r.step("accept", total * 0.05, actor=r.assignee)
    if rng.random() < 0.05 and r.case.close_due:
        r.step("request_extension", total * 0.02, actor=r.assignee, until=r.case.close_due + timedelta(days=3),
               note="需协调物业配合")
        r.step("approve_extension", total * 0.02, actor=CHIEF)
    r.step("arrive", total * 0.10, actor=r.assignee)
    r.step("handle", total * 0.35, actor=r.assignee, note="已处置")
    if rng.random() < 0.05:
        r.step("rework", total * 0.05, reason="核查未通过：现场仍有问题")
        r.step("handle", total * 0.10, actor=r.assignee, note="返工完成")
    r.step("verify", total * 0.08)
    r.step("follow_up", total * 0.08, satisfaction=rating or rng.choice(UNRATED_DRAW))
    if rating == "dissatisfied":
        r.step("reopen", total * 0.02, note="回访不满意，重新办理")
        return
    r.t = max(r.t, min(closed_at, r.now) - timedelta(minutes=1))
    r.step("close", 1)
    if closed_at < archive_before:
        r.step("archive", 60 * 24 * 3)


def _replay_open(r: _Replay, target: str) -> None:
    """Leave the case in the open state ``target`` (a few on the way are supervised or extended)."""
    rng = r.rng
    minutes = {"register": rng.uniform(5, 60), "dispatch": rng.uniform(5, 90), "accept": rng.uniform(5, 120),
               "arrive": rng.uniform(10, 240), "handle": rng.uniform(60, 60 * 24), "verify": rng.uniform(30, 600),
               "follow_up": rng.uniform(60, 60 * 24)}
    if target == "reported":
        return
    if target == "voided":
        r.step("void", minutes["register"], reason="重复工单，已合并办理")
        return
    r.step("register", minutes["register"])
    if target == "registered":
        return
    r.step("dispatch", minutes["dispatch"])
    if rng.random() < 0.06:
        r.step("supervise", 60, actor=CHIEF, note="群众反映强烈，请限时办结")
    if target == "dispatched":
        return
    if target == "returned":
        r.step("return", minutes["accept"], actor=r.assignee, reason="不属于本网格职责，请重新派单")
        return
    _replay_accepted(r, target, minutes)


def _replay_accepted(r: _Replay, target: str, minutes: dict[str, float]) -> None:
    """The rest of :func:`_replay_open` from acceptance on."""
    rng = r.rng
    r.step("accept", minutes["accept"], actor=r.assignee)
    if rng.random() < 0.08 and r.case.close_due:
        r.step("request_extension", 30, actor=r.assignee, until=r.case.close_due + timedelta(days=2),
               note="等待相关部门协调")
    if target == "accepted":
        return
    r.step("arrive", minutes["arrive"], actor=r.assignee)
    if target == "on_site":
        return
    r.step("handle", minutes["handle"], actor=r.assignee)
    if target == "handled":
        return
    if target == "rework":
        r.step("rework", minutes["verify"], reason="核查未通过：问题未彻底解决")
        return
    r.step("verify", minutes["verify"])
    if target == "verified":
        return
    rating = rng.choice(["satisfied", "satisfied", "basically_satisfied"])
    r.step("follow_up", minutes["follow_up"], satisfaction=rating)


def _pick_open_state(rng: random.Random) -> str:
    x, acc = rng.random(), 0.0
    for state, share in OPEN_SPREAD:
        acc += share
        if x < acc:
            return state
    return OPEN_SPREAD[-1][0]


def _replay_all(cases: Sequence[Case], replay_of: Callable[[Case], _Replay], chiefs: Mapping[str, str],
                closed_at: Mapping[str, str], ratings: Mapping[str, str | None], archive_before: datetime) -> None:
    """Replay the history of every imported case, counted on a progress bar (a terminal only).

    Unrouted cases older than :data:`QUEUE_AGE` are dispatched by hand to their community's chief
    first; younger ones (or without a chief) stay in the unrouted queue.
    """
    with progress(len(cases), "seed-demo: replay", unit="cases") as bar:
        for case in cases:
            bar.update(1)
            replay = replay_of(case)
            if case.assignee_id is None:
                chief = chiefs.get(case.community_code or "")
                if case.reported_at > replay.now - QUEUE_AGE or chief is None:
                    continue  # stays in the unrouted queue with its reason
                replay.step("register", 20)
                replay.step("dispatch", 30, assignee_kind="chief", assignee_id=chief, note="网格员岗位空缺，手工派单")
            done = closed_at.get(case.source_id)
            done_at = datetime.fromisoformat(done) if done else None
            if done_at and done_at < replay.now and case.reported_at < replay.now - RECENT:
                _replay_closed(replay, done_at, ratings.get(case.source_id), archive_before)
            else:
                _replay_open(replay, _pick_open_state(replay.rng))


def seed_demo(engine: Engine, *, demo_dir: Path | None = None, force: bool = False,
              now: datetime | None = None, log: Callable[[str], None] = print) -> str:
    """Seed the demo district's workers and cases (see the module docstring).

    Parameters
    ----------
    engine : Engine
        The store (migrated here).
    demo_dir : Path, optional
        Output folder of ``data/make_demo.py`` with ``incidents.csv``, ``workers.csv`` and
        ``hierarchy.gpkg``; default the ``demo_dir`` setting.
    force : bool
        Seed even when the store already has cases (rows already present are skipped).
    now : datetime, optional
        The demo's "now" (default the clock).
    log : callable
        Progress messages.

    Returns
    -------
    str
        One-line summary.
    """
    settings = load_settings()
    demo_dir = Path(demo_dir) if demo_dir else settings.demo_dir
    hierarchy = demo_dir / "hierarchy.gpkg"
    now = now or clock.now()
    db.upgrade(engine)
    factory = db.session_factory(engine)
    with factory() as session:
        existing = session.scalar(select(func.count()).select_from(Case)) or 0
    if existing and not force:
        people = _seed_people(engine, demo_dir, hierarchy, now, log)
        return f"store already has {existing} cases; nothing to do{people}{_escalate(engine, now)}"
    if not hierarchy.is_file():
        raise InputError(str(hierarchy), "demo hierarchy missing",
                         f"build it: python -m geo build ... --out {hierarchy} (see the Makefile's demo target)")
    rules = routing.load_rules(settings.routing_rules_path)
    sla = deadlines.sla_table(settings.sla)
    with factory() as session, session.begin(), tempfile.TemporaryDirectory() as tmp:
        workers = load_workers(session, demo_dir / "workers.csv", inactive=VACANT_POSTS)
        routing.sync_departments(session, rules)
        shifted, shift, frame = _shifted_copy(demo_dir / "incidents.csv", now, Path(tmp))
        log(f"workers added: {workers}; importing {len(frame)} incidents (timeline shifted by {shift.days} days)")
        result = import_file(session, shifted, hierarchy=hierarchy, actor="demo-import", rules=rules,
                             rejects_path=Path(tmp) / "rejects.csv")
        closed_at = {row["工单编号"]: row["办结时间"] for _, row in frame.iterrows()}
        ratings = {row["工单编号"]: RATINGS.get(row["满意度"]) for _, row in frame.iterrows()}
        cases = session.scalars(select(Case).where(Case.state == "reported").order_by(Case.reported_at, Case.id)).all()
        directory = routing.load_directory(session)
        staff = set(session.scalars(select(Worker.id).where(Worker.active.is_(True))))

        def check(kind: str, ident: str) -> None:
            if ident not in (directory.departments if kind == "department" else staff):
                raise InputError("assignee_id", f"no active {kind} {ident!r}", "pick another assignee")

        rng = random.Random(20261122)
        archive_before = now - timedelta(days=30)
        events: list[dict] = []
        _replay_all(cases, lambda case: _Replay(case, rng, now, sla, check, events), directory.community_chiefs,
                    closed_at, ratings, archive_before)
        session.flush()
        if events:
            bulk_insert(session, table_of(CaseEvent), events)
        states = dict(session.execute(select(Case.state, func.count()).group_by(Case.state)).all())
    people = _seed_people(engine, demo_dir, hierarchy, now, log)
    spread = ", ".join(f"{k} {v}" for k, v in sorted(states.items(), key=lambda kv: -kv[1]))
    return (f"seeded {result.added} cases ({result.unrouted} unrouted, {result.rejected} rejected, "
            f"{result.duplicates} duplicates): {spread}{people}{_escalate(engine, now)}")


def _escalate(engine: Engine, now: datetime) -> str:
    """Escalate the demo's overdue cases now (the app's scheduled job then finds only new ones)."""
    taken = escalate_overdue(engine, now)
    return f"; {taken} overdue cases escalated" if taken else ""


def _seed_people(engine: Engine, demo_dir: Path, hierarchy: Path, now: datetime, log: Callable[[str], None]) -> str:
    """Accounts, households, visits and tracks (:func:`demo.people.seed_people`)."""
    if not hierarchy.is_file():
        return ""
    with db.session_factory(engine)() as session, session.begin():
        added = seed_people(session, demo_dir, hierarchy_path=hierarchy, now=now)
    total = sum(v for v in added.values() if isinstance(v, int))
    return f"; people/visits rows added: {total}" if total else ""

"""The demo's five-team helpers (五团进网): two or three per grid of the first communities, with fake
names and phone numbers, made the same way on every run."""

from __future__ import annotations

import random
from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.constants import TEAMS
from store.models import TeamMember
from workforce.teams import add_member

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "建国秀英志强丽华海燕文军春梅德明玉兰国庆红梅晓东"
#: Grids (in code order) that get helpers.
GRIDS_WITH_TEAMS = 40


def seed_teams(session: Session, parents: Mapping[str, tuple[str | None, str | None]]) -> int:
    """Attach the demo's helpers to the first :data:`GRIDS_WITH_TEAMS` grids (once); how many were added."""
    if session.scalar(select(func.count()).select_from(TeamMember)):
        return 0
    rng = random.Random(20261206)
    teams = list(TEAMS)
    added = 0
    for number, grid in enumerate(sorted(parents)[:GRIDS_WITH_TEAMS]):
        community, street = parents[grid]
        for k in range(2 + number % 2):
            name = rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(2))
            phone = f"1{rng.choice('3589')}{rng.randrange(10**8, 10**9)}"
            add_member(session, member_id=f"T{grid[-6:]}{k}", team=teams[(number + k) % len(teams)], name=name,
                       phone=phone, grid_code=grid, community_code=community, street_code=street)
            added += 1
    return added

"""A cycle with two priorities and targets, and its three walks (baseline, six-week, end of cycle) recorded half on a
lead's tablet and half on an observer's, synced through a real server: the world of the cycle tests."""
from __future__ import annotations

from datetime import date, timedelta

from tests.support import serverproc as harness

RUBRIC = harness.RUBRIC
TALK, WHY = "dl.interactive", "dl.what-and-why"
START = date(2026, 9, 7)


def make_cycle(dev, school_id: str, targets=(60, 50)):
    return dev.capture.create_cycle(school_id=school_id, name="Fall 2026", start_date=START, rubric_id=RUBRIC[0],
                                    rubric_version=RUBRIC[1],
                                    priorities=[{"lookfors": [TALK], "target": targets[0]},
                                                {"lookfors": [WHY], "target": targets[1]}])


def visits(dev, walk_id: str, plan: list[tuple[str, str]]) -> None:
    """One finished visit per (talk value, why value)."""
    for talk, why in plan:
        v = dev.capture.start_visit(walk_id, grade="4", subject="ELA", class_type="general")
        dev.capture.rate(v.id, TALK, talk)
        dev.capture.rate(v.id, WHY, why)
        dev.capture.finish_visit(v.id)


def cycle_world(lead, obs, district):
    """The lead's cycle and its three walks, each recorded half on the lead's tablet, half on the observer's."""
    lead.sync.sync_once()
    obs.sync.sync_once()
    cycle = make_cycle(lead, district.school_id)
    walks = {}
    for weeks, phase in ((0, "baseline"), (6, "six-week"), (11, "end-of-cycle")):
        walks[phase] = lead.capture.create_walk(school_id=district.school_id, rubric_id=RUBRIC[0],
                                                rubric_version=RUBRIC[1], focus=[], cycle_id=cycle.id, phase=phase,
                                                walk_date=START + timedelta(weeks=weeks),
                                                team=[harness.user_of(obs)])
    lead.sync.sync_once()
    obs.sync.sync_once()
    # talk: evident (3 or 4) in 2 of 8, then 4 of 8, then 8 of 8; why: 1 of 8, 2 of 8, 3 of 8
    plans = {"baseline": ([("4", "3")] + [("2", "1")] * 3, [("3", "2")] + [("1", "1")] * 3),
             "six-week": ([("4", "4"), ("3", "2"), ("2", "1"), ("2", "1")], [("3", "3"), ("3", "2"), ("1", "1"),
                                                                             ("2", "2")]),
             "end-of-cycle": ([("4", "4"), ("4", "3"), ("3", "2"), ("3", "1")], [("4", "4"), ("3", "2"),
                                                                                 ("4", "1"), ("3", "2")])}
    for phase, (mine, theirs) in plans.items():
        visits(lead, walks[phase].id, mine)
        visits(obs, walks[phase].id, theirs)
    obs.sync.sync_once()
    lead.sync.sync_once()
    return cycle, walks



"""Visits as an app wrote them before a checklist's "Not seen" was a value (a blank checklist cell meant it): the
rubric and visits the migration tests of both stores share (device store 0004, server 0007)."""
from __future__ import annotations

RUBRIC_KEY = "legacy-checklist@1"
RUBRIC_YAML = """\
id: legacy-checklist
version: 1
title: Legacy checklist test
scales:
  - id: presence
    levels:
      - {value: seen, label: Seen}
    not_observed: false
  - id: four
    levels:
      - {value: '1', label: Not yet}
      - {value: '2', label: Somewhat}
      - {value: '3', label: Mostly}
      - {value: '4', label: Fully}
domains:
  - id: d
    title: D
lookfors:
  - {id: c.posted, domain: d, text: A target is posted., label: Target, scale: presence}
  - {id: c.math, domain: d, text: Manipulatives are in use., label: Manipulatives, scale: presence, subjects: [Math]}
  - {id: c.early, domain: d, text: A word wall is up., label: Word wall, scale: presence, grades: K-2}
  - {id: t.talk, domain: d, text: Students talk., label: Talk, scale: four}
"""
T1, T2, T3 = "2026-10-01 09:30:00.000000", "2026-10-01 09:41:12.500000", "2026-10-01 09:45:00.000000"

# visit id -> (subject, grade, cells: (lookfor_id, value, not_observed, deleted, updated_at)), and what the rule
# makes of it: the look-fors that get "not_seen", stamped with the visit's latest answered cell
VISITS = {
    # an ELA grade 4 visit: c.math and c.early are not shown; c.posted was left blank
    "v-ela4": ("ELA", "4", [("t.talk", "3", False, False, T1)]),
    # a Math K visit: all three shown; c.posted said Seen; c.math cleared (a tombstone); c.early never touched
    "v-mathk": ("Math", "K", [("t.talk", "2", False, False, T1), ("c.posted", "seen", False, False, T2),
                              ("c.math", None, False, True, T3)]),
    # no subject or grade recorded: every look-for shown; only "not observed" answered; a blank live c.early cell
    "v-open": (None, None, [("t.talk", None, True, False, T2), ("c.early", None, False, False, T3)]),
    # nothing answered (only a cleared cell): never counted, left as it is
    "v-empty": ("Math", "1", [("t.talk", None, False, True, T1)]),
}
EXPECTED = {
    "v-ela4": (["c.posted"], T1),
    "v-mathk": (["c.math", "c.early"], T2),
    "v-open": (["c.posted", "c.math", "c.early"], T2),
    "v-empty": ([], None),
}

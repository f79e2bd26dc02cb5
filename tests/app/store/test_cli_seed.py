"""`learnwalk seed` run as the real console script: what it reports is what the store and its outbox hold."""
from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests.support.storetest import connect, count, outbox, pragma

LEARNWALK = Path(sys.executable).parent / "learnwalk"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(LEARNWALK), *args], capture_output=True, text=True, timeout=120)


def test_seed_3_walks_of_40_visits_gives_120_visits_an_outbox_entry_per_change_and_a_sound_file(tmp_path):
    d = tmp_path / "device"
    done = _run("seed", "--data-dir", str(d), "--walks", "3", "--visits", "40")
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip()
    assert "\n" not in line
    m = re.match(r"Seeded 3 walks, 120 visits, (\d+) ratings, (\d+) not observed, (\d+) notes with "
                 r"deeper-learning@1 \((\d+) changes queued for sync\)", line)
    assert m, line
    ratings, not_observed, notes, changes = map(int, m.groups())

    assert count(d, "walk") == 3 and count(d, "visit") == 120 and count(d, "visit", "ended_at IS NULL") == 0
    assert count(d, "rating", "value IS NOT NULL") == ratings
    assert count(d, "rating", "not_observed = 1") == not_observed
    assert count(d, "evidence_note") == notes
    assert ratings > 120 * 10  # every visit rated on most look-fors
    with connect(d) as con:
        per_visit = [n for (n,) in con.execute("SELECT count(*) FROM rating GROUP BY visit_id")]
    assert len(per_visit) == 120 and min(per_visit) >= 5

    entries = outbox(d)
    # what the seeder did: create 3 walks; start and finish 120 visits; set each cell once; add each note
    assert len(entries) == changes == 3 + 2 * 120 + ratings + not_observed + notes
    assert Counter(e["kind"] for e in entries) == {"walk": 3, "visit": 240, "rating": ratings + not_observed,
                                                   "note": notes}
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))

    assert pragma(d, "integrity_check") == "ok"
    assert pragma(d, "journal_mode") == "wal"


def test_seed_with_an_unknown_rubric_says_so_on_stderr_and_exits_1(tmp_path):
    done = _run("seed", "--data-dir", str(tmp_path / "d"), "--rubric", "no-such-rubric@1")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().startswith("Rubric no-such-rubric@1 is not on this device; choose one of:")
    assert len(done.stderr.strip().splitlines()) == 1


def test_seed_into_an_unusable_data_folder_says_so_and_exits_1(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    done = _run("seed", "--data-dir", str(blocker / "d"))
    assert done.returncode == 1 and "cannot create the data folder" in done.stderr


def test_seed_with_a_bad_count_is_a_usage_error(tmp_path):
    done = _run("seed", "--data-dir", str(tmp_path / "d"), "--walks", "0")
    assert done.returncode == 2
    assert not (tmp_path / "d").exists()

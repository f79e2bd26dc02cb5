"""The short deterministic slice of bench/faults.py: 14 trials (every fault kind once, then kinds drawn with a fixed
seed) per backend; every record on the server once and equal to the device's."""
from __future__ import annotations

from tests.support.faulttrials import KINDS, Trials


def test_two_trials_of_every_fault_kind_lose_duplicate_and_change_nothing(server, server_db, tmp_path):
    runner = Trials(server.port, server_db, tmp_path, seed=1)
    try:
        tally = runner.run_many(2 * len(KINDS))
    finally:
        runner.close()
    assert set(tally.trials) == set(KINDS) and sum(tally.trials.values()) == 2 * len(KINDS)  # each kind, then at random
    assert (sum(tally.lost.values()), sum(tally.duplicated.values()), sum(tally.wrong.values())) == (0, 0, 0)
    assert sum(tally.unfinished.values()) == 0

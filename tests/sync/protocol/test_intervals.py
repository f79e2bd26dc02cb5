"""The Wilson interval against worked values, cross-checked with a second, independent computation: the interval's
ends are the two p where the score test statistic |k/n - p| / sqrt(p(1-p)/n) equals z, found by bisection."""
from __future__ import annotations

from math import sqrt

import pytest

from sync.protocol.intervals import interval_text, overlap, wilson


def score_test_ends(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Solve |phat - p| = z*sqrt(p(1-p)/n) numerically on each side of phat (no closed form used)."""
    phat = k / n

    def excess(p: float) -> float:
        return abs(phat - p) - z * sqrt(p * (1 - p) / n)

    def root(lo: float, hi: float) -> float:  # excess(lo) and excess(hi) of opposite signs
        for _ in range(200):
            mid = (lo + hi) / 2
            if (excess(mid) > 0) == (excess(lo) > 0):
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2

    low = 0.0 if k == 0 else root(1e-15, phat)
    high = 1.0 if k == n else root(phat, 1 - 1e-15)
    return low, high


@pytest.mark.parametrize("k, n, low, high", [
    (8, 14, 0.3259, 0.7862),    # the issue's "33-79%"
    (10, 12, 0.5520, 0.9530),   # "55-95%"
    (0, 10, 0.0, 0.2775),
    (10, 10, 0.7225, 1.0),
    (81, 263, 0.2553, 0.3662),  # Newcombe (1998), table I, 81/263: 0.2553 to 0.3662
])
def test_wilson_matches_worked_values_and_the_score_test_solved_numerically(k, n, low, high):
    lo, hi = wilson(k, n)
    assert (round(lo, 4), round(hi, 4)) == (low, high)
    ref = score_test_ends(k, n)
    assert abs(lo - ref[0]) < 1e-9 and abs(hi - ref[1]) < 1e-9


def test_no_visits_has_no_interval_and_a_share_outside_0_n_is_refused():
    assert wilson(0, 0) is None
    with pytest.raises(ValueError, match="between 0 and n"):
        wilson(5, 4)


def test_the_issues_cycle_change_is_too_close_to_call_and_a_clear_one_is_not():
    assert overlap(wilson(8, 14), wilson(10, 12))
    assert not overlap(wilson(1, 14), wilson(12, 12))
    assert interval_text(wilson(8, 14)) == "95% interval 33-79%"

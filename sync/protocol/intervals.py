"""The uncertainty of a share, defined once: the 95% Wilson score interval, and when two shares are too close to
call. The device's debrief (screen, JSON, PDF) and the server's XLSX Tallies sheet both print it.

Why Wilson: the shares a walk reads are of 7-15 classrooms, often near 0% or 100%; the plain normal interval
(p +- z*sqrt(p(1-p)/n)) collapses to zero width at 0 of n and n of n and leaves 0..1 on small n. Wilson's stays
inside 0..1 and keeps its width. Reference: Wilson (1927); Newcombe (1998), "Two-sided confidence intervals for the
single proportion", method 3.
"""
from __future__ import annotations

from math import sqrt

Z95 = 1.96


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """(low, high) of the Wilson score interval for k successes of n, as fractions 0..1; None when n is 0."""
    if n <= 0:
        return None
    if not 0 <= k <= n:
        raise ValueError(f"{k} of {n} is not a share: k must be between 0 and n.")
    p, z2 = k / n, z * z
    denom = 1 + z2 / n
    center = (p + z2 / (2 * n)) / denom
    half = z * sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    # exact at the ends: 0 of n starts at 0, n of n ends at 1 (rounding would leave 1e-17)
    return (0.0 if k == 0 else max(0.0, center - half), 1.0 if k == n else min(1.0, center + half))


def overlap(a: tuple[float, float] | None, b: tuple[float, float] | None) -> bool:
    """Whether two intervals share any value (so a change between the two shares is too close to call)."""
    return a is not None and b is not None and a[0] <= b[1] and b[0] <= a[1]


TOO_CLOSE = "too close to call"


def interval_text(iv: tuple[float, float] | None) -> str:
    """'95% interval 33-79%' (whole percents), or '' when there is no interval."""
    if iv is None:
        return ""
    return f"95% interval {round(iv[0] * 100):d}-{round(iv[1] * 100):d}%"

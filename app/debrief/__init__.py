"""The debrief: tallies, breakdowns, cycle trends, calibration, equity pause and the printable report.

Plain Python over the device store (no Flet). Public names: walk_tally, Filters, TallyError, GROUPINGS (tally);
BANDS (bands); calibration, cohen_kappa (calibration); cycle_trend (trends); equity_pause (equity);
walk_notes (notes); write_report (report). Debrief (service) holds a device's engine and catalog for all of them:
faces reach it as Device.debrief.
"""
from app.debrief.bands import BANDS, band_of
from app.debrief.tally import GROUPINGS, Filters, TallyError, WalkTally, walk_tally

__all__ = ["BANDS", "GROUPINGS", "Filters", "TallyError", "WalkTally", "band_of", "walk_tally"]

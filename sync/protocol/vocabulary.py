"""The product's vocabulary: the values a walk and a visit take, and the words every face shows for them.

The values (PHASES, CLASS_TYPES, ...) cross the network, are stored and are written to export files as they are;
the labels are for people (the screens, the PDF report, the terminal). A label is defined here once, so a word
means one thing everywhere, and changing a word never changes an export.
This module imports nothing: rubrics, the server and the app all read it.
"""
from __future__ import annotations

PHASES = ("baseline", "six-week", "end-of-cycle", "other")
CLASS_TYPES = ("general", "inclusion", "special-education", "english-learners")
GRADES = ("PK", "K", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12")
SUBJECTS = ("ELA", "Math", "Science", "Social Studies", "Other")
# Grade bands for breakdowns and exports. Pre-K is walked with the primary grades: a band of its own would
# almost always be a cell too small to show.
GRADE_BANDS: dict[str, tuple[str, ...]] = {
    "K-2": ("PK", "K", "1", "2"),
    "3-5": ("3", "4", "5"),
    "6-8": ("6", "7", "8"),
    "9-12": ("9", "10", "11", "12"),
}
BAND_OF_GRADE: dict[str, str] = {g: band for band, grades in GRADE_BANDS.items() for g in grades}

# ---- labels: the words people read -------------------------------------------------------------------------

PHASE_LABELS = {"baseline": "Baseline", "six-week": "Six-week", "end-of-cycle": "End of cycle", "other": "Other"}
# the same phases inside a sentence or a column head of the printed report ("Cycle: Fall · six-week walk")
PHASE_WORDS = {"baseline": "baseline", "six-week": "six-week walk", "end-of-cycle": "end of cycle", "other": "other"}
CLASS_TYPE_LABELS = {"general": "General", "inclusion": "Inclusion", "special-education": "Special education",
                     "english-learners": "English learners"}

# "Not observed": the look-for could not be seen in this visit (not the same as "not rated": no answer yet).
NOT_OBSERVED_LABEL = "Not observed"  # on the screen, in the PDF and the terminal ("not observed" mid-sentence)
NOT_OBSERVED_VALUE = "not_observed"  # in export files: the column name, and a wide CSV cell (empty = not rated)


def phase_label(phase: str) -> str:
    return PHASE_LABELS.get(phase, phase)


def class_type_label(class_type: str) -> str:
    return CLASS_TYPE_LABELS.get(class_type, class_type)

# "Not seen": the answer of a checklist look-for (a scale authored with one level, "Seen") when it was not seen.
# rubrics.schema.Scale gives every checklist this second, lowest level, not evident, so it is stored, pushed,
# counted and exported as a value like any other level; a blank checklist cell means "not rated", as on any scale.
# The value is reserved: a rubric may not use it for a level of its own.
NOT_SEEN_LABEL = "Not seen"  # on the screen, in the PDF and the terminal
NOT_SEEN_VALUE = "not_seen"  # stored, on the wire and in export files

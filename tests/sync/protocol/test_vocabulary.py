"""The vocabulary: every value has its label, and the protocol package still hands out the same constants."""
from __future__ import annotations

import sync.protocol as protocol
from sync.protocol import vocabulary


def test_every_phase_and_class_type_has_a_label_and_a_report_word():
    assert set(vocabulary.PHASE_LABELS) == set(vocabulary.PHASE_WORDS) == set(vocabulary.PHASES)
    assert set(vocabulary.CLASS_TYPE_LABELS) == set(vocabulary.CLASS_TYPES)
    assert vocabulary.class_type_label("english-learners") == "English learners"
    assert vocabulary.phase_label("six-week") == "Six-week"
    assert vocabulary.phase_label("a-phase-from-a-newer-app") == "a-phase-from-a-newer-app"


def test_the_protocol_package_reexports_the_vocabulary_unchanged():
    for name in ("PHASES", "CLASS_TYPES", "GRADES", "SUBJECTS", "GRADE_BANDS", "BAND_OF_GRADE"):
        assert getattr(protocol, name) is getattr(vocabulary, name)
    assert vocabulary.BAND_OF_GRADE["PK"] == "K-2" and set(vocabulary.BAND_OF_GRADE) == set(vocabulary.GRADES)


def test_not_observed_is_one_word_on_screen_and_one_value_in_exports():
    from app.debrief import calibration
    from sync.server.export.rows import NOT_OBSERVED

    assert NOT_OBSERVED == vocabulary.NOT_OBSERVED_VALUE == "not_observed"  # export files: byte-identical
    assert calibration._words(None, calibration.NOT_OBSERVED) == vocabulary.NOT_OBSERVED_LABEL == "Not observed"

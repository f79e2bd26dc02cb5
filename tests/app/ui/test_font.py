"""The shipped theme font has a glyph for every character the app is likely to show, so it renders offline."""
from __future__ import annotations

from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from app.main import ASSETS, FONT_FAMILY, FONTS
from rubrics import builtin_rubrics

SAMPLES = {
    "Spanish": "Los niños explican su razonamiento en pequeños grupos; ¿por qué?",
    "Portuguese": "Os alunos discutem a questão em pares, ação e atenção",
    "Haitian Creole": "Elèv yo ap travay an gwoup, pwofesè a poze kesyon",
    "Vietnamese": "Học sinh thảo luận theo nhóm và đặt câu hỏi",
    "Arabic": "الطلاب يتحدثون مع بعضهم عن المحتوى",
    "Russian": "Ученики обсуждают задачу в парах",
    "Hindi": "छात्र समूह में चर्चा करते हैं",
    "Khmer": "សិស្សពិភាក្សាជាក្រុម",
    "Amharic": "ተማሪዎች በቡድን ይወያያሉ",
    "Chinese": "学生在小组中讨论问题，并解释他们的想法。",
}


@pytest.fixture(scope="module")
def cmap() -> set[int]:
    return set(TTFont(ASSETS / FONTS[FONT_FAMILY]).getBestCmap())


def test_the_theme_font_file_is_shipped_and_a_few_megabytes_at_most():
    path = ASSETS / FONTS[FONT_FAMILY]
    assert path.is_file() and 1_000_000 < path.stat().st_size < 5_000_000
    assert (Path(path).parent / "OFL.txt").read_text().count("SIL OPEN FONT LICENSE") >= 1


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_the_theme_font_has_every_glyph_of_a_sentence_in(language, cmap):
    missing = sorted({ch for ch in SAMPLES[language] if not ch.isspace() and ord(ch) not in cmap})
    assert missing == []


def test_the_theme_font_covers_every_character_of_the_shipped_rubrics(cmap):
    text = "".join(lf.text + lf.label for r in builtin_rubrics().values() for lf in r.lookfors)
    text += "".join(lv.label for r in builtin_rubrics().values() for s in r.scales for lv in s.levels)
    assert sorted({ch for ch in text if not ch.isspace() and ord(ch) not in cmap}) == []

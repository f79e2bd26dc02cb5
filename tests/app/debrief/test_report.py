"""The printable report: rendered to PNG with pdftoppm, text read back with pdftotext."""
from __future__ import annotations

import subprocess

import pytest
from PIL import Image

from app.debrief.report import font_source, write_report


def pdftotext(pdf) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture
def report_pdf(store, hand_walk, tmp_path):
    svc = store.as_observer("obs-a")
    first = svc.visits(hand_walk.id)[0]
    svc.add_note(first.id, "Students asked each other “why?” before asking the teacher.", "t.questions")
    svc.add_note(first.id, "Anchor chart for turn-and-talk on the wall.")
    out = tmp_path / "debrief.pdf"
    pages = write_report(store.engine, store.catalog, hand_walk.id, out)
    return out, pages


def test_report_pages_render_to_png_and_are_not_blank(report_pdf, tmp_path):
    pdf, pages = report_pdf
    assert pages >= 1
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pngs = sorted(tmp_path.glob("page-*.png"))
    assert len(pngs) == pages
    for png in pngs:
        lo, hi = Image.open(png).convert("L").getextrema()
        assert lo < 100 and hi > 200  # ink on paper


def test_report_text_shows_the_walks_facts_and_numbers(report_pdf):
    text = pdftotext(report_pdf[0])
    assert "Learning walk debrief" in text and "Test School" in text and "November 20, 2026" in text
    assert "6 classrooms" in text and "2 observers" in text
    assert "80% evident (4 of 5 rated; 95% interval 38-96%)" in text  # questions, the focus look-for
    assert "60% evident (3 of 5 rated; 95% interval 23-88%)" in text  # student talk
    assert "75% evident (3 of 4 rated; 95% interval 30-95%) · Not seen 1 · Seen 3" in text  # the checklist
    assert text.index("Focus look-fors") < text.index("Student talk") < text.index("What we saw")


def test_report_has_evidence_then_meaning_then_calibration_and_equity(report_pdf):
    text = " ".join(pdftotext(report_pdf[0]).split())
    if font_source()[1] is not None:  # a Unicode font keeps the curly quotes
        assert "“why?”" in text
    assert "Anchor chart for turn-and-talk on the wall." in text
    order = [text.index(s) for s in ("What we saw", "What it means", "Calibration", "Equity pause")]
    assert order == sorted(order)
    assert "1 calibration pair" in text
    assert "<3 visits" in text  # inclusion and special education classrooms: one each


def test_report_names_no_observer_and_no_visit(report_pdf):
    text = pdftotext(report_pdf[0])
    assert "obs-a" not in text and "obs-b" not in text
    assert "Visit 1" not in text


def test_report_embeds_the_apps_own_font_and_prints_non_latin_notes(store, hand_walk, tmp_path):
    assert font_source()[0] == "Learnwalk Sans (app)"  # never a font the printing machine happens to have
    svc = store.as_observer("obs-a")
    svc.add_note(svc.visits(hand_walk.id)[0].id, "学生互相讨论 · Los estudiantes explicaron su razonamiento")
    out = tmp_path / "debrief.pdf"
    write_report(store.engine, store.catalog, hand_walk.id, out)
    assert "学生互相讨论 · Los estudiantes explicaron su razonamiento" in " ".join(pdftotext(out).split())


def test_the_apps_debrief_pdf_is_built_in_memory_with_its_school_and_date_in_the_name(store, hand_walk, tmp_path):
    before = sorted(p.name for p in tmp_path.rglob("*.pdf"))
    name, data = store.device.debrief.report_pdf(hand_walk.id)
    assert name == "learnwalk-test-school-2026-11-20-debrief.pdf" and data.startswith(b"%PDF-")
    assert sorted(p.name for p in tmp_path.rglob("*.pdf")) == before

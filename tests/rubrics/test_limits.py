"""Rubric limits: hostile files (alias bombs, deep nesting, huge numbers, UTF-16, binary, NUL) are refused at once,
through the real `learnwalk rubric validate`, with file:line and a fix; files just inside every limit still load."""
from __future__ import annotations

import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rubrics import RubricInvalid, csv_to_yaml, limits, load_rubric, parse_rubric, validate_files
from tests.support.rubric_attacks import ATTACKS, BASE, TITLE_LINE, VERSION_LINE

LEARNWALK = str(Path(sys.executable).with_name("learnwalk"))
FIX = re.compile(r"^(?P<file>.+):(?P<line>\d+): (?P<what>[^;]+); (?P<fix>.+)$")  # the problem style: what; how to fix


def problems_of(text: str, source: str = "r.yaml") -> list[str]:
    with pytest.raises(RubricInvalid) as exc:
        parse_rubric(text, source)
    return [str(p) for p in exc.value.problems]


def lookfors(n: int) -> str:
    """A valid rubric with n look-fors using every key, one flow mapping a line (about 100 bytes each)."""
    rows = [f"  - {{id: l.{i}, domain: d, text: Look-for {i}, label: L{i}, scale: s, subjects: [Math, ELA], "
            "equity: true}" for i in range(n)]
    return ("id: many\nversion: 1\ntitle: Many\nscales:\n  - id: s\n    levels: [{value: seen, label: Seen}]\n"
            "domains:\n  - {id: d, title: D}\nlookfors:\n" + "\n".join(rows) + "\n")


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_each_attack_is_refused_by_the_cli_within_2_s_with_file_line_and_a_fix(attack, tmp_path):
    data, line, word = ATTACKS[attack]()
    path = tmp_path / f"{attack}.yaml"
    path.write_bytes(data)
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    run = subprocess.run([LEARNWALK, "rubric", "validate", str(path)], capture_output=True, text=True, timeout=60)
    wall = time.monotonic() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stderr and run.stdout == ""
    [problem] = run.stderr.strip().splitlines()
    m = FIX.match(problem)
    assert m and m["file"] == str(path) and int(m["line"]) == line, problem
    assert word in problem and len(m["fix"]) > 10
    assert cpu < 2.0, f"{attack}: the CLI used {cpu:.2f} s of CPU"  # the whole process, Python start-up included
    assert wall < 10, f"{attack}: the CLI took {wall:.2f} s"  # wall time also counts the other work on the machine


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_each_attack_is_refused_in_process_within_2_s(attack, tmp_path):
    data, line, word = ATTACKS[attack]()
    path = tmp_path / "r.yaml"
    path.write_bytes(data)
    started = time.monotonic()
    [problem] = validate_files([path])
    assert time.monotonic() - started < 2.0
    assert (problem.line, word in problem.message) == (line, True) and "; " in problem.message


def test_the_same_attacks_as_text_are_refused_as_a_text_field_would_carry_them():
    """The publish endpoint receives text: a UTF-16 or binary file arrives decoded byte for byte (or with U+FFFD)."""
    utf16, _, _ = ATTACKS["utf16"]()
    for text in (utf16.decode("latin-1"), utf16.decode("utf-8", "replace")):
        [p] = problems_of(text)
        assert p.startswith("r.yaml:1: the file is UTF-16 text") and "save it as UTF-8 text" in p
    binary, _, _ = ATTACKS["binary"]()
    [p] = problems_of(binary.decode("latin-1"))
    assert p.startswith("r.yaml:3: the file holds a NUL byte") and "save it as UTF-8 text" in p
    [p] = problems_of(BASE + "notes: \x07\n")
    assert "control character U+0007" in p and p.startswith(f"r.yaml:{BASE.count(chr(10)) + 1}:")
    [p] = problems_of(BASE + "notes: " + b"caf\xe9".decode("utf-8", "surrogateescape") + "\n")
    assert "bytes that are not UTF-8" in p


def test_a_utf8_file_with_a_byte_order_mark_is_fine_and_other_encodings_name_their_line(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + BASE.encode())
    assert load_rubric(path).id == "sample-district"
    path.write_bytes(BASE.replace("title: ", "title: caf\xe9 ", 1).encode("cp1252"))
    [p] = validate_files([path])
    assert p.line == TITLE_LINE and "byte 0xE9 is not UTF-8" in p.message and "save it as UTF-8 text" in p.message
    path.write_bytes(BASE.encode("utf-16-le"))  # UTF-16 without a byte-order mark
    assert "UTF-16" in validate_files([path])[0].message


def test_anchors_and_aliases_are_refused_even_when_small():
    [p] = problems_of(BASE + "x: &one [a]\ny: *one\n")
    assert p.startswith(f"r.yaml:{BASE.count(chr(10)) + 1}: the file uses the YAML anchor &one")
    assert "write the value out in full" in p


def test_versions_up_to_the_servers_integer_load_and_larger_ones_are_refused():
    assert parse_rubric(BASE.replace("version: 1", f"version: {limits.MAX_VERSION}", 1)).version == limits.MAX_VERSION
    [p] = problems_of(BASE.replace("version: 1", f"version: {limits.MAX_VERSION + 1}", 1))
    assert p.startswith(f"r.yaml:{VERSION_LINE}: version 2147483648 is larger than 2,147,483,647")
    [p] = problems_of(BASE.replace("version: 1", "version: 1" + "0" * 5000, 1))  # int() refuses > 4,300 digits
    assert p.startswith(f"r.yaml:{VERSION_LINE}: this number is 5,001 characters long")


def test_ids_longer_than_the_database_columns_are_refused():
    [p] = problems_of(BASE.replace("id: sample-district", "id: " + "a" * (limits.MAX_RUBRIC_ID + 1), 1))
    assert "more than the 64 an id may have; shorten it" in p
    assert parse_rubric(BASE.replace("id: sample-district", "id: " + "a" * limits.MAX_RUBRIC_ID, 1))


def test_nesting_just_inside_the_limit_is_parsed_and_one_more_level_is_refused():
    def nested(depth: int) -> str:  # the value of a top-level key sits at depth 2; each bracket adds one
        return BASE.replace("\ntitle:", "\nnotes: " + "[" * depth + "]" * depth + "\ntitle:", 1)
    [inside] = problems_of(nested(limits.MAX_DEPTH - 1))  # refused only for the unknown key, by the schema
    assert "unknown key `notes`" in inside
    assert "nested more than 20 levels" in problems_of(nested(limits.MAX_DEPTH))[0]


def test_the_largest_rubric_loads_and_one_look_for_more_is_refused_at_its_line():
    assert len(parse_rubric(lookfors(limits.MAX_LOOKFORS)).lookfors) == limits.MAX_LOOKFORS
    [p] = problems_of(lookfors(limits.MAX_LOOKFORS + 1))
    assert p.startswith(f"r.yaml:{9 + limits.MAX_LOOKFORS + 1}: this is look-for #2,001; a rubric holds at most")


def test_a_50000_look_for_file_is_refused_on_its_size_before_parsing():
    text = lookfors(50_000)
    started = time.monotonic()
    [p] = problems_of(text)
    assert time.monotonic() - started < 0.5
    assert p.startswith("r.yaml:1: the file is ") and "more than the 1,000,000 a rubric file may hold" in p


def test_a_file_of_many_small_values_is_refused_at_the_value_limit(monkeypatch):
    monkeypatch.setattr(limits, "MAX_NODES", 1_000)  # the mechanism, without parsing 50,000 values
    rows = "".join(f"  k{i}: [1, 2, 3, 4, 5, 6, 7, 8, 9]\n" for i in range(100))
    text = BASE + "extra:\n" + rows
    [p] = problems_of(text)
    assert re.match(r"r\.yaml:\d+: the file holds more than 1,000 values; .*split it into smaller rubrics", p)
    assert BASE.count("\n") < int(p.split(":")[1]) <= text.count("\n")


def test_parsing_stops_at_the_time_budget(monkeypatch):
    monkeypatch.setattr(limits, "TIME_BUDGET_S", 0.0)
    [p] = problems_of(BASE)
    assert re.match(r"r\.yaml:\d+: reading the file took more than 0 s and was stopped here; .*split", p)


def test_csv_files_meet_the_same_limits_at_their_rows(tmp_path):
    header = "domain,domain_title,lookfor_id,text,label,scale,subjects,equity\n"
    rows = "".join(f"d,D,l.{i},Text {i},L{i},presence,,no\n" for i in range(limits.MAX_LOOKFORS + 1))
    with pytest.raises(RubricInvalid) as exc:
        csv_to_yaml(header + rows, "w.csv")
    assert str(exc.value).startswith(f"w.csv:{limits.MAX_LOOKFORS + 2}: this is look-for row 2,001")
    for name, data, words in [("u16.csv", (header + rows[:40]).encode("utf-16"), "w.csv:1: the file is saved as UTF-16"),
                              ("nul.csv", (header + "d,D,a,T\x00,L,presence,,no\n").encode(), "w.csv:2: the file holds a NUL")]:
        path = tmp_path / name
        path.write_bytes(data)
        [p] = validate_files([path])
        assert str(p).replace(str(path), "w.csv").startswith(words) and "save it as UTF-8 text" in p.message
    big = tmp_path / "big.csv"
    big.write_text(header + "d,D,a,T,L,presence,,no\n" + "#" * limits.MAX_BYTES)
    assert "more than the 1,000,000 a rubric file may hold" in validate_files([big])[0].message

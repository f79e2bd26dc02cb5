"""Hostile rubric files (as bytes) for the limit tests of the validator and the publish endpoint.

Each attack is (bytes of the file, the line its refusal must point at, words the refusal must hold). They are built
on the shipped sample-district rubric, so everything but the attack itself is valid.
"""
from __future__ import annotations

import random

from rubrics import builtin_rubric_paths

# the first version: its text never changes (a newer built-in version may grow)
BASE = next(p for p in builtin_rubric_paths() if p.name == "sample-district@1.yaml").read_text(encoding="utf-8")
BASE_LINES = BASE.count("\n")
TITLE_LINE = next(n for n, line in enumerate(BASE.splitlines(), 1) if line.startswith("title:"))
VERSION_LINE = next(n for n, line in enumerate(BASE.splitlines(), 1) if line.startswith("version:"))


def _laughs(first: str) -> str:
    """The billion laughs: 9 levels of 9 aliases each, 9**9 strings once expanded."""
    rows = [f'{first} &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    rows += [f"x{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    return "\n".join(rows) + "\n"


def bomb_as_extra_key() -> tuple[bytes, int, str]:
    return (BASE + _laughs("lol:")).encode(), BASE_LINES + 1, "anchor"


def bomb_in_title() -> tuple[bytes, int, str]:
    text = BASE.replace("\ntitle:", "\nfirst: &t0 lol\n" + "".join(
        f"t{i}: &t{i} [" + ",".join([f"*t{i - 1}"] * 9) + "]\n" for i in range(1, 9)) + "title: *t8\nold_title:", 1)
    return text.encode(), TITLE_LINE, "anchor"


def deep_nesting(depth: int = 10_000) -> tuple[bytes, int, str]:
    text = BASE.replace("\ntitle:", "\nnotes: " + "[" * depth + "]" * depth + "\ntitle:", 1)
    return text.encode(), TITLE_LINE, "nested more than"


def huge_version() -> tuple[bytes, int, str]:
    return BASE.replace("version: 1", f"version: {2**63}", 1).encode(), VERSION_LINE, "2,147,483,647"


def utf16() -> tuple[bytes, int, str]:
    return BASE.encode("utf-16"), 1, "UTF-16"


def binary() -> tuple[bytes, int, str]:
    noise = bytes(random.Random(16).randrange(256) for _ in range(4096))
    return b"\x89PNG\r\n\x1a\n\x00\x00" + noise, 3, "binary"


def nul_byte() -> tuple[bytes, int, str]:
    return BASE.replace("\ntitle: ", "\ntitle: a\x00", 1).encode(), TITLE_LINE, "NUL"


ATTACKS = {"bomb-key": bomb_as_extra_key, "bomb-title": bomb_in_title, "deep": deep_nesting,
           "version-2-63": huge_version, "utf16": utf16, "binary": binary, "nul": nul_byte}

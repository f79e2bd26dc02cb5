"""The rubric versions a district knows: the built-in ones are registered into every district automatically."""
from __future__ import annotations

from functools import lru_cache

from sqlmodel import Session, select

from rubrics import Rubric, builtin_rubric_paths, parse_rubric
from sync.server import seq
from sync.server.models import District, RubricVersion


@lru_cache(maxsize=1)
def builtin_texts() -> tuple[tuple[Rubric, str], ...]:
    out = []
    for path in builtin_rubric_paths():
        text = path.read_text(encoding="utf-8")
        out.append((parse_rubric(text, source=str(path)), text))
    return tuple(out)


def register_builtins(s: Session, district_id: str) -> int:
    """Add built-in versions the district lacks (a published id@version never changes); return how many."""
    have = set(s.exec(select(RubricVersion.rubric_id, RubricVersion.version)
                      .where(RubricVersion.district_id == district_id)).all())
    missing = [(r, t) for r, t in builtin_texts() if (r.id, r.version) not in have]
    if not missing:
        return 0
    first = seq.reserve(s, district_id, len(missing))
    for i, (rubric, text) in enumerate(missing):
        s.add(RubricVersion(district_id=district_id, rubric_id=rubric.id, version=rubric.version, yaml_text=text,
                            content_hash=rubric.content_hash(), published_by="built-in", change_seq=first + i))
    return len(missing)


def register_builtins_everywhere(s: Session) -> int:
    """At server start: a server update that ships a new built-in version offers it to every district."""
    return sum(register_builtins(s, d) for d in s.exec(select(District.id)).all())


class KnownRubrics:
    """Parsed rubric versions of one district, loaded lazily (ingest checks look-fors and scale values)."""

    def __init__(self, s: Session, district_id: str):
        self._s, self._d = s, district_id
        self._cache: dict[tuple[str, int], Rubric | None] = {}

    def get(self, rubric_id: str, version: int) -> Rubric | None:
        key = (rubric_id, version)
        if key not in self._cache:
            self._cache[key] = _published(self._s, self._d, rubric_id, version)
        return self._cache[key]


# (district, rubric id, version) -> the parsed version. A published id@version never changes and is never removed,
# so once read it is kept for the process: each push checks its cells against it without reading the YAML text
# back (loading that row cost about 2 ms a push). Unknown versions are asked again each time (one may be published).
_PUBLISHED: dict[tuple[str, str, int], Rubric] = {}
_PUBLISHED_MAX = 4096


def _published(s: Session, district_id: str, rubric_id: str, version: int) -> Rubric | None:
    key = (district_id, rubric_id, version)
    rubric = _PUBLISHED.get(key)
    if rubric is None:
        text = s.exec(select(RubricVersion.yaml_text).where(RubricVersion.district_id == district_id,
                                                            RubricVersion.rubric_id == rubric_id,
                                                            RubricVersion.version == version)).first()
        if text is None:
            return None
        rubric = _parse(text, f"{rubric_id}@{version}")
        if len(_PUBLISHED) >= _PUBLISHED_MAX:
            _PUBLISHED.clear()
        _PUBLISHED[key] = rubric
    return rubric


@lru_cache(maxsize=256)
def _parse(text: str, source: str) -> Rubric:
    return parse_rubric(text, source=source)

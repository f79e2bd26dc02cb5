"""The rubrics a device knows: the built-in ones plus versions received from the server."""
from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.store.models import RubricDoc
from rubrics import Rubric, builtin_rubrics, parse_rubric


class RubricCatalog:
    def __init__(self, engine: Engine):
        self._engine = engine
        self._cache: dict[str, Rubric] = dict(builtin_rubrics())
        self._loaded_docs = False
        self._hashes: dict[str, str] = {}  # key -> content hash of the cached rubric (computed once)

    def _load_docs(self) -> None:
        if self._loaded_docs:
            return
        with Session(self._engine) as s:
            for doc in s.exec(select(RubricDoc)).all():
                self._cache.setdefault(doc.key, parse_rubric(doc.yaml_text, source=doc.key))
        self._loaded_docs = True

    def register(self, rubric: Rubric) -> None:
        """Make a rubric available on this device for this process only (tests, demos); not stored."""
        self._cache[rubric.key] = rubric

    def get(self, rubric_id: str, version: int) -> Rubric | None:
        key = f"{rubric_id}@{version}"
        if key not in self._cache:
            self._load_docs()
        return self._cache.get(key)

    def all(self) -> list[Rubric]:
        self._load_docs()
        return sorted(self._cache.values(), key=lambda r: (r.id, r.version))

    def latest(self) -> list[Rubric]:
        """The newest version of each rubric id: what a new walk offers."""
        newest: dict[str, Rubric] = {}
        for r in self.all():
            if r.id not in newest or r.version > newest[r.id].version:
                newest[r.id] = r
        return sorted(newest.values(), key=lambda r: r.title.casefold())  # as people read them: "learnwalk" < "Sample"

    def cached(self, key: str) -> Rubric | None:
        """The rubric id@version already in memory (a built-in, or one read before), without reading the store."""
        return self._cache.get(key)

    def content_hash(self, rubric: Rubric) -> str:
        if self._cache.get(rubric.key) is not rubric:
            return rubric.content_hash()
        if rubric.key not in self._hashes:
            self._hashes[rubric.key] = rubric.content_hash()
        return self._hashes[rubric.key]

    @staticmethod
    def parse(yaml_text: str, source: str) -> Rubric:
        return parse_rubric(yaml_text, source=source)

    def store(self, session: Session, rubric: Rubric, yaml_text: str) -> None:
        """Keep a parsed rubric version received from the server (inside the caller's transaction)."""
        if session.get(RubricDoc, rubric.key) is None:
            session.add(RubricDoc(key=rubric.key, yaml_text=yaml_text, content_hash=self.content_hash(rubric)))
        if self._cache.get(rubric.key) is not rubric:
            self._cache[rubric.key] = rubric
            self._hashes.pop(rubric.key, None)

    def remember(self, session: Session, yaml_text: str, source: str) -> Rubric:
        """Store a rubric version received from the server (inside the caller's transaction)."""
        rubric = self.parse(yaml_text, source)
        self.store(session, rubric, yaml_text)
        return rubric

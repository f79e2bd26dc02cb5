"""Text a database can hold: no NUL character (PostgreSQL refuses the whole statement, SQLite's readers stop at it)
and no lone surrogate (half of a UTF-16 pair, which no UTF-8 store can encode; stdlib JSON parsing lets one through
from a `\\ud800` escape). `StoredText` is the pydantic type of every request text field the server may store or
look up; `unstorable(text)` says why a text cannot be kept (None when it can); STORABLE_PATTERN is the rule as the
OpenAPI document states it."""
from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(text: str) -> str | None:
    """Why no database can keep this text (one phrase), or None."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "holds a NUL character (\\x00), which no database can store; remove it"
    return (f"holds a lone surrogate (\\u{ord(found.group()):04x}, half of a character), which no database can "
            "store; send the text as UTF-8")


def _storable(value: str) -> str:
    why = unstorable(value)
    if why is not None:
        raise PydanticCustomError("unstorable_text", why)
    return value


# the rule as a JSON Schema pattern, for the OpenAPI document: no NUL (a JSON Schema string is characters, which a
# lone surrogate is not; generators also drop a pattern that names surrogates); the server checks with
# unstorable(), whose message says what to fix
STORABLE_CHAR = "[^\\u0000]"
STORABLE_PATTERN = f"^{STORABLE_CHAR}*$"
# the characters str.strip() takes away (str.isspace), spelt out: generators read \s more narrowly than Python does
SPACES = ("\\t\\n\\u000b\\u000c\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f"
          "\\u205f\\u3000")

StoredText = Annotated[str, AfterValidator(_storable), Field(json_schema_extra={"pattern": STORABLE_PATTERN})]

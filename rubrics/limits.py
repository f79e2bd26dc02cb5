"""The limits on a rubric file, defined once: size, nesting, entries, numbers and the time a parse may take.

A rubric is a short list of look-fors; these bounds are far above any real rubric (the built-ins hold 10-17
look-fors in under 20 KB) and keep a hostile or damaged file from hanging or crashing the validator, the app or the
server's publish endpoint. docs/rubric-format.md lists them for people.
"""
from __future__ import annotations

MAX_BYTES = 1_000_000        # the file's size as UTF-8, checked before it is parsed
MAX_DEPTH = 20               # nested values; a rubric needs 6 (scales > levels > level > value)
MAX_LOOKFORS = 2_000         # look-fors in one rubric (and entries in any one list)
MAX_NODES = 50_000           # values of every kind (keys count); 2,000 look-fors with every key are about 34,000
MAX_VERSION = 2**31 - 1      # the server stores versions in a 32-bit INTEGER column
MAX_RUBRIC_ID = 64           # rubric_version.rubric_id is VARCHAR(64)
MAX_ID = 80                  # look-for, scale and domain ids (a rating's lookfor_id is VARCHAR(80))
TIME_BUDGET_S = 10.0         # parsing stops after this long (1 MB of look-fors parses in about 5 s, 50,000
                             # values of flow lists `[1, 2, 3]` in about 5 s, on a loaded 2-core machine)

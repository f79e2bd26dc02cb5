"""The plain JSON reference (the browser's) and orjson (every other device's) read and write the wire alike."""
from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync import jsonwire

# what the wire holds: ids, texts (any Unicode but lone surrogates, which neither may write), ints, bools, null
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
leaf = st.none() | st.booleans() | st.integers(-2**53, 2**53) | text
value = st.recursive(leaf, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(text, inner, max_size=5),
                     max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(value)
def test_plain_writes_the_bytes_orjson_writes_and_each_reads_the_others(v):
    assert jsonwire.plain_dumps(v) == orjson.dumps(v)
    assert jsonwire.plain_loads(orjson.dumps(v)) == v == orjson.loads(jsonwire.plain_dumps(v))


@pytest.mark.parametrize("bad", [b"NaN", b"[Infinity]", b"{", b"\xff\xfe", b"[1,]"])
def test_plain_refuses_what_orjson_refuses_with_the_same_error_class(bad):
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(bad)
    with pytest.raises(jsonwire.JSONDecodeError):
        jsonwire.plain_loads(bad)
    assert issubclass(orjson.JSONDecodeError, json.JSONDecodeError)  # so `except jsonwire.JSONDecodeError` holds


def test_plain_refuses_to_write_nan():
    with pytest.raises(ValueError):
        jsonwire.plain_dumps(float("nan"))

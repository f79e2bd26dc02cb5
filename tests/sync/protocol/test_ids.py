"""Record ids: UUIDs of version 7, in the order they were made, never the same twice."""
from __future__ import annotations

import time
import uuid

from sync.protocol import new_id


def test_an_id_is_a_version_7_uuid_holding_the_time_it_was_made_in_milliseconds():
    before = time.time_ns() // 1_000_000
    made = uuid.UUID(new_id())
    after = time.time_ns() // 1_000_000
    assert made.version == 7 and made.variant == uuid.RFC_4122
    assert before <= made.int >> 80 <= after
    assert str(made) == str(made).lower() and len(str(made)) == 36


def test_ids_made_in_different_milliseconds_sort_in_the_order_they_were_made():
    ids = []
    for _ in range(5):
        ids.append(new_id())
        time.sleep(0.002)
    assert ids == sorted(ids)


def test_ids_made_in_the_same_millisecond_differ():
    ids = [new_id() for _ in range(50_000)]
    assert len(set(ids)) == len(ids)
    assert len({i[15:] for i in ids}) == len(ids)  # the random part alone tells them apart

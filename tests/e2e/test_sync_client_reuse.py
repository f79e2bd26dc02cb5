"""The app keeps one sync client across rounds, and a round after re-enrollment talks to the new server with the new
token (real server processes, a real device)."""
from __future__ import annotations

from sync.server.models import Visit as SVisit
from tests.support import serverproc as harness


def _client_of(dev):
    c = dev.sync.connection()
    return dev.sync.client(c["server_url"], c["token"])


def test_rounds_share_one_client_and_re_enrollment_moves_the_rounds_to_the_new_server_and_token(
        server, server_db, district, device, tmp_path):
    dev = device("observer")
    dev.sync.sync_once()
    kept = _client_of(dev)
    dev.sync.sync_once()
    assert _client_of(dev) is kept  # no client built per round

    # re-enrolled on another server (a fresh SQLite one): the next round goes there, with its token
    other_url = f"sqlite:///{tmp_path / 'other.sqlite'}"
    other_db = harness.Db(other_url)
    other = harness.ServerProc(other_url).start()
    try:
        there = other_db.district()
        user = there.user("observer")
        dev.sync.enroll(other.url, there.code(user))
        dev.sync.sync_once()  # receives the other district's school
        moved = _client_of(dev)
        assert moved is not kept and moved.server_url == other.url
        walk = harness.new_walk(dev, there.school_id)
        (vid,) = harness.record_visits(dev, walk.id, 1)
        assert dev.sync.sync_once().applied > 0
        assert [v.observer_id for v in other_db.rows(SVisit, SVisit.id == vid)] == [user]
        assert server_db.rows(SVisit, SVisit.id == vid) == []
    finally:
        other.stop()
        other_db.engine.dispose()

    # back on the first server as another user: same address, a new token, so a new client again
    again = district.user("observer")
    dev.sync.enroll(server.url, district.code(again))
    dev.sync.sync_once()
    walk = harness.new_walk(dev, district.school_id)
    (vid,) = harness.record_visits(dev, walk.id, 1)
    dev.sync.sync_once()
    assert [v.observer_id for v in server_db.rows(SVisit, SVisit.id == vid)] == [again]


def test_closing_the_service_closes_its_client_and_a_later_round_builds_a_new_one(server, district, device):
    dev = device("observer")
    dev.sync.sync_once()
    kept = _client_of(dev)
    dev.sync.close()
    assert kept._http.is_closed
    dev.sync.sync_once()
    assert _client_of(dev) is not kept

"""A push cut off by SIGKILL of the server, retried after a restart, ends with every record there exactly once."""
from __future__ import annotations

import threading

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import Session

from tests.support import serverproc as harness
from app.store.models import Rating as DRating, Visit as DVisit
from app.store.seed import seed
from app.sync_service import SyncError, SyncService
from sync.server.models import Device, Visit


class KillingTransport(httpx.HTTPTransport):
    """Kills the server during the first push: while it works on the request, or after it answered."""

    def __init__(self, server: harness.ServerProc, when: str):
        super().__init__()
        self.server, self.when, self.done = server, when, False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.done or not request.url.path.endswith("/push"):
            return super().handle_request(request)
        self.done = True
        if self.when == "mid-request":
            threading.Timer(0.03, self.server.kill).start()
            return super().handle_request(request)
        response = super().handle_request(request)
        response.read()
        self.server.kill()  # committed on the server, but the answer never reaches the device
        raise httpx.ReadError("connection lost")


@pytest.mark.parametrize("when", ["mid-request", "after-commit"])
def test_a_push_cut_off_by_killing_the_server_ends_with_every_visit_exactly_once(db_url, server_db, tmp_path, when):
    server = harness.ServerProc(db_url).start()
    try:
        district = server_db.district()
        dev = harness.new_device(tmp_path / "dev", server.url, district.code(district.user("observer")))
        dev.sync.sync_once()
        seed(dev.capture, walks=1, visits=250, rubric_key="ipg-math@1", school_id=district.school_id)
        cutting = SyncService(dev.engine, dev.capture.catalog, transport=KillingTransport(server, when))
        with pytest.raises(SyncError):
            cutting.sync_once()
        assert dev.sync.status().pending > 0  # nothing was acknowledged, so nothing left the outbox

        server.start(port=server.port)  # same database, same address
        dev.sync.sync_once()

        assert dev.sync.status().pending == 0 and dev.sync.status().rejected == []
        with Session(dev.engine) as s:
            visits = set(s.execute(select(DVisit.id)).scalars())
            ratings = {(r.visit_id, r.lookfor_id): (r.value, r.not_observed, r.deleted)
                       for r in s.execute(select(DRating)).scalars()}
        device_id = dev.sync.store.meta("device_id")["device_id"]
        on_server = [v.id for v in server_db.rows(Visit, Visit.district_id == district.id)]
        assert len(on_server) == len(set(on_server)) == 250 and set(on_server) == visits
        # each cell once (harness.cells fails on a look-for stored twice) with the device's content
        assert {k: (c.value, c.not_observed, c.deleted) for k, c in server_db.cells(district.id).items()} == ratings
        (row,) = server_db.rows(Device, Device.id == device_id)
        assert row.last_op_seq == max_seq_sent(dev)
        dev.engine.dispose()
    finally:
        server.stop()


def max_seq_sent(dev) -> int:
    with dev.engine.connect() as c:
        return c.exec_driver_sql("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").scalar_one()

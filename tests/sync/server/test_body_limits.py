"""Every request body is bounded before it is read: a too-large Content-Length and a chunked body over the limit
get 413 with a sentence at once, on /enroll and on /push, and the server process's memory does not grow with the
body; a body that does not arrive in time gets 408; normal pushes still work."""
from __future__ import annotations

import select
import socket
import time
from pathlib import Path

import pytest

from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION
from sync.server.models import Visit
from tests.support import serverproc as harness

MB = 1024 * 1024
PUSH_LIMIT, BODY_LIMIT = 4 * MB, 1 * MB


@pytest.fixture(scope="module")
def bounded_server(db_url, server_db):
    proc = harness.ServerProc(db_url, env={"LEARNWALK_MAX_PUSH_BYTES": str(PUSH_LIMIT),
                                           "LEARNWALK_MAX_BODY_BYTES": str(BODY_LIMIT),
                                           "LEARNWALK_BODY_READ_SECONDS": "2"}).start()
    yield proc
    proc.stop()


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _head(port: int, path: str, headers: dict) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Content-Type: application/json",
             f"{PROTOCOL_HEADER}: {PROTOCOL_VERSION}"] + [f"{k}: {v}" for k, v in headers.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return sock


def _answer(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    sock.settimeout(30)
    while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _length(data):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    sock.close()
    return int(data.split(b" ", 2)[1]), data


def _length(data: bytes) -> int:
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def _send_chunked(sock: socket.socket, total: int) -> int:
    """Send up to `total` bytes as chunks until the server answers (or closes); return the bytes sent."""
    chunk = b"[" + b" " * (256 * 1024 - 2) + b"]"
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    sock.setblocking(False)
    try:
        while sent < total:
            readable, writable, _ = select.select([sock], [sock], [], 10)
            if readable:
                break
            if writable:
                try:
                    sock.sendall(frame)
                except BlockingIOError:
                    continue
                sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass
    sock.setblocking(True)
    return sent


@pytest.mark.parametrize("path,limit,words", [("/api/v1/enroll", BODY_LIMIT, "over the limit"),
                                              ("/api/v1/push", PUSH_LIMIT, "smaller batches")])
def test_a_declared_length_over_the_limit_gets_413_before_any_body_is_sent(bounded_server, device, path, limit,
                                                                           words):
    token = harness.token_of(device("observer"))
    started = time.monotonic()
    sock = _head(bounded_server.port, path, {"Content-Length": 300 * MB, "Authorization": f"Bearer {token}"})
    status, data = _answer(sock)
    assert status == 413 and time.monotonic() - started < 2
    assert b"application/problem+json" in data and words.encode() in data and str(limit).encode() in data


@pytest.mark.parametrize("path,limit", [("/api/v1/enroll", BODY_LIMIT), ("/api/v1/push", PUSH_LIMIT)])
def test_a_chunked_body_over_the_limit_gets_413_and_the_server_does_not_hold_it(bounded_server, device, path,
                                                                                limit):
    token = harness.token_of(device("observer"))
    before = _rss_mb(bounded_server.proc.pid)
    started = time.monotonic()
    sock = _head(bounded_server.port, path, {"Transfer-Encoding": "chunked", "Authorization": f"Bearer {token}"})
    sent = _send_chunked(sock, 300 * MB)
    status, data = _answer(sock)
    assert status == 413 and b"application/problem+json" in data, data[:300]
    assert time.monotonic() - started < 5 and sent < 300 * MB
    assert _rss_mb(bounded_server.proc.pid) - before < 40


def test_a_body_that_stalls_gets_408_after_the_read_deadline(bounded_server):
    sock = _head(bounded_server.port, "/api/v1/enroll", {"Content-Length": "100"})
    sock.sendall(b'{"code": "')
    started = time.monotonic()
    status, data = _answer(sock)
    assert status == 408 and 1 < time.monotonic() - started < 10
    assert b"did not arrive in time" in data


def test_normal_pushes_and_enrollments_still_work(bounded_server, server_db, district, tmp_path):
    dev = harness.new_device(tmp_path / "fresh", bounded_server.url, district.code(district.user("observer")))
    dev.sync.sync_once()  # the district's schools and rubrics
    walk = harness.new_walk(dev, district.school_id)
    harness.record_visits(dev, walk.id, 3)
    dev.sync.sync_once()
    assert len(server_db.rows(Visit, Visit.district_id == district.id)) == 3
    # a push over the other routes' limit but within its own is read and answered
    padded = b'{"from_seq":1,"to_seq":1,"walks":[' + b" " * (2 * BODY_LIMIT) + b"]}"
    with harness.api(bounded_server.url, harness.token_of(dev)) as http:
        assert http.post("/api/v1/push", content=padded).status_code == 200
    dev.engine.dispose()

"""A loopback HTTP/1.1 proxy that injects network faults between a device and the real server.

It reads each request whole from the device, then passes it on over a fresh upstream connection, unless a
planned fault matches the request's path. Faults are consumed in the order they were planned, one per request:

    cut_request   forward only the first `arg` bytes of the request, then close both sides (the server never
                  receives a whole request, so it cannot have committed anything)
    cut_response  forward the request, read the server's whole answer (it has committed), give the device only
                  the first `arg` bytes of it, then close
    duplicate     send the same request bytes to the server twice at once (two connections); the device gets
                  one of the two answers; both are kept in the log
    delay_request wait `arg` seconds before forwarding (the device may give up meanwhile; the request still
                  reaches the server, late)
    delay_response forward at once, hold the answer `arg` seconds
    drop          read the request, signal `reached`, wait for `release`, close without forwarding
    hold_response forward, read the answer, signal `reached`, wait for `release`, then send it (if anyone is
                  still listening)

Every exchange with the server is logged (path, fault kind, the server's raw answers), so a test can compare
the answers of a retry with those of the lost original.
"""
from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Fault:
    kind: str
    path: str = "/api/v1/push"
    arg: float = 0
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)


@dataclass
class Exchange:
    method: str
    path: str
    fault: str | None
    request: bytes
    answers: list[bytes] = field(default_factory=list)  # raw HTTP responses from the server

    def bodies(self) -> list[dict]:
        return [json.loads(a.split(b"\r\n\r\n", 1)[1] or b"null") for a in self.answers]


def _read_message(f, *, response: bool) -> bytes | None:
    """One whole HTTP/1.1 message from a buffered socket file, raw; None if the peer closed first."""
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = f.readline(65536)
        if not line:
            return None if not head else head
        head += line
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        if b":" in line:
            k, v = line.split(b":", 1)
            headers[k.strip().lower()] = v.strip()
    if b"content-length" in headers:
        return head + f.read(int(headers[b"content-length"]))
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        body = b""
        while True:
            size_line = f.readline(65536)
            body += size_line
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            body += f.read(size + 2)
            if size == 0:
                return head + body
    if response and not head.split(b" ", 2)[1].startswith((b"1", b"204", b"304")):
        return head + f.read()  # no length: until the server closes
    return head


class FaultProxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1"):
        self.upstream = (upstream_host, upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._plan: list[Fault] = []
        self._lock = threading.Lock()
        self.log: list[Exchange] = []
        self._threads: list[threading.Thread] = []
        self._socks: list[socket.socket] = []
        self._closed = False
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self._threads.append(t)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def plan(self, kind: str, path: str = "/api/v1/push", arg: float = 0) -> Fault:
        fault = Fault(kind, path, arg)
        with self._lock:
            self._plan.append(fault)
        return fault

    def clear(self) -> None:
        """Forget the faults not met yet (and release any held request)."""
        with self._lock:
            for fault in self._plan:
                fault.release.set()
            self._plan.clear()

    def exchanges(self, path: str = "/api/v1/push") -> list[Exchange]:
        with self._lock:
            return [e for e in self.log if e.path.split("?")[0] == path]

    def close(self) -> None:
        self._closed = True
        with self._lock:
            for fault in self._plan:
                fault.release.set()
        for s in [self._listener, *self._socks]:  # shutdown wakes the threads blocked on these sockets
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        for t in self._threads:
            t.join(timeout=0.5)  # daemon threads; one stuck on a dead peer must not hold the test up

    # ---- internals ------------------------------------------------------------------------------

    def _take(self, path: str) -> Fault | None:
        with self._lock:
            for i, fault in enumerate(self._plan):
                if path.split("?")[0] == fault.path:
                    return self._plan.pop(i)
        return None

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self._socks.append(conn)
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()
            self._threads.append(t)

    def _exchange(self, raw: bytes, record: Exchange, partial: int | None = None) -> bytes | None:
        with socket.create_connection(self.upstream, timeout=120) as up:
            if partial is not None:
                up.sendall(raw[:partial])
                up.shutdown(socket.SHUT_RDWR)
                return None
            up.sendall(raw)
            with up.makefile("rb") as f:
                answer = _read_message(f, response=True) or b""
        with self._lock:
            record.answers.append(answer)
        return answer

    def _serve(self, conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        try:
            while not self._closed:
                raw = _read_message(reader, response=False)
                if raw is None:
                    return
                method, path = raw.split(b" ", 2)[:2]
                fault = self._take(path.decode())
                record = Exchange(method.decode(), path.decode(), fault.kind if fault else None, raw)
                with self._lock:
                    self.log.append(record)
                try:
                    if not self._handle(conn, raw, record, fault):
                        return
                finally:
                    if fault:
                        fault.done.set()
        except OSError:
            return
        finally:
            reader.close()
            conn.close()

    def _handle(self, conn: socket.socket, raw: bytes, record: Exchange, fault: Fault | None) -> bool:
        """Serve one request; False when the device connection is to be closed."""
        kind = fault.kind if fault else None
        if kind == "cut_request":
            self._exchange(raw, record, partial=int(fault.arg))
            return False
        if kind == "drop":
            fault.reached.set()
            fault.release.wait(60)
            return False
        if kind == "delay_request":
            time.sleep(fault.arg)
        if kind == "duplicate":
            twins = [threading.Thread(target=self._exchange, args=(raw, record)) for _ in range(2)]
            for t in twins:
                t.start()
            for t in twins:
                t.join()
            answer = record.answers[-1]
        else:
            answer = self._exchange(raw, record)
        if kind == "cut_response":
            conn.sendall(answer[:int(fault.arg)])
            return False
        if kind == "delay_response":
            time.sleep(fault.arg)
        if kind == "hold_response":
            fault.reached.set()
            fault.release.wait(60)
        conn.sendall(answer)
        return True

"""HTTP for the client when it runs in the browser (Pyodide): an httpx transport over synchronous XMLHttpRequest.

Pyodide has no sockets and no threads, so httpx's own transport cannot reach the network there. A synchronous
XHR is allowed in a Web Worker (where Flet runs the app's Python) and lets the sync and admin clients stay plain
synchronous httpx code. It blocks the Python worker while a request is out (the page keeps painting; taps wait):
a refused or offline request fails at once, a server that hangs holds it for at most the request's timeout.

The browser sends the request cross-origin, so the server must answer CORS for the app's origin
(LEARNWALK_CORS_ORIGINS, docs/admin.md). The XHR glue is thin; what it maps (headers, timeout, status, failures)
is in plain functions, tested on CPython. A streamed response (the admin's export download) arrives as one
buffered body.
"""
from __future__ import annotations

import sys
from typing import Iterable

import httpx

# headers the browser sets itself: setting them is refused ("unsafe header") or ignored
BROWSER_SETS = frozenset({
    "accept-charset", "accept-encoding", "connection", "content-length", "cookie", "date", "host", "keep-alive",
    "origin", "referer", "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "via"})
# the browser has already removed the transfer coding and decoded the body: keeping these would make httpx
# decode it a second time (or expect a length the decoded body does not have)
DECODED = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def default_transport() -> httpx.BaseTransport | None:
    """The transport the client's HTTP uses on this platform: XHR in the browser, httpx's own elsewhere (None)."""
    return XHRTransport() if sys.platform == "emscripten" else None


def request_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The request's headers that a page may set (Authorization, Content-Type, the protocol header, ...)."""
    return [(k, v) for k, v in headers if k.lower() not in BROWSER_SETS]


def timeout_ms(timeout: dict | None) -> int:
    """XHR has one timeout for the whole request: the longest of httpx's connect/read/write/pool limits, in ms
    (0: none). A phase without a limit (None) does not lift the others' limit."""
    limits = [v for v in (timeout or {}).values() if v]
    return int(max(limits) * 1000) if limits else 0


def response_headers(raw: str) -> list[tuple[str, str]]:
    """getAllResponseHeaders() ("name: value" lines, CRLF) as httpx headers, without the ones the browser
    already applied. A cross-origin answer shows only the safelisted headers and those the server exposes."""
    out = []
    for line in raw.split("\r\n"):
        name, sep, value = line.partition(":")
        if sep and name.strip() and name.strip().lower() not in DECODED:
            out.append((name.strip(), value.strip()))
    return out


def failure(name: str, message: str, request: httpx.Request) -> httpx.TransportError:
    """A request that got no answer, as the httpx error sync.http_client puts in words: the browser reports a
    timeout as TimeoutError, and everything else (refused, offline, DNS, a CORS refusal) as NetworkError."""
    text = f"{name}: {message}" if name and name not in message else message
    if name == "TimeoutError" or "timeout" in message.lower():
        return httpx.TimeoutException(text, request=request)
    return httpx.ConnectError(text, request=request)


def answer(status: int, raw_headers: str, body: bytes, request: httpx.Request) -> httpx.Response:
    """The httpx response for an XHR that completed. Status 0 means the browser got no usable answer (a CORS
    refusal looks like that), which is raised as no connection."""
    if status == 0:
        raise httpx.ConnectError("the browser received no answer (network, or the server's CORS refused this "
                                 "app's origin)", request=request)
    return httpx.Response(status, headers=response_headers(raw_headers), content=body, request=request)


class XHRTransport(httpx.BaseTransport):
    """httpx.BaseTransport over a synchronous XMLHttpRequest; only in a Web Worker under Pyodide."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        import js  # Pyodide's bridge to the browser: present only there
        from pyodide.ffi import JsException, to_js

        xhr = js.XMLHttpRequest.new()
        xhr.open(request.method, str(request.url), False)  # False: synchronous, allowed in workers
        xhr.responseType = "arraybuffer"
        xhr.timeout = timeout_ms(request.extensions.get("timeout"))
        for name, value in request_headers(request.headers.multi_items()):
            xhr.setRequestHeader(name, value)
        content = request.read()
        try:
            xhr.send(to_js(content) if content else None)
        except JsException as exc:
            raise failure(str(getattr(exc, "name", "") or ""), str(exc), request) from None
        body = js.Uint8Array.new(xhr.response).to_bytes() if xhr.response else b""
        return answer(int(xhr.status), str(xhr.getAllResponseHeaders() or ""), body, request)

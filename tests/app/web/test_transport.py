"""The browser transport's mapping, on CPython: what reaches XMLHttpRequest, and what comes back to httpx.

The XHR glue itself (XHRTransport.handle_request) runs only under Pyodide; the browser check of issue 11 ran it
against the real server. Everything it decides is in these plain functions.
"""
from __future__ import annotations

import httpx
import pytest

from app.sync_service import device_name
from app.web import transport
from sync.client import SyncClient
from sync.http_client import transport_cause
from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION


def _request(method="POST", body=b'{"a": 1}', timeout=httpx.Timeout(30.0)) -> httpx.Request:
    """The request the sync client really builds (its headers, its timeout), captured without sending it."""
    seen = []

    def capture(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    with SyncClient("https://walks.example.org", "tok-1", transport=httpx.MockTransport(capture)) as c:
        c._http.request(method, "/api/v1/sync/push", content=body, headers={"Content-Type": "application/json"},
                        timeout=timeout)
    return seen[0]


def test_the_page_sets_our_headers_and_leaves_the_browsers_own_to_it():
    headers = dict(transport.request_headers(_request().headers.multi_items()))
    assert headers["authorization"] == "Bearer tok-1"
    assert headers["content-type"] == "application/json"
    assert headers[PROTOCOL_HEADER.lower()] == str(PROTOCOL_VERSION)
    for name in ("host", "user-agent", "content-length", "accept-encoding", "connection"):
        assert name not in headers  # a browser refuses these ("unsafe header") and sets its own


def test_the_whole_request_gets_the_longest_phase_limit():
    assert transport.timeout_ms(_request().extensions["timeout"]) == 30_000
    assert transport.timeout_ms(_request(timeout=httpx.Timeout(30.0, read=600.0)).extensions["timeout"]) == 600_000
    assert transport.timeout_ms(_request(timeout=httpx.Timeout(None, connect=5.0)).extensions["timeout"]) == 5000
    assert transport.timeout_ms(_request(timeout=httpx.Timeout(None)).extensions["timeout"]) == 0  # no limit
    assert transport.timeout_ms(None) == 0


def test_an_answer_keeps_status_headers_and_body_but_not_the_browsers_decoding():
    raw = ("content-type: application/json\r\ncontent-length: 999\r\ncontent-encoding: gzip\r\n"
           "server-timing: apply;dur=4.2, total;dur=7\r\nretry-after: 30\r\n")
    resp = transport.answer(429, raw, b'{"detail": "Too many tries; wait 30 seconds."}', _request())
    assert resp.status_code == 429
    assert resp.json() == {"detail": "Too many tries; wait 30 seconds."}
    assert resp.headers["Server-Timing"] == "apply;dur=4.2, total;dur=7"
    assert resp.headers["Retry-After"] == "30"
    # the body is already decoded: no second gunzip, and the length is the decoded body's
    assert "content-encoding" not in resp.headers and resp.headers["content-length"] == str(len(resp.content))


def test_header_lines_split_at_the_first_colon_only():
    assert transport.response_headers("location: http://a:8000/x\r\n\r\nbroken line\r\n") == [
        ("location", "http://a:8000/x")]


@pytest.mark.parametrize("name, message, cls, cause", [
    ("NetworkError", "Failed to execute 'send' on 'XMLHttpRequest': Failed to load 'http://127.0.0.1:9/'.",
     httpx.ConnectError, "no connection could be made; is the address right and the network on?"),
    ("TimeoutError", "Failed to execute 'send' on 'XMLHttpRequest': The request timed out.",
     httpx.TimeoutException, "it did not answer in time"),
    ("", "timeout exceeded", httpx.TimeoutException, "it did not answer in time"),
])
def test_a_request_without_an_answer_becomes_the_httpx_error_the_client_puts_in_words(name, message, cls, cause):
    error = transport.failure(name, message, _request())
    assert type(error) is cls and name in str(error)
    assert transport_cause(error) == cause


def test_status_zero_is_no_connection():
    with pytest.raises(httpx.ConnectError, match="CORS"):
        transport.answer(0, "", b"", _request())


def test_off_the_browser_httpx_keeps_its_own_transport():
    assert transport.default_transport() is None


def test_in_the_browser_the_transport_is_xhr(monkeypatch):
    monkeypatch.setattr(transport.sys, "platform", "emscripten")
    assert isinstance(transport.default_transport(), transport.XHRTransport)


def test_a_browser_enrolls_as_browser_device_never_by_its_hostname():
    assert device_name("Emscripten") == "Browser device"
    assert device_name("Linux") == "Linux device"
    assert device_name("") == "Unknown device"

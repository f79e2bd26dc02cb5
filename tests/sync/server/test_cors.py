"""CORS for the offline web app (LEARNWALK_CORS_ORIGINS), against the real `learnwalk serve` process: a listed
origin gets the preflight and the answer headers a browser needs; an unlisted one gets none; a server without the
setting answers no origin; a bad value stops the start with one sentence."""
from __future__ import annotations

import httpx
import pytest

from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION
from tests.support import serverproc as harness

APP = "http://127.0.0.1:8000"  # where the built web app is served from (listed)
OTHER = "https://evil.example.org"  # not listed


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('server') / 'server.sqlite'}"
    db = harness.Db(url)
    db.url = url
    yield db
    db.engine.dispose()


@pytest.fixture(scope="module")
def cors_server(db):
    # a trailing slash and upper case, as an admin may type them: the browser's Origin has neither
    proc = harness.ServerProc(db.url, env={"LEARNWALK_CORS_ORIGINS": " HTTP://127.0.0.1:8000/ , https://walks.example.org"})
    proc.start()
    yield proc
    proc.stop()


def _preflight(url: str, origin: str) -> httpx.Response:
    return httpx.options(f"{url}/api/v1/sync/push", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": f"authorization,content-type,{PROTOCOL_HEADER.lower()}"})


def _enroll(url: str, origin: str, code: str) -> httpx.Response:
    return httpx.post(f"{url}/api/v1/enroll", json={"code": code, "device_name": "Browser device"},
                      headers={"Origin": origin, PROTOCOL_HEADER: str(PROTOCOL_VERSION)})


def test_a_listed_origin_passes_the_preflight_with_our_headers(cors_server):
    resp = _preflight(cors_server.url, APP)
    assert resp.status_code == 200
    assert resp.headers["access-control-allow-origin"] == APP
    allowed = {h.strip().lower() for h in resp.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", PROTOCOL_HEADER.lower()} <= allowed
    assert "POST" in resp.headers["access-control-allow-methods"]
    assert resp.headers["access-control-max-age"] == "7200"  # the browser asks once per two hours, not per call
    assert "access-control-allow-credentials" not in resp.headers  # the token is a header, never a cookie


def test_a_listed_origin_reads_the_answer_and_its_timing_and_retry_headers(cors_server, db):
    district = db.district()
    resp = _enroll(cors_server.url, APP, district.code(district.user("observer")))
    assert resp.status_code == 200, resp.text
    assert resp.headers["access-control-allow-origin"] == APP
    exposed = {h.strip().lower() for h in resp.headers["access-control-expose-headers"].split(",")}
    assert exposed == {"server-timing", "retry-after"}
    assert "origin" in resp.headers["vary"].lower()  # a cache must not hand one origin's answer to another
    # a refusal carries the headers too, so the app can show the server's sentence instead of "no connection"
    refused = _enroll(cors_server.url, APP, "not-a-code")
    assert refused.status_code >= 400 and refused.headers["access-control-allow-origin"] == APP
    assert refused.json()["detail"]


def test_an_unlisted_origin_gets_no_cors_headers(cors_server):
    pre = _preflight(cors_server.url, OTHER)
    assert pre.status_code >= 400
    assert "access-control-allow-origin" not in pre.headers
    resp = httpx.get(f"{cors_server.url}/api/v1/health", headers={"Origin": OTHER})
    assert resp.status_code == 200  # answered (no browser reads it), but with nothing that lets a page read it
    assert not [h for h in resp.headers if h.startswith("access-control-")]


def test_without_the_setting_no_origin_is_answered(db):
    proc = harness.ServerProc(db.url, env={"LEARNWALK_CORS_ORIGINS": ""}).start()
    try:
        pre = _preflight(proc.url, APP)
        resp = httpx.get(f"{proc.url}/api/v1/health", headers={"Origin": APP})
    finally:
        proc.stop()
    assert "access-control-allow-origin" not in pre.headers
    assert resp.status_code == 200 and not [h for h in resp.headers if h.startswith("access-control-")]


@pytest.mark.parametrize("value", ["*", "https://walks.example.org/app", "walks.example.org",
                                   f"{APP}, null"])
def test_a_bad_setting_stops_the_start_with_one_sentence(db, value):
    proc = harness.ServerProc(db.url, env={"LEARNWALK_CORS_ORIGINS": value})
    with pytest.raises(RuntimeError) as failed:
        proc.start(timeout=20)
    said = str(failed.value).removeprefix("server exited: ").strip()
    bad = value.split(",")[-1].strip()
    assert said == (f"LEARNWALK_CORS_ORIGINS: '{bad}' is not a web app origin; list each site that serves the "
                    "app as scheme://host[:port], comma-separated, e.g. https://walks.district.org (never *).")
    assert proc.proc.returncode == 1

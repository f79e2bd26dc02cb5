"""Each face maps the one error root once: the HTTP API answers any LearnwalkError as problem+json with its
sentence, and the app's screens show its sentence (anything else: one plain sentence, never a class name)."""
from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.testclient import TestClient

from sync.errors import LearnwalkError
from sync.server import errors
from sync.server.directory.people import DirectoryError


def _app() -> FastAPI:
    app = FastAPI()
    errors.install(app)

    @app.get("/refused")
    def refused():
        raise DirectoryError("There is no school called Lincoln in this district; add it first.")

    @app.get("/api-error")
    def api_error():
        raise errors.ApiError(409, "That school already exists.")

    return app


def test_a_learnwalk_error_no_route_mapped_is_answered_400_with_its_sentence():
    with TestClient(_app()) as client:
        resp = client.get("/refused")
    assert resp.status_code == 400 and resp.headers["content-type"] == errors.PROBLEM
    assert resp.json()["detail"] == "There is no school called Lincoln in this district; add it first."


def test_an_api_error_keeps_its_own_status():
    with TestClient(_app()) as client:
        resp = client.get("/api-error")
    assert resp.status_code == 409 and resp.json()["detail"] == "That school already exists."


def test_the_app_shows_a_learnwalk_errors_sentence_and_a_bug_as_one_plain_sentence(caplog):
    from app.views.context import UNEXPECTED, message_of

    assert message_of(LearnwalkError("The visit was deleted on another device.")) == \
        "The visit was deleted on another device."
    with caplog.at_level(logging.ERROR, logger="learnwalk.app"):
        try:
            {}["secret note text"]
        except KeyError as exc:
            said = message_of(exc)
    assert said == UNEXPECTED and "KeyError" not in said
    assert "KeyError" in caplog.text and "secret note text" not in caplog.text

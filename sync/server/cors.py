"""CORS for the offline web app: the browser lets a page served from a listed origin (LEARNWALK_CORS_ORIGINS,
sync.server.config.parse_origins) call this server, and no other. Off when the list is empty."""
from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Message, Send

from sync.protocol import PROTOCOL_HEADER

MAX_AGE = 7200  # seconds a browser may reuse a preflight (Chromium's own cap)
# what the clients send and read: the device token, JSON, the protocol version; the push's timing, a 429's wait
ALLOW_HEADERS = ["Authorization", "Content-Type", PROTOCOL_HEADER]
EXPOSE_HEADERS = ["Server-Timing", "Retry-After"]


class AppOrigins(CORSMiddleware):
    """Starlette's CORS, except that an answer to an unlisted origin carries no CORS header at all (Starlette
    would still send Access-Control-Expose-Headers), only Vary: Origin for caches."""

    async def send(self, message: Message, send: Send, request_headers: Headers) -> None:
        origin = request_headers.get("Origin")
        if message["type"] == "http.response.start" and origin is not None and not self.is_allowed_origin(origin):
            message.setdefault("headers", [])
            headers = MutableHeaders(scope=message)
            headers["Vary"] = ", ".join([*headers.getlist("Vary"), "Origin"])
            await send(message)
            return
        await super().send(message, send, request_headers)


def install(app: FastAPI, origins: list[str]) -> None:
    """Answer the listed origins; call last, so the CORS layer is outermost: a preflight is answered before
    anything else, and refusals (401, 413, 429) carry the headers the app needs to read their sentence."""
    if not origins:
        return
    # no credentials: the device token travels in Authorization, never in a cookie
    app.add_middleware(AppOrigins, allow_origins=origins, allow_credentials=False,
                       allow_methods=["GET", "POST", "PATCH"], allow_headers=ALLOW_HEADERS,
                       expose_headers=EXPOSE_HEADERS, max_age=MAX_AGE)

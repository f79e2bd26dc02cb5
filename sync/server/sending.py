"""Answers written in parts, each with a deadline: a client that takes no part of an answer for send_seconds is
dropped (as nginx's send_timeout), so a stalled reader holds its answer's bytes for a bounded time only.

A part is at most PART bytes: the server's send buffer then holds at most about two parts (uvicorn waits for it to
drain before it takes the next), whatever the size of the answer. A slow but moving client gets every part; one
that stops reading is dropped after the deadline: the rest of its answer is let go and the connection closed. Both
the pull page (built whole before a byte is written, its database connection already back in the pool) and the
streamed exports go through here; an export stops producing rows when its client is dropped.
"""
from __future__ import annotations

import asyncio
import logging

PART = 64 * 1024

log = logging.getLogger("learnwalk.server")


class _Dropped(Exception):
    """Raised from send() when the client took nothing within the deadline; ends the answer."""


class SendDeadline:
    def __init__(self, app, settings):
        self.app, self.settings = app, settings

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        idle = self.settings.send_seconds

        async def send_one(message) -> None:
            try:
                await asyncio.wait_for(send(message), idle)
            except asyncio.TimeoutError:
                raise _Dropped from None

        async def paced_send(message) -> None:
            body = message.get("body", b"") if message["type"] == "http.response.body" else b""
            if len(body) <= PART:
                return await send_one(message)
            more = message.get("more_body", False)
            view = memoryview(body)
            for at in range(0, len(body), PART):
                last = at + PART >= len(body)
                await send_one({"type": "http.response.body", "body": bytes(view[at:at + PART]),
                                "more_body": more or not last})

        try:
            await self.app(scope, receive, paced_send)
        except _Dropped:
            # the server then closes the connection (the answer is incomplete): nothing identifying in the line
            log.warning("A client took no part of an answer for %g s (%s %s); its connection was dropped.",
                        idle, scope.get("method", ""), scope.get("path", ""))

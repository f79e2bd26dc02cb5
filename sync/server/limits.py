"""Request bodies bounded before they are read: an ASGI middleware that refuses (413, problem+json) a declared
Content-Length over the route's limit at once and a streamed (chunked) body as soon as its bytes pass it, and
answers 408 when the next part of a body does not come within the read deadline. A push has its own larger limit
(the client splits a batch on 413); every other route has max_body_bytes."""
from __future__ import annotations

import asyncio

from sync.server.errors import ApiError, problem, too_large

PUSH_PATH = "/api/v1/push"


class _Refused(Exception):
    """Raised from receive() when the body is too large or too slow; carries the answer to send instead."""

    def __init__(self, error: ApiError):
        super().__init__(error.detail)
        self.error = error


def _limit_error(path: str, limit: int) -> ApiError:
    if path == PUSH_PATH:
        return too_large(limit, "This push", "send the entries in smaller batches")
    return too_large(limit)


class BodyLimit:
    def __init__(self, app, settings):
        self.app, self.settings = app, settings

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        limit = self.settings.max_push_bytes if path == PUSH_PATH else self.settings.max_body_bytes
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return await self._answer(send, _limit_error(path, limit) if declared.isdigit()
                                      else ApiError(400, "The Content-Length header is not a number; send the "
                                                         "request again from a regular HTTP client."))
        state = {"read": 0, "done": False, "refused": None, "started": False}
        # as nginx's client_body_timeout: the longest wait for the next part of the body, so a slow but moving
        # upload finishes and a stalled one frees its worker
        idle = self.settings.body_read_seconds

        async def bounded_receive():
            if state["done"]:
                return await receive()  # after the body: a wait for disconnect, not bounded
            try:
                message = await asyncio.wait_for(receive(), idle)
            except asyncio.TimeoutError:
                state["refused"] = ApiError(408, "The request body did not arrive in time; send it again on a "
                                                 "steadier connection.")
                raise _Refused(state["refused"]) from None
            if message["type"] == "http.request":
                state["read"] += len(message.get("body", b""))
                if state["read"] > limit:
                    state["refused"] = _limit_error(path, limit)
                    raise _Refused(state["refused"])
                state["done"] = not message.get("more_body", False)
            else:  # the client went away
                state["done"] = True
            return message

        async def guarded_send(message):
            # a framework may turn the error raised from receive() into its own answer (FastAPI's "error parsing
            # the body" 400): the refusal's answer goes out instead
            if state["refused"] is not None:
                if not state["started"]:
                    state["started"] = True
                    await self._answer(send, state["refused"])
                return
            state["started"] = True
            await send(message)

        try:
            await self.app(scope, bounded_receive, guarded_send)
        except _Refused:
            if not state["started"]:
                state["started"] = True
                await self._answer(send, state["refused"])

    @staticmethod
    async def _answer(send, error: ApiError) -> None:
        response = problem(error.status, error.detail, error.headers)
        # the rest of the body is not read: the connection closes after the answer
        response.headers["connection"] = "close"
        await response({"type": "http"}, None, send)

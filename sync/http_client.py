"""HttpClient: what the sync client and the admin client share when they talk to a learnwalk server.

One httpx.Client per server with the base URL, the device token, the protocol header and timeouts (the transport
is swappable in tests: httpx.MockTransport). Every transport failure and every error answer becomes one
LearnwalkError subclass (each client names its own) with one plain sentence: what happened and what to do next,
never an exception class name.
"""
from __future__ import annotations

import httpx

from sync.errors import LearnwalkError
from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION


class ServerError(LearnwalkError):
    """A call to a server did not work. status: the HTTP status of an error answer (None when none came back);
    retryable: worth trying again later; problems: a refused rubric's `file:line: what; how to fix` lines."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = True,
                 problems: list[str] | None = None):
        super().__init__(message)
        self.status, self.retryable, self.problems = status, retryable, problems or []


def transport_cause(exc: httpx.HTTPError) -> str:
    """What went wrong on the way, in words."""
    if isinstance(exc, httpx.TimeoutException):
        return "it did not answer in time"
    if isinstance(exc, httpx.ConnectError):
        return "no connection could be made; is the address right and the network on?"
    if isinstance(exc, (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)):
        return "the connection broke off"
    return "the network failed"


def answer_body(resp: httpx.Response) -> dict:
    """The problem+json body of an error answer ({} when it is not JSON)."""
    try:
        body = resp.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class HttpClient:
    error: type[ServerError] = ServerError  # the error class this client raises
    user_agent = f"learnwalk/{PROTOCOL_VERSION}"

    def __init__(self, server_url: str, token: str | None = None, *, transport: httpx.BaseTransport | None = None,
                 timeout: float | httpx.Timeout = 30.0):
        self.server_url = server_url.rstrip("/")
        headers = {PROTOCOL_HEADER: str(PROTOCOL_VERSION), "User-Agent": self.user_agent}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(base_url=self.server_url, headers=headers, timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- errors in words ----------------------------------------------------------------------------

    def unreachable(self, exc: httpx.HTTPError) -> ServerError:
        """The error for a request that got no answer; the sentence ends with this client's next step."""
        return self.error(f"The server at {self.server_url} could not be reached ({transport_cause(exc)}); "
                          f"{self.next_step}", status=None, retryable=True)

    next_step = "check the address and the network, then try again."

    def refused(self, resp: httpx.Response) -> ServerError:
        """The error for an error answer: the server's problem+json detail, else its status in words."""
        body = answer_body(resp)
        detail = body.get("detail")
        if not isinstance(detail, str) or not detail:
            detail = f"The server answered {resp.status_code} {resp.reason_phrase}; try again later, or ask your admin."
        problems = body.get("problems")
        return self.error(detail, status=resp.status_code, retryable=resp.status_code >= 500,
                          problems=problems if isinstance(problems, list) else None)

    # ---- requests -----------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, accept: tuple[int, ...] = (), **kw) -> httpx.Response:
        """Send one request; an answer of 400 or more raises this client's error unless its status is in accept."""
        try:
            resp = self._http.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise self.unreachable(exc) from None
        if resp.status_code >= 400 and resp.status_code not in accept:
            raise self.refused(resp)
        return resp

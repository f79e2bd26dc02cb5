"""Errors as problem+json (RFC 9457) whose detail is one plain sentence saying what to fix.

ApiError carries its HTTP status; any other LearnwalkError that reaches the app is answered 400 with its sentence.
"""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sync.errors import LearnwalkError

PROBLEM = "application/problem+json"

_TITLES = {400: "Bad request", 401: "Not signed in", 403: "Not allowed", 404: "Not found", 408: "Too slow",
           409: "Conflict", 413: "Too large", 422: "Invalid input", 426: "Upgrade required", 429: "Too many attempts",
           500: "Server error", 503: "Unavailable"}


# Problem types (RFC 9457 `type`) of the refusals of requests the OpenAPI schema calls well formed: what they break
# is something JSON Schema cannot say (one field against another, a code the server must look up, a rubric file's
# content). Each operation's description in /openapi.json names the ones it may answer; every other refusal is
# "about:blank" and means the request broke its schema.
PUSH_ENVELOPE = "urn:learnwalk:problem:push-envelope"      # to_seq below from_seq; op_seqs out of range or twice
ENROLLMENT_CODE = "urn:learnwalk:problem:enrollment-code"  # a code of the right form that is unknown, used or expired
RUBRIC_CONTENT = "urn:learnwalk:problem:rubric-content"    # the file breaks the rubric format (problems: file:line)
DATE_RANGE = "urn:learnwalk:problem:date-range"            # an export's from date after its to date


class ApiError(LearnwalkError):
    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None, type: str = "about:blank"):
        super().__init__(detail)
        self.status, self.detail, self.headers, self.type = status, detail, headers, type


def printable(detail: str) -> str:
    # a sentence may quote what was sent: a NUL or a lone surrogate is shown escaped (the latter cannot be UTF-8)
    return detail.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")


def problem(status: int, detail: str, headers: dict[str, str] | None = None, type: str = "about:blank",
            **more) -> JSONResponse:
    detail = printable(detail)
    body = {"type": type, "title": _TITLES.get(status, "Error"), "status": status, "detail": detail, **more}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def too_many(detail: str, retry_after: int) -> ApiError:
    """429 with the seconds to wait in Retry-After (RFC 9110), for a client that should try again later."""
    return ApiError(429, detail, {"Retry-After": str(retry_after)})


def too_large(limit: int, what: str = "This request body", hint: str = "send less at once") -> ApiError:
    return ApiError(413, f"{what} is over the limit of {limit} bytes; {hint}.")


def documented(status: int, retry_after: bool = False) -> dict:
    """An answer besides the common ones, for a route's `responses=`: problem+json (and Retry-After)."""
    answer = {"description": _TITLES.get(status, "Error"),
              "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    if retry_after:
        answer["headers"] = {"Retry-After": {"description": "Seconds to wait before trying again",
                                             "schema": {"type": "integer"}}}
    return answer


def _where(loc) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "request"


_PROBLEM_SCHEMA = {"title": "Problem", "type": "object", "required": ["type", "title", "status", "detail"],
                   "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                                  "status": {"type": "integer"}, "detail": {"type": "string"},
                                  "problems": {"type": "array", "items": {"type": "string"}}}}
# the answers any call may get besides its own (health excepted): every one is problem+json
_ERROR_CODES = (400, 401, 403, 404, 409, 413, 422, 426)


def _document_problems(app: FastAPI) -> None:
    """Describe the error answers in /openapi.json as they are sent (problem+json), not as FastAPI's defaults."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            spec = build()
            spec.setdefault("components", {}).setdefault("schemas", {})["Problem"] = _PROBLEM_SCHEMA
            ref = {"$ref": "#/components/schemas/Problem"}
            for path, item in spec.get("paths", {}).items():
                if path.endswith("/health"):
                    continue
                for op in item.values():
                    responses = op.setdefault("responses", {})
                    for code in _ERROR_CODES:
                        responses[str(code)] = {"description": _TITLES.get(code, "Error"),
                                                "content": {PROBLEM: {"schema": ref}}}
        return app.openapi_schema

    app.openapi = openapi


def install(app: FastAPI) -> None:
    _document_problems(app)

    @app.exception_handler(ApiError)
    async def _api_error(_req: Request, exc: ApiError):
        return problem(exc.status, exc.detail, exc.headers, exc.type)

    @app.exception_handler(LearnwalkError)
    async def _refusal(_req: Request, exc: LearnwalkError):
        # a refusal that no route turned into an ApiError still reaches the caller as its sentence, not as a 500
        return problem(getattr(exc, "status", None) or 400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_req: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid"}
        return problem(422, f"{_where(first.get('loc', ()))}: {first.get('msg', 'invalid')}; fix it and send again.")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else "The request could not be served."
        return problem(exc.status_code, detail, getattr(exc, "headers", None))

"""httpx client for the admin and export endpoints: used by the app's Admin screen and `learnwalk export --server`.

Every failure becomes AdminClientError with one plain sentence (the server's problem+json detail, or what went
wrong on the way); a refused rubric also carries `problems`, one `file:line: what; how to fix` each.
"""
from __future__ import annotations

from typing import BinaryIO, Callable

import httpx

from sync.errors import LearnwalkError
from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION


class AdminClientError(LearnwalkError):
    def __init__(self, message: str, status: int | None = None, problems: list[str] | None = None):
        super().__init__(message)
        self.status, self.problems = status, problems or []


class AdminClient:
    def __init__(self, server: str, token: str, transport: httpx.BaseTransport | None = None,
                 timeout: float = 30.0):
        self.server = server.rstrip("/")
        self._http = httpx.Client(base_url=self.server, transport=transport, timeout=timeout,
                                  headers={"Authorization": f"Bearer {token}", PROTOCOL_HEADER: str(PROTOCOL_VERSION)})

    def __enter__(self) -> "AdminClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # ---- plumbing ---------------------------------------------------------------------------------------

    def _fail(self, resp: httpx.Response) -> AdminClientError:
        try:
            body = resp.json()
        except ValueError:
            body = {}
        detail = body.get("detail") if isinstance(body, dict) else None
        return AdminClientError(detail or f"The server answered {resp.status_code}; try again, or ask your admin.",
                                resp.status_code, body.get("problems") if isinstance(body, dict) else None)

    def _call(self, method: str, path: str, **kw):
        try:
            resp = self._http.request(method, f"/api/v1{path}", **kw)
        except httpx.HTTPError as exc:
            raise AdminClientError(f"Could not reach the server at {self.server} ({type(exc).__name__}); "
                                   "check the address and the network, then try again.") from None
        if resp.status_code >= 400:
            raise self._fail(resp)
        return resp.json()

    def _download(self, path: str, params: dict, out: BinaryIO, progress: Callable[[int], None] | None) -> int:
        written = 0
        try:
            with self._http.stream("GET", f"/api/v1{path}", params=params, timeout=httpx.Timeout(30.0, read=600.0)) as resp:
                if resp.status_code >= 400:
                    resp.read()
                    raise self._fail(resp)
                for chunk in resp.iter_bytes():
                    out.write(chunk)
                    written += len(chunk)
                    if progress:
                        progress(len(chunk))
        except httpx.HTTPError as exc:
            raise AdminClientError(f"The download from {self.server} broke off ({type(exc).__name__}) after "
                                   f"{written} bytes; run the export again.") from None
        return written

    # ---- exports ----------------------------------------------------------------------------------------

    def export(self, fmt: str, params: dict, out: BinaryIO, progress: Callable[[int], None] | None = None) -> int:
        """Stream an export (csv, csv-wide, xlsx, jsonl) into `out`; returns the bytes written."""
        return self._download(f"/export/{fmt}", params, out, progress)

    def export_audit(self, fmt: str, out: BinaryIO) -> int:
        return self._download("/admin/audit/export", {"format": fmt}, out, None)

    # ---- administration ---------------------------------------------------------------------------------

    def rubrics(self) -> list[dict]:
        return self._call("GET", "/admin/rubrics")

    def publish_rubric(self, filename: str, text: str) -> dict:
        return self._call("POST", "/admin/rubrics", json={"filename": filename, "text": text})

    def schools(self) -> list[dict]:
        return self._call("GET", "/admin/schools")

    def create_school(self, name: str) -> dict:
        return self._call("POST", "/admin/schools", json={"name": name})

    def users(self) -> list[dict]:
        return self._call("GET", "/admin/users")

    def create_user(self, email: str, role: str) -> dict:
        return self._call("POST", "/admin/users", json={"email": email, "role": role})

    def update_user(self, user_id: str, role: str | None = None, active: bool | None = None) -> dict:
        body = {k: v for k, v in (("role", role), ("active", active)) if v is not None}
        return self._call("PATCH", f"/admin/users/{user_id}", json=body)

    def enrollment_code(self, user_id: str) -> dict:
        return self._call("POST", f"/admin/users/{user_id}/enrollment-code")

    def devices(self) -> list[dict]:
        return self._call("GET", "/admin/devices")

    def revoke_device(self, device_id: str) -> dict:
        return self._call("POST", f"/admin/devices/{device_id}/revoke")

    def settings(self) -> dict:
        return self._call("GET", "/admin/settings")

    def update_settings(self, **changes) -> dict:
        return self._call("PATCH", "/admin/settings", json=changes)

    def audit(self, limit: int = 200, before_id: int | None = None, action: str | None = None) -> list[dict]:
        params = {k: v for k, v in (("limit", limit), ("before_id", before_id), ("action", action)) if v is not None}
        return self._call("GET", "/admin/audit", params=params)

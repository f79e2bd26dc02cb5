"""httpx client for the admin and export endpoints: used by the app's Admin screen and `learnwalk export --server`.

Every failure becomes AdminClientError with one plain sentence (the server's problem+json detail, or what went
wrong on the way: sync.http_client); a refused rubric also carries `problems`, one `file:line: what; how to fix`
each.
"""
from __future__ import annotations

from typing import BinaryIO, Callable

import httpx

from sync.http_client import HttpClient, ServerError, transport_cause


class AdminClientError(ServerError):
    """An admin or export call that did not work; `problems` lists a refused rubric's problems."""


class AdminClient(HttpClient):
    error = AdminClientError

    def __init__(self, server: str, token: str, transport: httpx.BaseTransport | None = None,
                 timeout: float = 30.0):
        super().__init__(server, token, transport=transport, timeout=timeout)

    @property
    def server(self) -> str:
        return self.server_url

    # ---- plumbing ---------------------------------------------------------------------------------------

    def _call(self, method: str, path: str, **kw):
        return self.request(method, f"/api/v1{path}", **kw).json()

    def _download(self, path: str, params: dict, out: BinaryIO, progress: Callable[[int], None] | None) -> int:
        written = 0
        try:
            timeout = httpx.Timeout(30.0, read=600.0)  # a big export may take minutes before its next bytes
            with self._http.stream("GET", f"/api/v1{path}", params=params, timeout=timeout) as resp:
                if resp.status_code >= 400:
                    resp.read()
                    raise self.refused(resp)
                for chunk in resp.iter_bytes():
                    out.write(chunk)
                    written += len(chunk)
                    if progress:
                        progress(len(chunk))
        except httpx.HTTPError as exc:
            if not written:
                raise self.unreachable(exc) from None
            raise AdminClientError(f"The download from {self.server_url} broke off after {written} bytes "
                                   f"({transport_cause(exc)}); run the export again.") from None
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

"""A small client of Airflow 3's REST API v2 (the public API under /api/v2), standard library only.

It logs in through the simple auth manager's token endpoint (POST /auth/token) and sends the JWT as
a bearer token. A read (GET) that times out or finds the server unreachable is tried again: on a busy
laptop the API server, sharing SQLite with the scheduler, sometimes answers late, and following a
run must not end on one slow answer. Writes are sent once.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

TIMEOUT_S = 60
READ_ATTEMPTS = 3
RETRY_PAUSE_S = 2.0


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


def _q(value: str) -> str:
    return urllib.parse.quote(value, safe="")


class Airflow:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._token: str | None = None

    def _request(self, method: str, path: str, body: Any = None, auth: bool = True) -> Any:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if auth and self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        req = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        attempts = READ_ATTEMPTS if method == "GET" else 1
        for attempt in range(1, attempts + 1):
            try:
                with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
                    raw = resp.read()
                break
            except urllib.error.HTTPError as exc:
                detail = exc.read().decode("utf-8", "replace")[:500]
                raise ApiError(exc.code, detail) from exc
            except (TimeoutError, urllib.error.URLError, ConnectionError):
                if attempt == attempts:
                    raise
                time.sleep(RETRY_PAUSE_S)
        return json.loads(raw) if raw else None

    def login(self, username: str, password: str) -> None:
        answer = self._request("POST", "/auth/token", {"username": username, "password": password}, auth=False)
        self._token = answer["access_token"]

    def health(self) -> dict[str, Any]:
        """Status of the metadatabase, scheduler, triggerer and dag processor (no login needed)."""
        return dict(self._request("GET", "/api/v2/monitor/health", auth=False))

    def dags(self) -> list[dict[str, Any]]:
        return list(self._request("GET", "/api/v2/dags?limit=1000")["dags"])

    def dag(self, dag_id: str) -> dict[str, Any] | None:
        try:
            return dict(self._request("GET", f"/api/v2/dags/{_q(dag_id)}"))
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def import_errors(self) -> list[dict[str, Any]]:
        return list(self._request("GET", "/api/v2/importErrors?limit=1000")["import_errors"])

    def unpause(self, dag_id: str) -> None:
        self._request("PATCH", f"/api/v2/dags/{_q(dag_id)}", {"is_paused": False})

    def trigger(self, dag_id: str, logical_date: str) -> dict[str, Any]:
        return dict(self._request("POST", f"/api/v2/dags/{_q(dag_id)}/dagRuns", {"logical_date": logical_date}))

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return dict(self._request("GET", f"/api/v2/dags/{_q(dag_id)}/dagRuns/{_q(run_id)}"))

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        path = f"/api/v2/dags/{_q(dag_id)}/dagRuns/{_q(run_id)}/taskInstances?limit=1000"
        return list(self._request("GET", path)["task_instances"])

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        """The task's XCom value, or None when it pushed none."""
        path = f"/api/v2/dags/{_q(dag_id)}/dagRuns/{_q(run_id)}/taskInstances/{_q(task_id)}/xcomEntries/{_q(key)}"
        try:
            value = self._request("GET", path)["value"]
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        if isinstance(value, str):  # stored serialized: decode once
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    def log_lines(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> list[str]:
        """The task try's log, one string per line."""
        path = (
            f"/api/v2/dags/{_q(dag_id)}/dagRuns/{_q(run_id)}/taskInstances/{_q(task_id)}/logs/{try_number}"
            "?full_content=true"
        )
        content = self._request("GET", path).get("content", [])
        lines: list[str] = []
        for item in content:
            if isinstance(item, dict):
                event = str(item.get("event", ""))
                level = item.get("level")
                lines.extend(f"[{level}] {line}" if level else line for line in event.splitlines() or [""])
            else:
                lines.extend(str(item).splitlines())
        return lines

"""Airflow connection strings, built exactly the way Airflow writes them.

URI form (``Connection.get_uri``): every component is percent-encoded with
``urllib.parse.quote(value, safe='')``; string extras become query parameters, and extras that
are not all strings travel as one ``__extra__`` parameter holding JSON. JSON form: the object
Airflow 2.3+ accepts in ``AIRFLOW_CONN_<ID>``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode


def conn_uri(
    conn_type: str,
    host: str | None = None,
    port: int | None = None,
    login: str | None = None,
    password: str | None = None,
    schema: str | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """An Airflow connection URI such as ``postgres://user:pw@host:5432/db?sslmode=require``."""
    uri = f"{conn_type}://"
    if login is not None or password is not None:
        uri += quote(login or "", safe="")
        if password is not None:
            uri += ":" + quote(password, safe="")
        uri += "@"
    if host:
        uri += quote(host, safe="")
    if port is not None:
        uri += f":{port}"
    if schema:
        uri += "/" + quote(schema, safe="")
    if extra:
        if all(isinstance(v, str) for v in extra.values()):
            uri += "?" + urlencode(extra, safe="", quote_via=quote)
        else:
            uri += "?" + urlencode({"__extra__": json.dumps(extra)}, safe="", quote_via=quote)
    return uri


def conn_json(
    conn_type: str,
    host: str | None = None,
    port: int | None = None,
    login: str | None = None,
    password: str | None = None,
    schema: str | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """An Airflow connection in JSON form (compact, one line)."""
    obj: dict[str, Any] = {"conn_type": conn_type}
    for key, value in (
        ("host", host),
        ("port", port),
        ("login", login),
        ("password", password),
        ("schema", schema),
        ("extra", extra),
    ):
        if value is not None:
            obj[key] = value
    return json.dumps(obj, separators=(",", ":"))


def env_name(conn_id: str) -> str:
    """The environment variable Airflow reads connection CONN_ID from."""
    return "AIRFLOW_CONN_" + conn_id.upper()

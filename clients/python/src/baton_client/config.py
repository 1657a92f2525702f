"""Settings both clients share: base URL and token (also from BATON_URL / BATON_TOKEN), headers."""

from __future__ import annotations

import os
from typing import Dict, Iterable, Optional, Tuple
from urllib.parse import urlsplit

from ._version import __version__
from .exchange import Request, Response

DEFAULT_URL = "http://127.0.0.1:8080"


def resolve_url(url: Optional[str]) -> str:
    value = url or os.environ.get("BATON_URL") or DEFAULT_URL
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"Baton URL {value!r} is not an http(s) URL")
    return value.rstrip("/")


def resolve_token(token: Optional[str]) -> Optional[str]:
    return token if token is not None else (os.environ.get("BATON_TOKEN") or None)


def headers(token: Optional[str]) -> Dict[str, str]:
    out = {"accept": "application/json, application/problem+json", "user-agent": f"baton-client-python/{__version__}"}
    if token:
        out["authorization"] = f"Bearer {token}"
    return out


def body_headers(req: Request) -> Dict[str, str]:
    return {"content-type": "application/json"} if req.body is not None else {}


def to_response(status: int, header_items: Iterable[Tuple[str, str]], body: bytes) -> Response:
    return Response(status, {k.lower(): v for k, v in header_items}, body)

"""Signed, expiring download links for rendered files.

A link is ``/files/<name>?expires=<unix seconds>&sig=<hex>``, where ``sig`` is an HMAC of the
name and the expiry. Nothing is stored per link: the engine can hand out a fresh one on every
``GET /render-jobs/{id}`` and check any of them later, also after a restart.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from urllib.parse import urlencode


def signing_key(api_key: str, account_id: str) -> bytes:
    """The HMAC key of an engine: derived, never stored, and never the API key itself."""
    return hashlib.sha256(f"parafraim-engine-files:{account_id}:{api_key}".encode()).digest()


def _signature(key: bytes, name: str, expires: int) -> str:
    return hmac.new(key, f"{name}\n{expires}".encode(), hashlib.sha256).hexdigest()


def signed_path(key: bytes, name: str, *, now: float, ttl_seconds: float) -> str:
    """The path and query of a link to file ``name`` that works until ``now + ttl``."""
    expires = math.ceil(now + ttl_seconds)
    query = urlencode({"expires": expires, "sig": _signature(key, name, expires)})
    return f"/files/{name}?{query}"


def check_link(key: bytes, name: str, expires: str | None, sig: str | None, *, now: float) -> str:
    """Why the link is refused, or ``""`` when it is valid."""
    if not expires or not sig:
        return "the link is not signed"
    try:
        expiry = int(expires)
    except ValueError:
        return "the link is not signed"
    if not hmac.compare_digest(_signature(key, name, expiry), sig):
        return "the link's signature is wrong"
    if now >= expiry:
        return "the link has expired"
    return ""

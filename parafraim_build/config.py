"""Settings from the environment: where the API is and which key to use.

``settings_from_env`` is the one way in. It checks everything before a request is made, so a
missing or malformed key, or a plain-http URL to a remote host, fails as a ``ConfigError``
that names the variable to fix and never echoes the key.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from parafraim_build.errors import ConfigError
from parafraim_build.logs import register_secret

ENV_API_KEY = "PARAFRAIM_API_KEY"
ENV_BASE_URL = "PARAFRAIM_BASE_URL"
DEFAULT_BASE_URL = "https://parafraim.com"
API_KEY_PREFIX = "pfk_"
API_PREFIX = "/api/v1"

_KEY_HINT = f"export {ENV_API_KEY}=pfk_... (create one in Parafraim: Settings -> API keys)"


@dataclass(frozen=True)
class ApiSettings:
    """Where the API lives and the key to call it with.

    ``base_url`` is normalised (scheme and host lower-cased, no trailing slash, no ``/api/v1``).
    The key is kept out of ``repr`` so that a settings object can be logged or shown in a
    traceback without leaking it, and registered with ``logs.redact`` so that it is removed
    from any message or log line that quotes it, whatever characters it holds.
    """

    base_url: str
    api_key: str = field(repr=False)

    def __post_init__(self) -> None:
        # Checked here as well as in settings_from_env: whoever builds settings by hand gets
        # the same guarantees (no plain http to a remote host, a key that looks like one).
        object.__setattr__(self, "base_url", normalise_base_url(self.base_url))
        check_api_key(self.api_key)
        register_secret(self.api_key)

    @property
    def api_url(self) -> str:
        """The root every endpoint path is appended to, e.g. ``https://parafraim.com/api/v1``."""
        return self.base_url + API_PREFIX


def settings_from_env(
    environ: Mapping[str, str] | None = None,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
) -> ApiSettings:
    """Read ``PARAFRAIM_API_KEY`` and ``PARAFRAIM_BASE_URL``; explicit arguments win.

    Raises ``ConfigError`` when the key is missing or malformed, or the base URL cannot be
    used. The messages name the variable, never its value.
    """
    env = os.environ if environ is None else environ
    key = api_key if api_key is not None else env.get(ENV_API_KEY, "")
    url = base_url if base_url is not None else (env.get(ENV_BASE_URL) or DEFAULT_BASE_URL)
    return ApiSettings(base_url=url, api_key=key.strip())


def check_api_key(key: str) -> None:
    """Raise ``ConfigError`` unless ``key`` looks like a Parafraim key (never echoing it)."""
    if not key:
        raise ConfigError(f"{ENV_API_KEY} is not set", hint=_KEY_HINT)
    if not key.startswith(API_KEY_PREFIX):
        raise ConfigError(
            f"{ENV_API_KEY} does not hold a Parafraim API key (keys start with {API_KEY_PREFIX})",
            hint=_KEY_HINT,
        )
    # The key goes into an HTTP header: non-ASCII, whitespace or control characters would
    # either be refused by httpx (with the value in the message) or split the header.
    if not key.isascii():
        raise ConfigError(
            f"{ENV_API_KEY} contains non-ASCII characters (a key is plain ASCII); "
            "copy the key again",
            hint=_KEY_HINT,
        )
    if any(ch.isspace() or not ch.isprintable() for ch in key):
        raise ConfigError(
            f"{ENV_API_KEY} contains spaces or control characters; copy the key again",
            hint=_KEY_HINT,
        )


def normalise_base_url(url: str) -> str:
    """``url`` as ``scheme://host[:port][/path]`` without a trailing slash or ``/api/v1``.

    Plain ``http://`` is refused unless the host is a loopback address: the key travels in
    every request and must not cross a network in clear text.
    """
    raw = url.strip()
    try:
        parts = urlsplit(raw)
        host = parts.hostname
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"{ENV_BASE_URL} is not a valid URL ({exc})", hint=_url_hint()) from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host:
        raise ConfigError(
            f"{ENV_BASE_URL} must be an http(s) URL with a host, got {raw!r}", hint=_url_hint()
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(
            f"{ENV_BASE_URL} must not carry credentials, a query or a fragment", hint=_url_hint()
        )
    if scheme == "http" and not is_loopback(host):
        raise ConfigError(
            f"{ENV_BASE_URL} uses plain http:// to {host}; the API key would travel unencrypted",
            hint="use https://, or http:// only for a local engine on 127.0.0.1/localhost/::1",
        )
    path = parts.path.rstrip("/")
    if path.endswith(API_PREFIX):
        path = path[: -len(API_PREFIX)]
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return f"{scheme}://{netloc.lower()}{path}"


def is_loopback(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ``::1``."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _url_hint() -> str:
    return f"set {ENV_BASE_URL} to e.g. {DEFAULT_BASE_URL}, or unset it to use that default"

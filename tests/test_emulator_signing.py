"""Signed, expiring file links."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from parafraim_build.emulator.signing import check_link, signed_path, signing_key

KEY = signing_key("pfk_test_key", "account-1")


def _parts(path: str) -> tuple[str, str, str]:
    url = urlsplit(path)
    query = parse_qs(url.query)
    return url.path.rsplit("/", 1)[1], query["expires"][0], query["sig"][0]


def test_a_link_is_valid_until_it_expires() -> None:
    name, expires, sig = _parts(signed_path(KEY, "job.mp4", now=1000.0, ttl_seconds=60))
    assert name == "job.mp4"
    assert expires == "1060"
    assert check_link(KEY, name, expires, sig, now=1059.9) == ""
    assert check_link(KEY, name, expires, sig, now=1060.0) == "the link has expired"


def test_fractional_ttls_round_the_expiry_up() -> None:
    _, expires, _ = _parts(signed_path(KEY, "a.gif", now=1000.2, ttl_seconds=0.5))
    assert expires == "1001"


def test_tampering_with_name_expiry_or_signature_is_refused() -> None:
    name, expires, sig = _parts(signed_path(KEY, "job.mp4", now=1000.0, ttl_seconds=60))
    wrong = "the link's signature is wrong"
    assert check_link(KEY, "other.mp4", expires, sig, now=1000) == wrong
    assert check_link(KEY, name, str(int(expires) + 3600), sig, now=1000) == wrong
    assert (
        check_link(KEY, name, expires, sig[:-1] + ("0" if sig[-1] != "0" else "1"), now=1000)
        == wrong
    )
    other_key = signing_key("pfk_other_key", "account-1")
    assert check_link(other_key, name, expires, sig, now=1000) == wrong


def test_unsigned_or_garbled_links_are_refused() -> None:
    assert check_link(KEY, "a.mp4", None, None, now=0) == "the link is not signed"
    assert check_link(KEY, "a.mp4", "soon", "abc", now=0) == "the link is not signed"


def test_the_signing_key_is_not_the_api_key() -> None:
    assert b"pfk_test_key" not in KEY
    assert signing_key("pfk_test_key", "account-2") != KEY

"""Credentials in step files: each kind recognised with its line, ordinary prose left alone."""

from __future__ import annotations

import pytest

from parafraim_build.spec.credentials import Credential, find_credential


@pytest.mark.parametrize(
    ("text", "kind", "line"),
    [
        ("pfk_live_0123456789abcdef", "a Parafraim API key (pfk_...)", 1),
        ("a\n\tAuthorization: Bearer abcdefgh12345678", "an HTTP Authorization header", 2),
        ("extraheader = AUTHORIZATION: basic eC1hY2Nlc3M=", "an HTTP Authorization header", 1),
        ("-----BEGIN RSA PRIVATE KEY-----", "a private key", 1),
        ("-----BEGIN PGP PRIVATE KEY BLOCK-----", "a private key", 1),
        ("github_pat_" + "A1" * 20, "a GitHub token", 1),
        ("aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "an AWS access key", 1),
        ("xoxb-123456789012-abcdefghij", "a Slack token", 1),
        ("\n\nurl = https://user:hunter2@example.com/repo.git", "a password in a URL", 3),
    ],
)
def test_credentials_are_recognised(text: str, kind: str, line: int) -> None:
    assert find_credential(text) == Credential(kind, line)


def test_the_first_credential_in_the_text_is_named() -> None:
    text = "one\n-----BEGIN OPENSSH PRIVATE KEY-----\npfk_live_0123456789abcdef\n"
    assert find_credential(text) == Credential("a private key", 2)


@pytest.mark.parametrize(
    "text",
    [
        "Keys start with pfk_ and are sent in the Authorization header.",
        "Show https://example.com/pricing and mail sales@example.com.",
        "Authorization: see the docs",
        "End on the Acme logo.",
    ],
)
def test_prose_is_not_a_credential(text: str) -> None:
    assert find_credential(text) is None

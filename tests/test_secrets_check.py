"""One answer to "is this an API key?": the spec, the lock and redaction agree."""

from __future__ import annotations

import pytest

from parafraim_build.errors import LockError
from parafraim_build.lock_model import BlankSource, Lock, dump_lock
from parafraim_build.logs import redact
from parafraim_build.secrets_check import KEY_MIN_TAIL, find_api_key, looks_like_api_key
from parafraim_build.spec.credentials import find_credential

KEYLIKE = [
    "pfk_live_0123456789",
    "x pfk_abcdefgh",
    "pfk_$odd!and%more",
    "name:pfk_short_but_8",
    "(pfk_99999999)",
]
PLAIN = [
    "pfk_",
    "keys start with pfk_ and go on",
    "no key",
    "pfk_ alone",
    "pfk_'quoted",
    "pfk_demo",  # too short to be a plausible key: an ordinary name
    "pfk_1234567",
    "pfk_...",
]


@pytest.mark.parametrize("text", KEYLIKE + PLAIN)
def test_the_spec_the_lock_and_redaction_agree(text: str) -> None:
    keylike = looks_like_api_key(text)
    assert keylike == (text in KEYLIKE)
    assert (find_credential(text) is not None) == keylike
    assert (redact(text) != text) == keylike
    lock = Lock.new("https://parafraim.com", "acc").record_project(
        "clip",
        project_id="p-1",
        source=BlankSource(aspectRatio="16:9"),
        name=text,
        description=None,
        initial_composition_sha256="c",
    )
    if keylike:
        with pytest.raises(LockError, match="looks like an API key"):
            dump_lock(lock)
    else:
        assert text in dump_lock(lock) or "'" in text


def test_the_match_is_the_key_up_to_a_delimiter() -> None:
    found = find_api_key('token "pfk_abc$def!ghi" here')
    assert found is not None
    assert found.group() == "pfk_abc$def!ghi"


def test_a_key_is_pfk_and_at_least_eight_key_characters() -> None:
    assert KEY_MIN_TAIL == 8
    assert looks_like_api_key("pfk_" + "x" * 8)
    assert not looks_like_api_key("pfk_" + "x" * 7)
    assert not looks_like_api_key("pfk_abc,defghijk")  # the tail stops at a delimiter

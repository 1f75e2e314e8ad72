"""The key never shows: every message, hint, repr, traceback and log line the client can
produce is collected and grepped for it, including when the server echoes it back."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import traceback
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from test_client_fakes import (
    KEY,
    FakeParafraim,
    FakeTime,
    Fault,
    StreamPlan,
    envelope,
    html_page,
    lost,
    make_client,
    refused,
)

from parafraim_build.api.client import ParafraimClient
from parafraim_build.api.models import CreateProjectRequest, RenderConfig, SendMessageRequest
from parafraim_build.api.retry import RetryPolicy
from parafraim_build.config import ApiSettings, settings_from_env
from parafraim_build.errors import BuildError
from parafraim_build.logs import RedactingFilter, configure_logging, redact, register_secret

SECRET = KEY.removeprefix("pfk_")


def echo_key(request: httpx.Request) -> httpx.Response:
    """A careless server that puts the key it got into its error message."""
    sent = request.headers.get("authorization", "")
    body = {"success": False, "error": {"code": "UNAUTHORIZED", "message": f"bad key {sent}"}}
    return httpx.Response(401, json=body)


def echo_key_page(request: httpx.Request) -> httpx.Response:
    return httpx.Response(500, text=f"debug: headers={dict(request.headers)}")


Scenario = Callable[[ParafraimClient], Awaitable[Any]]


def scenarios(fake: FakeParafraim, tmp_path: Path) -> list[Scenario]:
    task = fake.add_task([("text", {"delta": "x"}), ("result", {})], running_reads=1)
    expired = fake.video_url()
    fake.expired_urls.add(expired)

    async def stream(client: ParafraimClient) -> Any:
        fake.stream_plans.append(StreamPlan(drop_after=1))
        return await client.wait_for_task(task.project_id, task.id)

    return [
        lambda c: c.me(),
        lambda c: c.credits(),
        lambda c: c.create_project(CreateProjectRequest(name="x")),
        lambda c: c.send_message("p", SendMessageRequest(message="m")),
        lambda c: c.start_render("p", RenderConfig()),
        lambda c: c.get_task("nope"),
        stream,
        lambda c: c.download(expired, tmp_path / "v.mp4"),
    ]


@pytest.fixture
def verbose_logging() -> Iterator[None]:
    """``-v`` for one test; the package logger is put back as it was afterwards."""
    logger = logging.getLogger("parafraim_build")
    level, handlers = logger.level, list(logger.handlers)
    configure_logging(True)
    yield
    logger.setLevel(level)
    logger.handlers[:] = handlers


@pytest.mark.usefixtures("verbose_logging")
def test_nothing_the_client_says_contains_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeParafraim()
    fake.fail("GET /me", Fault(echo_key))
    fake.fail("GET /credits", Fault(echo_key_page), *[html_page(502) for _ in range(5)])
    fake.fail("POST /projects", refused(), lost())
    fake.fail("POST /projects/messages", envelope("CONCURRENCY_LIMIT", 429), html_page(502))
    fake.fail("POST /projects/render", envelope("VALIDATION", 400, message=f"key was {KEY}"))
    said: list[str] = []

    async def main() -> None:
        async with make_client(fake, FakeTime(), policy=RetryPolicy(max_attempts=2)) as client:
            said.append(repr(client))
            for scenario in scenarios(fake, tmp_path):
                try:
                    said.append(repr(await scenario(client)))
                except BuildError as exc:
                    said.extend([str(exc), repr(exc), str(exc.hint)])
                    said.append("".join(traceback.format_exception(exc)))
            said.append(repr(client.request_counts))

    asyncio.run(main())
    captured = capsys.readouterr()
    everything = "\n".join([*said, captured.out, captured.err])
    assert "GET https://parafraim.test/api/v1/me -> 401" in captured.err  # -v did log
    assert "pfk_[REDACTED]" in everything  # the echoed key was there, and was redacted
    assert SECRET not in everything
    assert KEY not in everything


def test_the_settings_and_a_refused_key_never_show_it() -> None:
    settings = settings_from_env({"PARAFRAIM_API_KEY": KEY})
    assert SECRET not in repr(settings)
    assert SECRET not in str(ApiSettings(base_url="https://parafraim.com", api_key=KEY))
    with pytest.raises(BuildError) as info:
        settings_from_env({"PARAFRAIM_API_KEY": "sk-" + SECRET})
    assert SECRET not in "".join(traceback.format_exception(info.value))


@pytest.mark.parametrize(
    "line",
    [
        f"Authorization: Bearer {KEY}",
        f"{{'authorization': 'Bearer {KEY}'}}",
        f'{{"Authorization": "Bearer {KEY}"}}',
        f"header authorization={KEY}",
        f"url?key={KEY}&x=1",
        f"two keys {KEY} and pfk_other.key~with+chars/=",
    ],
)
def test_redact_removes_keys_and_authorization_values(line: str) -> None:
    cleaned = redact(line)
    assert SECRET not in cleaned
    assert "other.key" not in cleaned
    assert "REDACTED" in cleaned


def test_the_log_filter_redacts_arguments_too() -> None:
    record = logging.LogRecord(
        "parafraim_build.api", logging.DEBUG, __file__, 1, "sent %s", (KEY,), None
    )
    RedactingFilter().filter(record)
    assert SECRET not in record.getMessage()
    assert re.search(r"pfk_\[REDACTED\]", record.getMessage())


@pytest.mark.parametrize(
    "key",
    [
        "pfk_abc$def!ghi",
        "pfk_a%3Ab%25c",
        "pfk_user:pass@host",
        "pfk_x~y+z/w=v-u.t",
        "pfk_a&b|c^d*e",
    ],
)
def test_a_key_with_any_printable_characters_is_removed_whole(key: str) -> None:
    for line in (f"bad {key}", f"bad {key}!", f"key={key}&x=1", f"'{key}'", f"({key}), next"):
        cleaned = redact(line)
        assert key.removeprefix("pfk_") not in cleaned, cleaned
        assert "pfk_[REDACTED]" in cleaned
    assert redact(f"bad {key} rest") == "bad pfk_[REDACTED] rest"


def test_redacting_twice_changes_nothing() -> None:
    once = redact(f"a {KEY} b")
    assert redact(once) == once == "a pfk_[REDACTED] b"


@pytest.mark.parametrize(
    "key", ['pfk_ab,cd"ef(gh)ij', "pfk_semi;colon<and>brace{}", "pfk_back\\slash'quote`tick"]
)
def test_a_configured_key_is_removed_even_where_the_pattern_stops(key: str) -> None:
    # The pattern stops at a delimiter; the key the settings registered is known exactly.
    ApiSettings(base_url="https://parafraim.com", api_key=key)
    tail = key[-6:]
    for shown in (key, json.dumps(key), repr(key), quote(key, safe="")):
        cleaned = redact(f"the server said: {shown} was refused")
        assert tail not in cleaned, cleaned
        assert "REDACTED" in cleaned


def test_a_longer_token_that_starts_with_a_known_key_is_removed_whole() -> None:
    register_secret("pfk_prefix_known_1")
    cleaned = redact("pfk_prefix_known_1_and_more other")
    assert cleaned == "pfk_[REDACTED] other"


def test_short_secrets_are_not_registered() -> None:
    register_secret("pfk_")
    register_secret("secret7")
    assert redact("pfk_ alone, secret7 and pfk_abcdefgh") == (
        "pfk_ alone, secret7 and pfk_[REDACTED]"
    )


def test_a_configured_key_too_short_for_the_pattern_is_still_removed() -> None:
    # The pattern wants pfk_ and 8 key characters; the key in use is removed however short.
    assert redact("refused pfk_q7x for /me") == "refused pfk_q7x for /me"
    ApiSettings(base_url="https://parafraim.com", api_key="pfk_q7x")
    assert redact("refused pfk_q7x for /me") == "refused pfk_[REDACTED] for /me"


def test_the_client_never_shows_a_key_with_unusual_characters() -> None:
    key = 'pfk_odd$key!with,comma"quote'
    fake = FakeParafraim(api_key=key)

    def echo(form: str) -> Fault:
        def action(request: httpx.Request) -> httpx.Response:
            error = {"code": "ODD", "message": f"refused {form} for {request.url.path}"}
            return httpx.Response(400, json={"success": False, "error": error})

        return Fault(action)

    forms = [key, json.dumps(key), repr(key), quote(key, safe="")]
    fake.fail("GET /me", *[echo(form) for form in forms])
    said: list[str] = []

    async def main() -> None:
        async with make_client(fake, FakeTime(), api_key=key) as client:
            for _ in forms:
                try:
                    await client.me()
                except BuildError as exc:
                    said.extend([str(exc), repr(exc), str(exc.hint)])
                    said.append("".join(traceback.format_exception(exc)))

    asyncio.run(main())
    everything = "\n".join(said)
    assert everything.count("pfk_[REDACTED]") == 4 * 3  # message, repr, traceback each
    assert "odd$key" not in everything
    assert "comma" not in everything
    assert "quote" not in everything


def test_the_stderr_handler_survives_a_stream_closed_since_the_last_record(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(verbose=True)
    logger = logging.getLogger("parafraim_build.test")
    closed = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")  # as click's CliRunner makes
    monkeypatch.setattr("sys.stderr", closed)
    logger.info("inside a runner that swapped stderr")
    closed.close()  # the runner is done with it
    monkeypatch.undo()
    logger.info("after it")
    assert "after it" in capsys.readouterr().err
    configure_logging(verbose=False)

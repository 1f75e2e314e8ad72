"""Settings from the environment: defaults, normalisation, and refusals that never echo the key."""

from __future__ import annotations

import pytest

from parafraim_build.config import (
    DEFAULT_BASE_URL,
    ApiSettings,
    is_loopback,
    normalise_base_url,
    settings_from_env,
)
from parafraim_build.errors import ConfigError
from parafraim_build.logs import redact

KEY = "pfk_test_0123456789abcdef"


def test_defaults_to_the_public_service() -> None:
    settings = settings_from_env({"PARAFRAIM_API_KEY": KEY})
    assert settings.base_url == DEFAULT_BASE_URL == "https://parafraim.com"
    assert settings.api_key == KEY
    assert settings.api_url == "https://parafraim.com/api/v1"


def test_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARAFRAIM_API_KEY", KEY)
    monkeypatch.setenv("PARAFRAIM_BASE_URL", "http://127.0.0.1:8765/")
    settings = settings_from_env()
    assert settings.base_url == "http://127.0.0.1:8765"


def test_explicit_arguments_win_over_the_environment() -> None:
    env = {"PARAFRAIM_API_KEY": "pfk_env", "PARAFRAIM_BASE_URL": "https://env.example"}
    settings = settings_from_env(env, base_url="http://localhost:9", api_key="pfk_arg")
    assert (settings.base_url, settings.api_key) == ("http://localhost:9", "pfk_arg")


def test_an_empty_base_url_means_the_default() -> None:
    settings = settings_from_env({"PARAFRAIM_API_KEY": KEY, "PARAFRAIM_BASE_URL": ""})
    assert settings.base_url == DEFAULT_BASE_URL


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("https://parafraim.com", "https://parafraim.com"),
        ("https://parafraim.com/", "https://parafraim.com"),
        ("HTTPS://Parafraim.COM/", "https://parafraim.com"),
        ("https://parafraim.com/api/v1/", "https://parafraim.com"),
        ("https://proxy.example/parafraim/", "https://proxy.example/parafraim"),
        ("https://parafraim.com:8443", "https://parafraim.com:8443"),
        ("  https://parafraim.com  ", "https://parafraim.com"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("http://127.1.2.3", "http://127.1.2.3"),
        ("http://localhost:8000/", "http://localhost:8000"),
        ("http://[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_base_url_normalisation(raw: str, normalised: str) -> None:
    assert normalise_base_url(raw) == normalised


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("http://parafraim.com", "plain http://"),
        ("http://10.0.0.5:8000", "plain http://"),
        ("http://localhost.evil.example", "plain http://"),
        ("ftp://parafraim.com", "http(s) URL"),
        ("parafraim.com", "http(s) URL"),
        ("https://", "http(s) URL"),
        ("https://user:pw@parafraim.com", "credentials"),
        ("https://parafraim.com/?x=1", "query"),
        ("https://parafraim.com:99999", "not a valid URL"),
    ],
)
def test_unusable_base_urls_are_refused(raw: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        settings_from_env({"PARAFRAIM_API_KEY": KEY, "PARAFRAIM_BASE_URL": raw})
    assert "PARAFRAIM_BASE_URL" in str(info.value)
    assert fragment in str(info.value)
    assert info.value.hint


def test_missing_key_names_the_variable() -> None:
    with pytest.raises(ConfigError) as info:
        settings_from_env({})
    assert str(info.value) == "PARAFRAIM_API_KEY is not set"
    assert info.value.hint is not None
    assert "PARAFRAIM_API_KEY" in info.value.hint


@pytest.mark.parametrize(
    "bad", ["sk_live_secretvalue", "secret-value-123", "pfk_has space", "pfk_\x07bell"]
)
def test_malformed_key_is_refused_without_echoing_it(bad: str) -> None:
    with pytest.raises(ConfigError) as info:
        settings_from_env({"PARAFRAIM_API_KEY": bad})
    text = f"{info.value} {info.value.hint} {info.value!r}"
    assert "PARAFRAIM_API_KEY" in str(info.value)
    assert bad not in text
    assert bad.split("_")[-1] not in text


@pytest.mark.parametrize(
    ("bad", "said"),
    [
        ("pfk_caf\u00e9_key_01", "contains non-ASCII characters"),
        ("pfk_\u00a0nbsp_key", "contains non-ASCII characters"),
        ("pfk_tab\tkey", "contains spaces or control characters"),
        ("pfk_nul\x00key", "contains spaces or control characters"),
    ],
)
def test_a_malformed_key_is_described_as_it_is(bad: str, said: str) -> None:
    with pytest.raises(ConfigError) as info:
        settings_from_env({"PARAFRAIM_API_KEY": bad})
    assert said in str(info.value)
    assert bad[4:] not in f"{info.value} {info.value.hint}"


def test_the_configured_key_is_registered_for_redaction() -> None:
    key = "pfk_config,registered(key)"
    settings_from_env({"PARAFRAIM_API_KEY": key})
    assert redact(f"echo {key} done") == "echo pfk_[REDACTED] done"


def test_surrounding_whitespace_in_the_key_is_dropped() -> None:
    assert settings_from_env({"PARAFRAIM_API_KEY": f"  {KEY}\n"}).api_key == KEY


def test_the_key_is_not_in_the_repr() -> None:
    settings = ApiSettings(base_url="https://parafraim.com", api_key=KEY)
    assert KEY not in repr(settings)
    assert KEY not in str(settings)


def test_settings_built_by_hand_are_checked_too() -> None:
    with pytest.raises(ConfigError):
        ApiSettings(base_url="http://parafraim.com", api_key=KEY)
    with pytest.raises(ConfigError):
        ApiSettings(base_url="https://parafraim.com", api_key="nope")
    assert ApiSettings(base_url="https://parafraim.com/", api_key=KEY).base_url == (
        "https://parafraim.com"
    )


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST", True),
        ("127.0.0.1", True),
        ("127.255.0.9", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("10.0.0.1", False),
        ("parafraim.com", False),
        ("localhost.example", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback

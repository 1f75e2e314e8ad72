"""What makes an engine config unusable: every number finite and within a sensible bound."""

from __future__ import annotations

import math

import pytest

from parafraim_build.emulator import EngineConfig, FaultConfig, start_engine
from parafraim_build.emulator.config import MAX_URL_TTL_SECONDS
from parafraim_build.errors import ConfigError

NAN, INF = math.nan, math.inf


def test_the_defaults_are_usable() -> None:
    assert EngineConfig().problems() == []


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        (EngineConfig(credits=NAN), "credits must be a finite number (got nan)"),
        (EngineConfig(credits=INF), "credits must be a finite number (got inf)"),
        (EngineConfig(credits=-1), "credits must be at least 0"),
        (EngineConfig(credits=1e13), "credits must be at least 0 and at most 1e+12"),
        (EngineConfig(task_seconds=NAN), "task_seconds must be a finite number"),
        (EngineConfig(task_seconds=7200), "task_seconds must be at least 0 and at most 3600"),
        (EngineConfig(render_seconds=INF), "render_seconds must be a finite number"),
        (EngineConfig(render_seconds=-0.5), "render_seconds must be at least 0"),
        (EngineConfig(url_ttl_seconds=INF), "url_ttl_seconds must be a finite number"),
        (EngineConfig(url_ttl_seconds=0), "url_ttl_seconds must be more than 0"),
        (EngineConfig(url_ttl_seconds=MAX_URL_TTL_SECONDS + 1), "url_ttl_seconds"),
        (EngineConfig(keepalive_seconds=NAN), "keepalive_seconds must be a finite number"),
        (EngineConfig(keepalive_seconds=0), "keepalive_seconds must be more than 0"),
        (EngineConfig(faults=FaultConfig(latency_ms=INF)), "latency_ms must be a finite number"),
        (EngineConfig(public_url="ftp://host"), "public_url must be an http(s) URL"),
        (EngineConfig(public_url="engine.example"), "public_url must be an http(s) URL"),
        (EngineConfig(public_url="https://h/?a=1"), "public_url must not have a query"),
        (EngineConfig(public_url="https://u:p@h"), "public_url must not have"),
    ],
)
def test_each_unusable_value_is_named(config: EngineConfig, problem: str) -> None:
    assert any(line.startswith(problem) for line in config.problems()), config.problems()


@pytest.mark.parametrize(
    "config",
    [
        EngineConfig(credits=0, task_seconds=0, render_seconds=0),
        EngineConfig(credits=1e12, task_seconds=3600, url_ttl_seconds=MAX_URL_TTL_SECONDS),
        EngineConfig(public_url="https://engine.example:8443/base/"),
        EngineConfig(public_url="http://10.0.0.5:8788"),
    ],
)
def test_values_at_the_bounds_are_usable(config: EngineConfig) -> None:
    assert config.problems() == []


def test_a_non_finite_value_never_reaches_a_socket() -> None:
    with pytest.raises(ConfigError, match="credits must be a finite number") as caught:
        start_engine(EngineConfig(credits=NAN, faults=FaultConfig(latency_ms=INF)))
    assert "latency_ms must be a finite number" in caught.value.message

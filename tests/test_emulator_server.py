"""Starting and stopping engines in-process: the entry point of tests and ``--local``."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest
from engine_client import EngineClient, EngineFactory, fast_config

from parafraim_build.emulator import EngineConfig, FaultConfig, start_engine
from parafraim_build.emulator.server import is_loopback
from parafraim_build.errors import ConfigError

pytest_plugins = ("engine_fixtures",)


def test_an_engine_accepts_requests_once_started_and_none_once_stopped() -> None:
    running = start_engine(fast_config())
    assert running.base_url.startswith("http://127.0.0.1:")
    assert running.api_url == running.base_url + "/api/v1"
    headers = {"Authorization": f"Bearer {running.api_key}"}
    assert httpx.get(running.api_url + "/me", headers=headers).status_code == 200
    running.stop()
    running.stop()  # idempotent
    assert not running.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(running.api_url + "/me", headers=headers)


def test_the_context_manager_stops_the_engine() -> None:
    with start_engine(fast_config()) as running:
        url = running.base_url
        assert running.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/")


def test_two_engines_are_independent(make_engine: EngineFactory) -> None:
    first, second = make_engine(), make_engine(api_key="pfk_second_engine")
    assert first.base_url != second.base_url
    with EngineClient(first) as one, EngineClient(second) as two:
        one.new_project(name="only here")
        assert two.data(two.get("/projects")) == []
        wrong = httpx.get(
            second.api_url + "/me", headers={"Authorization": f"Bearer {first.api_key}"}
        )
        assert wrong.status_code == 401


def test_a_fixed_port_can_be_chosen_and_a_busy_one_is_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with start_engine(fast_config(), port=port) as running:
        assert running.base_url == f"http://127.0.0.1:{port}"
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
            start_engine(fast_config(), port=port)


def test_an_unusable_config_is_refused_with_every_problem() -> None:
    config = EngineConfig(
        api_key="not-a-key",
        concurrency=0,
        url_ttl_seconds=0,
        faults=FaultConfig(error_rate=2),
    )
    with pytest.raises(ConfigError) as caught:
        start_engine(config)
    message = caught.value.message
    for part in ("pfk_", "concurrency", "url_ttl_seconds", "error_rate"):
        assert part in message
    assert "not-a-key" not in message


def test_the_key_never_shows_in_reprs() -> None:
    config = EngineConfig(api_key="pfk_very_secret_value")
    assert "pfk_very_secret_value" not in repr(config)
    with start_engine(fast_config(api_key="pfk_very_secret_value")) as running:
        assert "pfk_very_secret_value" not in repr(running)
        assert running.api_key == "pfk_very_secret_value"


def test_stats_and_ledger_match_the_admin_endpoints(make_engine: EngineFactory) -> None:
    running = make_engine()
    with EngineClient(running) as client:
        client.new_project(name="x")
        client.get("/me")
    assert running.stats() == httpx.get(running.base_url + "/_engine/stats").json()
    assert running.ledger() == httpx.get(running.base_url + "/_engine/ledger").json()
    assert running.stats()["requests"]["total"] == 2


def test_stop_ends_open_streams_promptly(make_engine: EngineFactory) -> None:
    running = make_engine(task_seconds=60)
    with EngineClient(running) as client:
        project = client.new_project()
        task_id = client.send(project["id"], "A very long task.")
        ended = threading.Event()

        def follow() -> None:
            with EngineClient(running) as own:
                own.stream(project["id"], task_id)
            ended.set()

        reader = threading.Thread(target=follow)
        reader.start()
        deadline = time.monotonic() + 5
        while running.stats()["streams"]["open"] == 0:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        started = time.monotonic()
        running.stop()
        assert time.monotonic() - started < 3
        reader.join(5)
        assert ended.is_set()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("192.168.1.4", False),
        ("::", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback

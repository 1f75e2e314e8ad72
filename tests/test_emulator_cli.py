"""The ``parafraim-build emulator`` command, run as users run it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from click.testing import CliRunner

from parafraim_build.cli import main

_LAUNCH = "from parafraim_build.cli import main; main()"


@contextmanager
def emulator(
    *args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """Run the command in a subprocess; yields it and the banner lines read so far."""
    process = subprocess.Popen(
        [sys.executable, "-c", _LAUNCH, "emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | (env or {}),
    )
    banner: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            banner.append(line.rstrip("\n"))
            if line.startswith("Press Ctrl-C"):
                break
        yield process, banner
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def _base_url(banner: list[str]) -> str:
    match = re.search(r"listening on (http://\S+)", banner[0])
    assert match, banner
    return match.group(1)


def test_it_prints_the_url_and_key_and_stops_cleanly_on_ctrl_c() -> None:
    with emulator("--task-seconds", "0.1", "--error-rate", "0") as (process, banner):
        base_url = _base_url(banner)
        assert "no AI" in banner[0]
        assert f"  export PARAFRAIM_BASE_URL={base_url}" in banner
        assert "  export PARAFRAIM_API_KEY=pfk_local_engine_key" in banner
        assert any("state: in memory" in line for line in banner)
        headers = {"Authorization": "Bearer pfk_local_engine_key"}
        assert httpx.get(base_url + "/api/v1/me", headers=headers).status_code == 200
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
        assert process.returncode == 0, err
        assert "engine stopped" in out
        assert "Traceback" not in err


def test_flags_reach_the_engine_and_a_chosen_key_is_not_printed() -> None:
    key = "pfk_cli_chosen_key_42"
    args = ("--error-rate", "1", "--cut-streams-after", "2", "--seed", "3")
    with emulator(*args, env={"PARAFRAIM_ENGINE_API_KEY": key}) as (process, banner):
        assert key not in "\n".join(banner)
        assert any("not shown" in line for line in banner)
        assert any(line.strip() == "faults: cut_streams_after=2, error_rate=1.0" for line in banner)
        response = httpx.get(
            _base_url(banner) + "/api/v1/me", headers={"Authorization": f"Bearer {key}"}
        )
        assert response.status_code in (502, 503)
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
        assert process.returncode == 0
        assert "engine stopped" in out
        assert key not in out


def test_a_non_loopback_host_is_warned_about() -> None:
    with emulator("--host", "0.0.0.0") as (process, _):
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert "warning: the engine listens on 0.0.0.0" in err


def test_an_unusable_key_is_an_error_not_a_crash() -> None:
    result = CliRunner().invoke(main, ["emulator", "--port", "0", "--api-key", "secret"])
    assert result.exit_code == 1
    assert "must start with pfk_" in result.output
    assert "secret" not in result.output


def test_out_of_range_flags_are_usage_errors() -> None:
    for args in (["--error-rate", "1.5"], ["--concurrency", "0"], ["--cut-streams-after", "0"]):
        result = CliRunner().invoke(main, ["emulator", *args])
        assert result.exit_code == 2, args


def test_help_lists_every_flag() -> None:
    result = CliRunner().invoke(main, ["emulator", "--help"])
    for flag in (
        "--host",
        "--port",
        "--state-dir",
        "--api-key",
        "--credits",
        "--project-limit",
        "--concurrency",
        "--task-seconds",
        "--render-seconds",
        "--url-ttl",
        "--seed",
        "--nondeterministic",
        "--latency-ms",
        "--jitter-ms",
        "--error-rate",
        "--concurrency-burst-rate",
        "--cut-streams-after",
        "--task-error-rate",
        "--render-failure-rate",
        "--lost-response-rate",
        "--keepalive-seconds",
    ):
        assert flag in result.output, flag

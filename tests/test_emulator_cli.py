"""The ``parafraim-build emulator`` command, run as users run it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from parafraim_build.cli import main
from parafraim_build.cli.engine_commands import emulator_command, engine_config
from parafraim_build.emulator import EngineConfig, FaultConfig

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


def _config_of(*args: str, env: dict[str, str] | None = None) -> EngineConfig:
    """The config the command would serve, parsed exactly as click parses a command line."""
    context = emulator_command.make_context("emulator", list(args))
    flags = dict(context.params)
    flags.pop("host")
    flags.pop("port")
    return engine_config(flags)


def test_every_flag_reaches_the_engine_config(tmp_path: Path) -> None:
    config = _config_of(
        "--host", "127.0.0.2",
        "--port", "9999",
        "--state-dir", str(tmp_path / "state"),
        "--api-key", "pfk_every_flag_key",
        "--credits", "123.5",
        "--project-limit", "7",
        "--concurrency", "3",
        "--task-seconds", "0.25",
        "--render-seconds", "2.5",
        "--url-ttl", "90",
        "--keepalive-seconds", "4",
        "--seed", "42",
        "--nondeterministic",
        "--public-url", "https://engine.example",
        "--latency-ms", "15",
        "--jitter-ms", "5",
        "--error-rate", "0.1",
        "--concurrency-burst-rate", "0.2",
        "--concurrency-burst-seconds", "3",
        "--cut-streams-after", "6",
        "--task-error-rate", "0.3",
        "--render-failure-rate", "0.4",
        "--lost-response-rate", "0.05",
    )  # fmt: skip
    assert config == EngineConfig(
        api_key="pfk_every_flag_key",
        credits=123.5,
        project_limit=7,
        concurrency=3,
        task_seconds=0.25,
        render_seconds=2.5,
        url_ttl_seconds=90,
        keepalive_seconds=4,
        seed=42,
        state_dir=tmp_path / "state",
        nondeterministic=True,
        public_url="https://engine.example",
        faults=FaultConfig(
            latency_ms=15,
            jitter_ms=5,
            error_rate=0.1,
            concurrency_burst_rate=0.2,
            concurrency_burst_seconds=3,
            cut_streams_after=6,
            task_error_rate=0.3,
            render_failure_rate=0.4,
            lost_response_rate=0.05,
        ),
    )
    assert config.api_key == "pfk_every_flag_key"  # compared, though not in the repr


def test_without_flags_the_config_is_the_default() -> None:
    assert _config_of() == EngineConfig()


def test_the_key_may_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARAFRAIM_ENGINE_API_KEY", "pfk_from_the_env")
    assert _config_of().api_key == "pfk_from_the_env"


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--credits", "nan"], "credits must be a finite number"),
        (["--credits", "inf"], "credits must be a finite number"),
        (["--url-ttl", "inf"], "url_ttl_seconds must be a finite number"),
        (["--latency-ms", "inf"], "latency_ms must be a finite number"),
        (["--task-seconds", "nan"], "task_seconds must be a finite number"),
        (["--keepalive-seconds", "inf"], "keepalive_seconds must be a finite number"),
        (["--public-url", "engine.example"], "public_url must be an http(s) URL"),
    ],
)
def test_non_finite_or_unusable_values_are_errors_not_crashes(
    args: list[str], problem: str
) -> None:
    result = CliRunner().invoke(main, ["emulator", "--port", "0", *args])
    assert result.exit_code == 1, result.output
    assert problem in result.output
    assert "Traceback" not in result.output


def test_a_public_url_is_shown_in_the_banner() -> None:
    with emulator("--public-url", "https://engine.example:8443") as (process, banner):
        assert "  videoUrl links: https://engine.example:8443/files/... (--public-url)" in banner
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert process.returncode == 0


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
        "--public-url",
        "--concurrency-burst-seconds",
    ):
        assert flag in result.output, flag


def test_the_cli_loads_the_engine_only_for_the_emulator_command() -> None:
    # uvicorn, starlette and Pillow cost every other command half a second (and a ^C during
    # that start printed a traceback): they are imported when an engine starts, not before.
    code = (
        "import sys\n"
        "import parafraim_build.cli\n"
        "import parafraim_build.emulator\n"
        "from parafraim_build.cli import main\n"
        "print(sorted(m for m in ('uvicorn', 'starlette', 'PIL') if m in sys.modules))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert loaded.stdout.strip() == "[]"

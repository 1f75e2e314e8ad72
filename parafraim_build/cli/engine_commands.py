"""The engine commands of the CLI: ``emulator`` serves the local Parafraim engine."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from parafraim_build.console import engine_view
from parafraim_build.emulator.config import DEFAULT_API_KEY, EngineConfig, FaultConfig

if TYPE_CHECKING:
    from parafraim_build.emulator.server import RunningEngine

_RATE = click.FloatRange(0, 1)
_SECONDS = click.FloatRange(min=0)
_DEFAULTS = EngineConfig()


@click.command("emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8788, show_default=True, help="0: any."
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep state (projects, tasks, renders, credits, files) here across restarts.",
)
@click.option(
    "--api-key",
    envvar="PARAFRAIM_ENGINE_API_KEY",
    help=f"The key clients must send (default {DEFAULT_API_KEY}); or set PARAFRAIM_ENGINE_API_KEY.",
)
@click.option(
    "--credits", type=click.FloatRange(min=0), default=_DEFAULTS.credits, show_default=True
)
@click.option(
    "--project-limit",
    type=click.IntRange(min=0),
    default=_DEFAULTS.project_limit,
    show_default=True,
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=_DEFAULTS.concurrency,
    show_default=True,
    help="Account-wide limit of running message tasks.",
)
@click.option("--task-seconds", type=_SECONDS, default=_DEFAULTS.task_seconds, show_default=True)
@click.option(
    "--render-seconds", type=_SECONDS, default=_DEFAULTS.render_seconds, show_default=True
)
@click.option(
    "--url-ttl",
    type=click.FloatRange(min=0, min_open=True),
    default=_DEFAULTS.url_ttl_seconds,
    show_default=True,
    help="Seconds a videoUrl stays valid.",
)
@click.option(
    "--keepalive-seconds",
    type=click.FloatRange(min=0, min_open=True),
    default=_DEFAULTS.keepalive_seconds,
    show_default=True,
    help="SSE keep-alive comment interval.",
)
@click.option(
    "--public-url",
    help="Base of the videoUrl links when clients reach the engine by another address "
    "(a proxy); default: the address it listens on.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seeds edits and faults.")
@click.option(
    "--nondeterministic", is_flag=True, help="The same message gives different HTML each time."
)
@click.option("--latency-ms", type=_SECONDS, default=0, help="Added latency per API request.")
@click.option("--jitter-ms", type=_SECONDS, default=0, help="Latency jitter (+/-).")
@click.option("--error-rate", type=_RATE, default=0, help="Share of HTML 502/503 answers.")
@click.option(
    "--concurrency-burst-rate",
    type=_RATE,
    default=0,
    help="Share of messages that start a CONCURRENCY_LIMIT burst.",
)
@click.option(
    "--concurrency-burst-seconds",
    type=click.FloatRange(min=0, min_open=True),
    default=FaultConfig().concurrency_burst_seconds,
    show_default=True,
    help="How long a burst refuses every message.",
)
@click.option(
    "--cut-streams-after",
    type=click.IntRange(min=1),
    default=None,
    help="Close each SSE connection after N events.",
)
@click.option("--task-error-rate", type=_RATE, default=0, help="Share of tasks that fail.")
@click.option("--render-failure-rate", type=_RATE, default=0, help="Share of renders that fail.")
@click.option(
    "--lost-response-rate",
    type=_RATE,
    default=0,
    help="Share of processed POSTs answered by a dropped connection.",
)
def emulator_command(host: str, port: int, **flags: Any) -> None:
    """Serve the local Parafraim engine (a scripted editor, no AI) until Ctrl-C."""
    # Imported here, not at the top: uvicorn, starlette and Pillow take half a second to
    # load, and every other command (and a ^C during that start) would pay for it.
    from parafraim_build.emulator.server import is_loopback, serve_until_stopped

    config = engine_config(flags)
    api_key: str | None = flags["api_key"]
    state_dir: Path | None = flags["state_dir"]
    if not is_loopback(host):
        engine_view.print_exposed_warning(host)

    def ready(engine: RunningEngine) -> None:
        engine_view.print_engine_started(
            base_url=engine.base_url,
            key_to_show=None if api_key else engine.api_key,
            state_dir=state_dir,
            faults=config.faults.active(),
            public_url=config.public_url,
        )

    # ^C is how a server is meant to stop: by then the engine has stopped cleanly, so it is
    # not the interruption the CLI's handler reports with exit code 130.
    with contextlib.suppress(KeyboardInterrupt):
        serve_until_stopped(config, host=host, port=port, on_ready=ready)
    engine_view.print_engine_stopped()


def engine_config(flags: Mapping[str, Any]) -> EngineConfig:
    """The ``EngineConfig`` described by the command's parsed flags (all but host and port).

    Not checked here: ``start_engine`` reports every problem (a ``nan`` passes click's ranges).
    """
    return EngineConfig(
        api_key=flags["api_key"] or DEFAULT_API_KEY,
        credits=flags["credits"],
        project_limit=flags["project_limit"],
        concurrency=flags["concurrency"],
        task_seconds=flags["task_seconds"],
        render_seconds=flags["render_seconds"],
        url_ttl_seconds=flags["url_ttl"],
        keepalive_seconds=flags["keepalive_seconds"],
        seed=flags["seed"],
        state_dir=flags["state_dir"],
        nondeterministic=flags["nondeterministic"],
        public_url=flags["public_url"],
        faults=FaultConfig(
            latency_ms=flags["latency_ms"],
            jitter_ms=flags["jitter_ms"],
            error_rate=flags["error_rate"],
            concurrency_burst_rate=flags["concurrency_burst_rate"],
            concurrency_burst_seconds=flags["concurrency_burst_seconds"],
            cut_streams_after=flags["cut_streams_after"],
            task_error_rate=flags["task_error_rate"],
            render_failure_rate=flags["render_failure_rate"],
            lost_response_rate=flags["lost_response_rate"],
        ),
    )


COMMANDS: list[click.Command] = [emulator_command]

"""What the ``emulator`` command prints: where the engine listens, which key to use."""

from __future__ import annotations

from pathlib import Path

from parafraim_build.console import out, print_warning


def print_engine_started(
    *,
    base_url: str,
    key_to_show: str | None,
    state_dir: Path | None,
    faults: dict[str, float | int],
    public_url: str | None = None,
) -> None:
    """The start banner: base URL, the key (unless the user chose it), state, faults."""
    out(f"parafraim-build local engine (scripted editor, no AI) listening on {base_url}")
    out(f"  export PARAFRAIM_BASE_URL={base_url}")
    if key_to_show is not None:
        out(f"  export PARAFRAIM_API_KEY={key_to_show}")
    else:
        out("  PARAFRAIM_API_KEY: the key you passed with --api-key (not shown)")
    if state_dir is not None:
        out(f"  state: {state_dir} (kept across restarts)")
    else:
        out("  state: in memory (lost on stop; use --state-dir to keep it)")
    if public_url is not None:
        out(f"  videoUrl links: {public_url.rstrip('/')}/files/... (--public-url)")
    if faults:
        listed = ", ".join(f"{name}={value}" for name, value in sorted(faults.items()))
        out(f"  faults: {listed}")
    out("  admin: /_engine/stats, /_engine/ledger")
    out("Press Ctrl-C to stop.")


def print_exposed_warning(host: str) -> None:
    """The engine listens beyond this machine over plain http."""
    print_warning(
        f"the engine listens on {host}, which is not a loopback address: anyone who can reach "
        "this machine can use it, over plain http (the admin endpoints ask for the API key)"
    )


def print_engine_stopped() -> None:
    """After a clean stop."""
    out("engine stopped")

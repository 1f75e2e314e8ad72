"""Pytest fixtures that start real local engines (see ``engine_client.py`` for helpers).

Load them in a test module with ``pytest_plugins = ("engine_fixtures",)`` (or once, for the
whole suite, in ``conftest.py``):

* ``make_engine(**overrides)`` starts an engine with fast defaults (``engine_client.FAST``)
  overridden by any ``EngineConfig`` field; ``faults=`` takes a ``FaultConfig`` or a dict of
  its fields; ``engine=Engine(...)`` serves a hand-built engine (an injected editor, renderer
  or clock). Every engine it started is stopped when the test ends.
* ``engine`` is ``make_engine()``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from engine_client import EngineFactory, fast_config

from parafraim_build.emulator import RunningEngine, start_engine
from parafraim_build.emulator.engine import Engine
from parafraim_build.emulator.server import serve_engine


@pytest.fixture
def make_engine() -> Iterator[EngineFactory]:
    """Start engines (``make_engine(**EngineConfig fields)``); all are stopped afterwards.

    ``make_engine(engine=Engine(...))`` serves a hand-built engine (injected editor,
    renderer or clock) instead.
    """
    started: list[RunningEngine] = []

    def factory(
        *, host: str = "127.0.0.1", port: int = 0, engine: Engine | None = None, **overrides: Any
    ) -> RunningEngine:
        if engine is not None:
            running = serve_engine(engine, host=host, port=port)
        else:
            running = start_engine(fast_config(**overrides), host=host, port=port)
        started.append(running)
        return running

    yield factory
    for running in reversed(started):
        running.stop()


@pytest.fixture
def engine(make_engine: EngineFactory) -> RunningEngine:
    """A running engine with the fast defaults and no faults."""
    return make_engine()

"""Cost models: what a plan's messages and renders are expected to cost, in credits.

The real service does not publish prices (``api.md`` assumption 4), so every figure is an
estimate and says where it comes from (``CostModel.label``):

* ``LocalCostModel``: the local engine's own price formulas. A message's price is what the
  engine charges; a render's grows with the composition's length, which for a composition
  not made yet (its steps not sent) can only be guessed: the length of the video's current
  composition when it is known, else ``ASSUMED_DURATION_SECONDS``. So even for ``--local`` a
  render estimate can be well off (an edited template video can run several times longer);
  ``apply`` prices each render again once its composition exists;
* ``ObservedCostModel``: averages of what earlier runs were charged, kept in the run cache,
  falling back to another model (and saying so) until something has been observed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from parafraim_build.api.models import RenderConfig, SendMessageRequest
from parafraim_build.spec.models import Step

ASSUMED_DURATION_SECONDS = 10.0
"""The length assumed for a composition that does not exist yet (its steps are not sent)."""

_REFERENCE_UNIT = 1920 * 1080 * 30


class CostModel(Protocol):
    """Prices one message or one render; ``label`` says what the figures rest on."""

    @property
    def label(self) -> str:
        """E.g. ``local engine prices`` or ``from 12 observed costs``."""
        ...

    def message(self, step: Step) -> float:
        """Credits for sending that step as a message."""
        ...

    def render(self, config: RenderConfig, duration_seconds: float | None) -> float:
        """Credits for one render; ``duration_seconds`` is None when not known yet."""
        ...


class LocalCostModel:
    """The local engine's documented price formulas (``emulator/pricing.py``); a render of
    unknown length is priced at ``ASSUMED_DURATION_SECONDS``."""

    label = "local engine prices"

    def message(self, step: Step) -> float:
        """What the engine charges for that message."""
        from parafraim_build.emulator.pricing import message_cost

        # Only the text's length is priced; the spec loader has validated the body already.
        return message_cost(SendMessageRequest.model_construct(**step.request_body()))

    def render(self, config: RenderConfig, duration_seconds: float | None) -> float:
        """What the engine precharges for that render, if it lasts ``duration_seconds`` (or
        the assumed length when None)."""
        from parafraim_build.emulator.pricing import render_cost

        seconds = ASSUMED_DURATION_SECONDS if duration_seconds is None else duration_seconds
        return render_cost(config, seconds)


@dataclass(frozen=True)
class ObservedRenderCost:
    """What one earlier render was charged (net of refunds), with what it rendered."""

    config: RenderConfig
    duration_seconds: float | None
    credits: float


@dataclass(frozen=True)
class ObservedCosts:
    """Costs seen in earlier runs against one service and account."""

    messages: tuple[float, ...] = ()
    renders: tuple[ObservedRenderCost, ...] = ()

    @property
    def count(self) -> int:
        """How many observations there are."""
        return len(self.messages) + len(self.renders)


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def _units(config: RenderConfig) -> float:
    # The work a render does grows with pixels and frames; a 1080p30 render is one unit.
    return config.width * config.height * config.fps / _REFERENCE_UNIT


class ObservedCostModel:
    """Averages of observed costs; ``fallback`` prices what has never been observed."""

    def __init__(self, observed: ObservedCosts, fallback: CostModel) -> None:
        self.observed = observed
        self.fallback = fallback

    @property
    def label(self) -> str:
        """Says how many observations the figures rest on, or that none do yet."""
        count = self.observed.count
        if count == 0:
            return f"no costs observed yet; guessed from {self.fallback.label}"
        noun = "cost" if count == 1 else "costs"
        return f"from {count} observed {noun}"

    def message(self, step: Step) -> float:
        """The mean observed message cost."""
        if not self.observed.messages:
            return self.fallback.message(step)
        return round(_mean(self.observed.messages), 2)

    def render(self, config: RenderConfig, duration_seconds: float | None) -> float:
        """The observed cost of the same config, else of any render scaled by pixels x fps.

        Durations are used only when both the observation and the request know theirs.
        """
        renders = self.observed.renders
        if not renders:
            return self.fallback.render(config, duration_seconds)
        same = [seen for seen in renders if seen.config == config]
        pool = same or list(renders)
        timed = [seen for seen in pool if seen.duration_seconds]
        if duration_seconds is not None and timed:
            rates = [
                seen.credits / (seen.duration_seconds * _units(seen.config))
                for seen in timed
                if seen.duration_seconds
            ]
            return round(_mean(rates) * duration_seconds * _units(config), 2)
        return round(
            _mean([seen.credits / _units(seen.config) for seen in pool]) * _units(config), 2
        )

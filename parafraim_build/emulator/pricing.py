"""What the local engine charges, in credits. The real service does not publish prices.

The formulas (also in ``docs/engine.md``):

* a message costs ``1 + 0.1 x ceil(characters / 1000)`` credits, so a short instruction
  costs 1.1 and a 10,000-character one 2.0;
* a render costs ``duration x (width x height / 1920x1080) x (fps / 30) x quality x format``
  credits, at least 1, where quality is 0.5 (draft), 1 (standard) or 2 (high), format is 1
  for mp4 and 0.5 for gif, and audio and subtitles add 5% each. A 10-second 1080p30
  standard mp4 with both costs 11.

Every amount is rounded to cents. The planner imports these functions for ``--local``
estimates, so the engine and the estimate always agree.
"""

from __future__ import annotations

import math

from parafraim_build.api.models import RenderConfig, SendMessageRequest

MESSAGE_BASE_COST = 1.0
MESSAGE_COST_PER_1000_CHARS = 0.1
RENDER_MIN_COST = 1.0
REFERENCE_PIXELS = 1920 * 1080
REFERENCE_FPS = 30
QUALITY_FACTORS = {"draft": 0.5, "standard": 1.0, "high": 2.0}
FORMAT_FACTORS = {"mp4": 1.0, "gif": 0.5}
TRACK_SURCHARGE = 0.05


def message_cost(request: SendMessageRequest) -> float:
    """Credits charged when a message task is accepted."""
    blocks = math.ceil(len(request.message) / 1000)
    return round(MESSAGE_BASE_COST + MESSAGE_COST_PER_1000_CHARS * blocks, 2)


def render_cost(config: RenderConfig, duration_seconds: float) -> float:
    """Credits precharged for a render of a composition lasting ``duration_seconds``."""
    factor = (
        (config.width * config.height / REFERENCE_PIXELS)
        * (config.fps / REFERENCE_FPS)
        * QUALITY_FACTORS[config.quality]
        * FORMAT_FACTORS[config.format]
    )
    if config.format == "mp4":
        factor *= 1 + TRACK_SURCHARGE * (int(config.includeAudio) + int(config.includeSubtitles))
    return round(max(RENDER_MIN_COST, max(duration_seconds, 0.0) * factor), 2)

"""The documented credit formulas of the local engine."""

from __future__ import annotations

import pytest

from parafraim_build.api.models import RenderConfig, SendMessageRequest
from parafraim_build.emulator.pricing import message_cost, render_cost


@pytest.mark.parametrize(
    ("length", "cost"),
    [(1, 1.1), (999, 1.1), (1000, 1.1), (1001, 1.2), (5000, 1.5), (10_000, 2.0)],
)
def test_message_cost_grows_per_started_thousand_characters(length: int, cost: float) -> None:
    assert message_cost(SendMessageRequest(message="x" * length)) == cost


def test_message_cost_ignores_selected_elements() -> None:
    plain = SendMessageRequest(message="Shorten it.")
    targeted = SendMessageRequest(message="Shorten it.", selectedElements=[{"selector": "#a"}] * 8)
    assert message_cost(plain) == message_cost(targeted)


def test_reference_render_costs_one_credit_per_second_plus_tracks() -> None:
    config = RenderConfig()  # 1920x1080, 30 fps, standard, mp4, audio and subtitles
    assert render_cost(config, 10) == 11.0
    bare = RenderConfig(includeAudio=False, includeSubtitles=False)
    assert render_cost(bare, 10) == 10.0


@pytest.mark.parametrize(
    ("changes", "factor"),
    [
        ({"width": 3840, "height": 2160}, 4),
        ({"width": 960, "height": 540}, 0.25),
        ({"fps": 60}, 2),
        ({"quality": "draft"}, 0.5),
        ({"quality": "high"}, 2),
        ({"format": "gif"}, 0.5),
    ],
)
def test_render_cost_scales_with_pixels_fps_quality_and_format(
    changes: dict[str, object], factor: float
) -> None:
    base = {"includeAudio": False, "includeSubtitles": False}
    reference = render_cost(RenderConfig.model_validate(base), 20)
    assert render_cost(RenderConfig.model_validate(base | changes), 20) == reference * factor


def test_gif_ignores_audio_and_subtitle_flags() -> None:
    with_tracks = RenderConfig(format="gif", includeAudio=True, includeSubtitles=True)
    without = RenderConfig(format="gif", includeAudio=False, includeSubtitles=False)
    assert render_cost(with_tracks, 12) == render_cost(without, 12) == 6.0


def test_render_cost_has_a_floor_and_is_rounded_to_cents() -> None:
    tiny = RenderConfig(width=480, height=270, fps=24, quality="draft", format="gif")
    assert render_cost(tiny, 0.5) == 1.0
    assert render_cost(RenderConfig(), 1 / 3) == 1.0
    odd = render_cost(RenderConfig(width=1000, height=700, fps=25), 7.3)
    assert odd == round(odd, 2)

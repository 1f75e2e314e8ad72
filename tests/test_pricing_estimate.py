"""Cost models: the local engine's prices and estimates from observed costs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from parafraim_build.api.models import RenderConfig
from parafraim_build.pricing_estimate import (
    ASSUMED_DURATION_SECONDS,
    CostModel,
    LocalCostModel,
    ObservedCostModel,
    ObservedCosts,
    ObservedRenderCost,
)
from parafraim_build.spec.models import Step


class Flat:
    """A literal fallback: 5 per message, 7 per render."""

    label = "flat prices"

    def message(self, step: Step) -> float:
        return 5.0

    def render(self, config: RenderConfig, duration_seconds: float | None) -> float:
        return 7.0


def test_local_prices_are_the_engines() -> None:
    model: CostModel = LocalCostModel()
    assert model.label == "local engine prices"
    assert model.message(Step(message="short")) == 1.1
    assert model.message(Step(message="x" * 10_000)) == 2.0
    assert model.render(RenderConfig(), 10.0) == 11.0  # the engine's documented example
    assert model.render(RenderConfig(), None) == model.render(
        RenderConfig(), ASSUMED_DURATION_SECONDS
    )
    assert model.render(RenderConfig(format="gif", width=480, height=270), 1.0) == 1.0  # minimum


def test_with_nothing_observed_the_fallback_prices_and_says_so() -> None:
    model = ObservedCostModel(ObservedCosts(), Flat())
    assert model.label == "no costs observed yet; guessed from flat prices"
    assert model.message(Step(message="hi")) == 5.0
    assert model.render(RenderConfig(), 3.0) == 7.0


def test_messages_cost_their_observed_mean() -> None:
    model = ObservedCostModel(ObservedCosts(messages=(1.0, 2.0, 2.4)), Flat())
    assert model.message(Step(message="anything")) == 1.8
    assert model.render(RenderConfig(), None) == 7.0  # no render observed yet
    assert model.label == "from 3 observed costs"


@pytest.mark.parametrize(
    ("config", "duration", "expected"),
    [
        pytest.param(RenderConfig(), None, 15.0, id="same-config-mean"),
        pytest.param(RenderConfig(), 20.0, 20.0, id="same-config-per-second"),
        pytest.param(RenderConfig(fps=60), None, 30.0, id="twice-the-frames"),
        pytest.param(RenderConfig(width=960, height=540, fps=60), 10.0, 5.0, id="scaled-timed"),
    ],
)
def test_renders_scale_from_what_was_observed(
    config: RenderConfig, duration: float | None, expected: float
) -> None:
    observed = ObservedCosts(
        renders=(
            ObservedRenderCost(RenderConfig(), 10.0, 10.0),  # 1 credit per second
            ObservedRenderCost(RenderConfig(), None, 20.0),
        )
    )
    model = ObservedCostModel(observed, Flat())
    assert model.render(config, duration) == expected
    assert model.label == "from 2 observed costs"


def test_one_observation_is_singular() -> None:
    model = ObservedCostModel(ObservedCosts(messages=(1.0,)), Flat())
    assert model.label == "from 1 observed cost"


DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize("page", ["plan.md", "build.md"])
def test_the_docs_never_call_estimates_exact_and_say_what_length_is_guessed(page: str) -> None:
    # A render of a composition not made yet is priced at a guessed length, so no estimate,
    # not even --local's, is exact; the docs must say what the guess is.
    text = " ".join((DOCS / page).read_text(encoding="utf-8").split())
    assert not re.search(r"\(exact\)|exact prices|prices are exact", text)
    assert f"{ASSUMED_DURATION_SECONDS:g} seconds" in text
    assert "current composition" in text


def test_cost_labels_say_what_figures_rest_on_and_never_claim_exactness() -> None:
    labels = [
        LocalCostModel().label,
        ObservedCostModel(ObservedCosts(), LocalCostModel()).label,
        ObservedCostModel(ObservedCosts(messages=(1.0,)), LocalCostModel()).label,
    ]
    assert labels == [
        "local engine prices",
        "no costs observed yet; guessed from local engine prices",
        "from 1 observed cost",
    ]

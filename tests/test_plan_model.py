"""The plan's data model and its JSON document, from literal plans."""

from __future__ import annotations

import json

import pytest

from parafraim_build.lock_model import PendingRender
from parafraim_build.plan_model import ACTION_KINDS, Action, Plan, VideoPlan


def test_an_action_lists_step_and_render_only_when_it_has_them() -> None:
    assert Action("send_message", reason="new step", step=2).to_json() == {
        "action": "send_message",
        "step": 2,
        "reason": "new step",
    }
    assert Action("download", reason="missing", render="hd").to_json() == {
        "action": "download",
        "render": "hd",
        "reason": "missing",
    }
    assert Action("create_project", reason="new video").to_json() == {
        "action": "create_project",
        "reason": "new video",
    }


def test_changes_counts_and_credits() -> None:
    plan = Plan(
        videos=(
            VideoPlan(
                "a",
                "p-1",
                actions=(
                    Action("send_message", reason="r", step=1, credits=1.1),
                    Action("send_message", reason="r", step=2, credits=1.1),
                    Action("render", reason="r", render="hd", credits=0.1),
                ),
            ),
            VideoPlan("b", "p-2"),
        ),
        cost_label="x",
    )
    assert plan.changes
    assert plan.estimated_credits == 2.3  # not 2.3000000000000003
    assert plan.summary() == dict.fromkeys(ACTION_KINDS, 0) | {"send_message": 2, "render": 1}
    assert not plan.video("b").changes
    with pytest.raises(KeyError):
        plan.video("c")


def test_every_change_is_an_action() -> None:
    # The planner always gives a dropped video and a stale pending record an action: the
    # document's "changes" is exactly "some video has an action".
    stale = PendingRender(render="hd", key="k", startedAt="2025-01-31T09:30:00Z")
    bare = Plan(
        videos=(
            VideoPlan("gone", "p-1", drop_video=True),
            VideoPlan("v", "p-2", stale_pending=(stale,)),
        ),
        cost_label="x",
    )
    assert not bare.changes
    removal = Action("remove_output", reason="its lock entry goes", forget=True)
    plan = Plan(videos=(VideoPlan("gone", "p-1", (removal,), drop_video=True),), cost_label="x")
    assert plan.changes
    assert plan.to_json()["changes"] is True


def test_the_document_is_plain_json() -> None:
    plan = Plan(
        videos=(
            VideoPlan(
                "a",
                None,
                actions=(Action("create_project", reason="new video"),),
            ),
        ),
        cost_label="x",
    )
    document = plan.to_json()
    assert json.loads(json.dumps(document)) == document
    assert document["estimatedCredits"] == 0
    assert isinstance(document["estimatedCredits"], int)
    assert VideoPlan("a", None).replaces is False
    assert plan.video("a").creates

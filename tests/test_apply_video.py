"""Unit tests of the per-video runner's pieces: the ``--max-credits`` budget, action labels,
the result documents and the time parsing that matches a lost render to its charge.

The runner itself is exercised end to end against the engine (``test_apply_*.py``).
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from parafraim_build.api.models import Credits
from parafraim_build.apply_context import (
    ActionOutcome,
    Budget,
    ProjectClaims,
    VideoResult,
    parse_time,
    project_charges,
)
from parafraim_build.apply_video import action_label
from parafraim_build.errors import BudgetError
from parafraim_build.lock_model import BlankSource, Lock
from parafraim_build.plan_model import Action, Plan, ReusedProject, VideoPlan


def test_without_a_limit_the_budget_never_refuses() -> None:
    budget = Budget(None)
    for _ in range(1000):
        budget.reserve(1_000_000, "render hd")
    assert budget.reserved == 1_000_000_000


def test_the_budget_allows_up_to_the_limit_exactly() -> None:
    budget = Budget(0.3)
    budget.reserve(0.1, "step 1/2")
    budget.reserve(0.2, "step 2/2")  # 0.1 + 0.2 is 0.30000000000000004 in floats
    assert budget.reserved == pytest.approx(0.3)
    with pytest.raises(BudgetError) as caught:
        budget.reserve(0.01, "render hd")
    assert caught.value.message == (
        "render hd not started: estimated at 0.01 credits, it would pass --max-credits 0.3 "
        "(0.3 already committed by this run)"
    )
    assert caught.value.hint is not None
    assert "--max-credits" in caught.value.hint
    assert budget.reserved == pytest.approx(0.3)  # a refusal reserves nothing


def test_a_refused_operation_gives_its_reservation_back() -> None:
    budget = Budget(10)
    budget.reserve(8, "render hd")
    with pytest.raises(BudgetError):
        budget.reserve(4, "render teaser")
    budget.release(8)
    budget.reserve(4, "render teaser")
    budget.release(100)
    assert budget.reserved == 0


@pytest.mark.parametrize(
    ("action", "label"),
    [
        (Action("create_project", reason="r"), "create project"),
        (Action("use_template", reason="r"), "use template"),
        (Action("replace_project", reason="r"), "replace project"),
        (
            Action(
                "replace_project",
                reason="r",
                reuse=ReusedProject("p", BlankSource(aspectRatio="16:9"), "n", None, "h", ()),
            ),
            "reuse cached project",
        ),
        (Action("send_message", reason="r", step=2), "step 2/3"),
        (Action("resume_task", reason="r", step=3), "resume step 3/3"),
        (Action("render", reason="r", render="hd"), "render hd"),
        (Action("resume_render", reason="r", render="hd"), "resume render hd"),
        (Action("download", reason="r", render="hd"), "download hd"),
        (Action("copy_cached", reason="r", render="hd"), "copy hd from cache"),
        (Action("copy_cached", reason="r", render="hd", source_path="old/v/hd.mp4"), "move hd"),
        (Action("remove_output", reason="r", path="out/v/hd.mp4"), "remove out/v/hd.mp4"),
        (Action("remove_output", reason="r", render="zz"), "forget zz"),
        (Action("remove_output", reason="r", forget=True), "remove lock entry"),
        (
            Action(
                "replace_project",
                reason="r",
                reuse=ReusedProject("p", BlankSource(aspectRatio="16:9"), "n", None, "h", (), True),
            ),
            "take back project",
        ),
    ],
)
def test_every_action_has_a_short_label(action: Action, label: str) -> None:
    assert action_label(action, 3) == label


def test_the_result_documents_name_only_what_applies() -> None:
    result = VideoResult(video="launch", project_id="p1")
    result.done.append(ActionOutcome("send_message", 1, None, "composition abc"))
    result.done.append(ActionOutcome("render", None, "hd", "out/launch/hd.mp4, 1.2 MB"))
    result.outputs += ["out/launch/teaser.gif", "out/launch/hd.mp4"]
    assert result.to_json() == {
        "video": "launch",
        "projectId": "p1",
        "status": "ok",
        "error": None,
        "hint": None,
        "actions": [
            {"action": "send_message", "step": 1, "outcome": "composition abc"},
            {"action": "render", "render": "hd", "outcome": "out/launch/hd.mp4, 1.2 MB"},
        ],
        "outputs": ["out/launch/hd.mp4", "out/launch/teaser.gif"],
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-31T09:30:00Z", datetime(2025, 1, 31, 9, 30, tzinfo=timezone.utc)),
        ("2025-01-31T09:30:00.250Z", datetime(2025, 1, 31, 9, 30, 0, 250000, timezone.utc)),
        ("2025-01-31T10:30:00+01:00", datetime(2025, 1, 31, 9, 30, tzinfo=timezone.utc)),
        ("2025-01-31T09:30:00", datetime(2025, 1, 31, 9, 30, tzinfo=timezone.utc)),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_times_from_the_lock_and_the_api_are_read_in_utc(
    text: str | None, expected: datetime | None
) -> None:
    assert parse_time(text) == expected


def _plan(video: str, *reused: str) -> VideoPlan:
    source = BlankSource(aspectRatio="16:9")
    return VideoPlan(
        video=video,
        project_id=None,
        actions=tuple(
            Action(
                "replace_project",
                reason="r",
                reuse=ReusedProject(project, source, "n", None, "h", ()),
            )
            for project in reused
        ),
    )


def test_claims_give_each_project_to_one_video_for_the_whole_run() -> None:
    lock = Lock.new("https://parafraim.com", "acc")
    for video, project in (("a", "p-a"), ("c", "p-c")):
        lock = lock.record_project(
            video,
            project_id=project,
            source=BlankSource(aspectRatio="16:9"),
            name=video,
            description=None,
            initial_composition_sha256="h",
        )
    plan = Plan(videos=(_plan("a"), _plan("b", "p-x")), cost_label="test")
    claims = ProjectClaims.of(lock, plan)
    assert claims.ids() == {"p-a", "p-c", "p-x"}
    assert claims.holder("p-x") == "b"
    # A re-plan of a that picked x (had it not been told) is refused; b keeps it.
    assert claims.claim_plan(_plan("a", "p-x")) is False
    assert claims.holder("p-x") == "b"
    assert claims.claim("p-x", "b") is True
    assert claims.claim("p-new", "a") is True
    assert claims.claim("p-c", "a") is False


def test_the_projects_charges_are_read_once_for_messages_and_renders() -> None:
    def tx(
        kind: str, project: str, at: str | None, task: str | None = None, job: str | None = None
    ) -> dict[str, object]:
        return {
            "type": kind,
            "amount": 1,
            "createdAt": at,
            "projectId": project,
            "taskId": task,
            "jobId": job,
        }

    credits = Credits.model_validate(
        {
            "balance": 10,
            "recent": [
                tx("charge", "p", "2025-01-31T09:30:00Z", task="t-1"),
                tx("charge", "p", "2025-01-31T09:31:00Z", task="t-2"),
                tx("refund", "p", "2025-01-31T09:32:00Z", task="t-2"),
                tx("charge", "p", "2025-01-31T09:33:00Z", task="t-2", job="j-1"),
                tx("charge", "p", "yesterday", task="t-3"),
                tx("charge", "q", "2025-01-31T09:34:00Z", task="t-9"),
                tx("refund", "q", "2025-01-31T09:35:00Z", task="t-9"),
            ],
        }
    )
    charges = project_charges(credits, "p")
    at = datetime(2025, 1, 31, 9, 30, tzinfo=timezone.utc)
    assert charges.messages == {"t-1": at, "t-2": at.replace(minute=31)}
    assert charges.renders == {"j-1": at.replace(minute=33)}  # a render charge names its job
    assert charges.refunded_tasks == {"t-2", "t-9"}

"""The readable plan, rendered from literal plans."""

from __future__ import annotations

import io
import textwrap

import click
import pytest

from parafraim_build.api.models import RenderConfig
from parafraim_build.console.apply_view import confirm_plan
from parafraim_build.console.plan_view import format_credits, format_plan, print_plan, use_colour
from parafraim_build.lock_model import BlankSource, TemplateSource
from parafraim_build.plan_model import Action, Plan, ProjectRecipe, ReusedProject, VideoPlan
from parafraim_build.spec.models import Step

GIF = RenderConfig(format="gif", width=480, height=270, quality="draft", includeAudio=False)
TEMPLATE = TemplateSource(templateId="00000000-0000-0000-0000-000000000001", templateName="Launch")


def literal_plan() -> Plan:
    launch = VideoPlan(
        video="launch",
        project_id=None,
        steps_total=2,
        actions=(
            Action(
                "use_template",
                reason="new video",
                recipe=ProjectRecipe("Acme launch", None, TEMPLATE),
            ),
            Action(
                "send_message",
                reason="new video",
                step=1,
                message=Step(message="Make the opening\n more direct for Acme."),
                credits=1.1,
            ),
            Action(
                "send_message",
                reason="new video",
                step=2,
                message=Step(message="Shorten the second scene " + "and more " * 10),
                credits=1.1,
            ),
            Action("render", reason="new video", render="hd", config=RenderConfig(), credits=11),
            Action("render", reason="new video", render="teaser", config=GIF, credits=1.25),
        ),
    )
    recap = VideoPlan(
        video="recap-de",
        project_id="p-7",
        steps_total=1,
        actions=(
            Action(
                "replace_project",
                reason="step 1 differs; reusing project p-3 from the run cache",
                recipe=ProjectRecipe("recap", None, BlankSource(aspectRatio="9:16")),
                reuse=ReusedProject("p-3", BlankSource(aspectRatio="9:16"), "recap", None, "c", ()),
            ),
            Action("copy_cached", reason="in the run cache", render="hd", config=RenderConfig()),
        ),
        warnings=('name changed to "Recap DE", but Parafraim cannot rename a project',),
    )
    resumed = VideoPlan(
        video="recap-en",
        project_id="p-8",
        steps_total=3,
        actions=(
            Action("resume_task", reason="task t-3 was started", step=3, task_id="t-3"),
            Action("resume_render", reason="job j-1 was started", render="hd", job_id="j-1"),
            Action(
                "download",
                reason="the output file is missing",
                render="teaser",
                config=GIF,
                job_id="j-2",
            ),
            Action(
                "remove_output",
                reason="the render is no longer declared",
                render="old",
                path="out/recap-en/old.mp4",
                forget=True,
            ),
        ),
    )
    gone = VideoPlan(
        video="retired",
        project_id="p-9",
        actions=(
            Action(
                "remove_output",
                reason="the video is no longer in the spec and has no outputs",
                forget=True,
            ),
        ),
        drop_video=True,
        warnings=("project p-9 stays on the service",),
    )
    same = VideoPlan(video="same", project_id="p-1")
    return Plan(
        videos=(launch, recap, resumed, gone, same),
        cost_label="local engine prices",
    )


EXPECTED = textwrap.dedent(
    """\
    parafraim-build plan: 5 videos, 1 unchanged
    + launch  use template "Launch" (00000000-0000-0000-0000-000000000001) named "Acme launch"
        + send step 1/2      "Make the opening more direct for Acme."  (new video)
        + send step 2/2      "Shorten the second scene and more and more and…"  (new video)
        + render hd          1920x1080 30fps mp4 standard  (new video)
        + render teaser      480x270 30fps gif draft no audio  (new video)
    -/+ recap-de  replace project p-7: step 1 differs; reusing project p-3 from the run cache
        = copy hd            1920x1080 30fps mp4 standard  (in the run cache)
        warning: name changed to "Recap DE", but Parafraim cannot rename a project
    ~ recap-en  project p-8
        > resume step 3/3    task t-3 was started
        > resume render hd   job j-1 was started
        < download teaser    480x270 30fps gif draft no audio  (the output file is missing)
        - remove old         out/recap-en/old.mp4  (the render is no longer declared)
    - retired  no longer in the spec
        - remove entry       the video is no longer in the spec and has no outputs
        warning: project p-9 stays on the service

    Symbols: + create or add, -/+ replace, ~ update in place, > resume, < download again, \
= copy from the run cache (or move), - remove
    Plan: 1 project, 1 project reused, 2 messages, 2 renders, 1 download, 2 resumed, 1 copied \
from the run cache, 2 removals. Estimated credits: 14.45 (estimate; local engine prices)"""
)


def test_a_plan_reads_like_terraform() -> None:
    assert format_plan(literal_plan()) == EXPECTED


def test_colour_only_when_asked() -> None:
    plain = format_plan(literal_plan())
    coloured = format_plan(literal_plan(), colour=True)
    assert "\x1b[" not in plain
    assert "\x1b[" in coloured
    assert click.unstyle(coloured) == plain
    assert click.style("+", fg="green", bold=True) + " " + click.style("launch", bold=True) in (
        coloured
    )
    assert click.style("-/+", fg="magenta", bold=True) in coloured


def test_nothing_to_do() -> None:
    plan = Plan(videos=(VideoPlan("a", "p-1"), VideoPlan("b", "p-2")), cost_label="x")
    assert format_plan(plan) == (
        "parafraim-build plan: 2 videos, 2 unchanged\n\nNo changes: every video is up to date."
    )


def test_warnings_of_unchanged_videos_are_shown_too() -> None:
    plan = Plan(
        videos=(VideoPlan("a", "p-1", warnings=("description changed",)),),
        cost_label="x",
    )
    assert format_plan(plan).splitlines() == [
        "parafraim-build plan: 1 video, 1 unchanged",
        "  a  up to date",
        "    warning: description changed",
        "",
        "No changes: every video is up to date.",
    ]


def test_a_blank_project_line() -> None:
    plan = Plan(
        videos=(
            VideoPlan(
                "a",
                None,
                actions=(
                    Action(
                        "create_project",
                        reason="new video",
                        recipe=ProjectRecipe("A", None, BlankSource(aspectRatio="1:1")),
                    ),
                ),
            ),
        ),
        cost_label="from 3 observed costs",
    )
    lines = format_plan(plan).splitlines()
    assert lines[1] == '+ a  create a blank 1:1 project named "A"'
    assert lines[-1] == (
        "Plan: 1 project, 0 messages, 0 renders, 0 downloads, 0 removals. "
        "Estimated credits: 0 (estimate; from 3 observed costs)"
    )


def test_taking_back_moving_and_conditional_removals_say_what_apply_does() -> None:
    blank = BlankSource(aspectRatio="16:9")
    taken = VideoPlan(
        "a",
        "p-1",
        actions=(
            Action(
                "replace_project",
                reason="project p-1 holds steps the lock does not know; taken back as it is",
                reuse=ReusedProject("p-1", blank, "a", None, "c", (), own=True),
            ),
        ),
    )
    moved = VideoPlan(
        "b",
        "p-2",
        actions=(
            Action(
                "copy_cached",
                reason="the output path changed",
                render="hd",
                path="build/b/hd.mp4",
                source_path="out/b/hd.mp4",
                expected_sha256="s",
            ),
            Action(
                "copy_cached",
                reason="in the run cache",
                render="sd",
                path="build/b/sd.mp4",
                expected_sha256="s",
            ),
            Action(
                "remove_output",
                reason="the render is no longer declared",
                render="old",
                path="build/b/old.mp4",
                expected_sha256="s",
                forget=True,
            ),
            Action("remove_output", reason="an interrupted run was making render zz", render="zz"),
        ),
    )
    lines = format_plan(Plan(videos=(taken, moved), cost_label="x")).splitlines()
    assert lines[1] == (
        "~ a  take back project p-1: project p-1 holds steps the lock does not know; "
        "taken back as it is"
    )
    assert "replace" not in lines[1].split(":")[0]
    assert lines[3:7] == [
        "    = move hd            from out/b/hd.mp4  (the output path changed)",
        "    = copy sd            in the run cache",
        "    - remove old         build/b/old.mp4, if unchanged  (the render is no longer "
        "declared)",
        "    - forget zz          an interrupted run was making render zz",
    ]
    assert lines[-1].startswith(
        "Plan: 0 projects, 1 project taken back, 0 messages, 0 renders, 0 downloads, "
        "1 copied from the run cache, 1 moved, 2 removals."
    )


@pytest.mark.parametrize(
    ("value", "text"), [(42.5, "42.5"), (3.0, "3"), (0.25, "0.25"), (0, "0"), (1.005, "1")]
)
def test_format_credits(value: float, text: str) -> None:
    assert format_credits(value) == text


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_needs_a_terminal_and_no_NO_COLOR(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not use_colour(io.StringIO())
    assert not use_colour(FakeTerminal())  # the test environment sets NO_COLOR
    monkeypatch.delenv("NO_COLOR")
    assert use_colour(FakeTerminal())


def test_print_plan_writes_plain_text_to_a_pipe(capsys: pytest.CaptureFixture[str]) -> None:
    print_plan(literal_plan())
    captured = capsys.readouterr()
    assert captured.out == EXPECTED + "\n"
    assert captured.err == ""


@pytest.mark.parametrize(
    ("show", "assume_yes", "answer", "out", "err_has_plan", "applied"),
    [
        (False, False, "y\n", "", True, True),  # apply --json on a terminal: plan on stderr
        (False, False, "n\n", "", True, False),
        (False, True, "", "", False, True),  # apply --json --yes: nothing but the result
        (True, False, "y\n", EXPECTED + "\n", False, True),  # apply: the plan on stdout
    ],
)
def test_a_plan_is_always_shown_before_the_question(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    show: bool,
    assume_yes: bool,
    answer: str,
    out: str,
    err_has_plan: bool,
    applied: bool,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(answer))
    assert confirm_plan(literal_plan(), assume_yes=assume_yes, show=show) is applied
    captured = capsys.readouterr()
    assert captured.out == out
    assert (EXPECTED in captured.err) is err_has_plan
    if not assume_yes:
        assert captured.err.index("Apply these changes?") > (
            captured.err.index(EXPECTED) if err_has_plan else -1
        )

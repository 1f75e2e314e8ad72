"""What a plan is: per video, the actions to take in order, each with its reason.

``Plan.to_json`` is the ``plan --json`` document of issue 5, exactly. Actions also carry what
the executor needs to carry them out (the step to send, the key it will produce, the render
config, the job to resume...), so ``apply`` never has to re-derive a decision.

How the executor reads each kind:

* ``create_project`` / ``use_template``: make a project from ``recipe`` and record it.
* ``replace_project``: with ``reuse``, record that cached project (its steps are already
  applied; ``reuse.own``: it is the video's own project, taken back as the run cache knows
  it); without, make a new project from ``recipe``. Either way the old one stays.
* ``send_message``: write a pending task for ``chain_key`` (step ``step``), send ``message``,
  record its id, wait, record the step.
* ``resume_task``: wait for ``task_id`` and record step ``step`` with ``chain_key``.
* ``render``: render ``config`` into ``path``. ``render_key`` is None when the composition is
  made earlier in the same apply; the executor computes it then, and may copy from the run
  cache instead when that key is there.
* ``resume_render``: wait for ``job_id`` and record the output; with ``job_id`` None, look the
  job up from task ``task_id``'s latest render job (if it matches), or else render again.
* ``download``: a fresh URL from job ``job_id`` into ``path``. The file must be of the config's
  format; it is compared with ``expected_sha256``/``expected_size`` (the lock's record): one
  that differs is still recorded, with a note, because the job's file is the truth of that
  job. Only when the job cannot give the file (gone, not complete, its URL refused after a
  refresh, not of the format) is ``config`` rendered again; a local write failure fails.
* ``copy_cached``: copy the run cache's output ``render_key`` into ``path``. With
  ``source_path`` (the output moved: ``outDir`` changed), move the verified file from that
  old path instead: copy it, unless ``path`` already holds it (``expected_sha256``; an earlier
  run stopped before recording it there, or it was moved by hand: then nothing is copied),
  remove the old file if it is still the recorded one, then record ``path``. (A
  ``remove_output`` of the old path follows in the plan; it then finds nothing.) A move whose
  file verifies at neither place falls back to the run cache, then to job ``job_id``, then
  to a render.
* ``remove_output``: delete ``path``, only if it is still the file ``expected_sha256``/
  ``expected_size`` says (the lock's record; a file changed since is kept, with a note), and
  never without a checksum; with ``forget``, also drop render ``render`` from the lock.
  Without ``path`` there is no file to delete: a video that left the spec with no outputs
  (its lock entry goes: ``drop_video``), or an interrupted render's pending record that no
  action resolves (it is dropped: ``stale_pending``).

A ``VideoPlan`` with ``drop_video`` set (the video left the spec) drops its lock entry after
its actions; ``stale_pending`` lists pending records no action will record (the executor drops
them first). Every change is an action, so ``changes`` and the ``plan --json`` document always
agree: a stale pending render that no action of its render resolves (it was made for a render
no longer declared, or for another config or composition of one whose output is current) is
a ``remove_output`` of its own, which also deletes the file the interrupted run left, when the
run cache's copy proves it is that render's (``plan_renders.forget_pending``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from parafraim_build.api.models import RenderConfig
from parafraim_build.lock_model import (
    BlankSource,
    PendingRender,
    PendingTask,
    StepRecord,
    TemplateSource,
)
from parafraim_build.spec.models import Step

FORMAT_VERSION = 1

ActionKind = Literal[
    "create_project",
    "use_template",
    "replace_project",
    "send_message",
    "resume_task",
    "render",
    "resume_render",
    "download",
    "copy_cached",
    "remove_output",
]
ACTION_KINDS: tuple[ActionKind, ...] = get_args(ActionKind)
"""Every action kind, in the order the summary lists them."""
PROJECT_KINDS: frozenset[ActionKind] = frozenset(
    {"create_project", "use_template", "replace_project"}
)


@dataclass(frozen=True)
class ProjectRecipe:
    """How to make the video's project: its name, description and source."""

    name: str
    description: str | None
    source: TemplateSource | BlankSource


@dataclass(frozen=True)
class ReusedProject:
    """A project from the run cache whose history is a prefix of the wanted chain.

    ``own``: it is the video's own project, taken back as it is (another branch or run
    applied steps the lock does not know, and they still fit): the video stays where it is.
    """

    project_id: str
    source: TemplateSource | BlankSource
    name: str
    description: str | None
    initial_composition_sha256: str
    steps: tuple[StepRecord, ...]
    own: bool = False


@dataclass(frozen=True)
class Action:
    """One thing ``apply`` will do; ``step`` is 1-based in the spec's steps."""

    kind: ActionKind
    reason: str
    step: int | None = None
    render: str | None = None
    credits: float = 0.0
    recipe: ProjectRecipe | None = None
    reuse: ReusedProject | None = None
    message: Step | None = None
    chain_key: str | None = None
    task_id: str | None = None
    job_id: str | None = None
    config: RenderConfig | None = None
    render_key: str | None = None
    path: str | None = None
    expected_sha256: str | None = None
    expected_size: int | None = None
    forget: bool = False
    source_path: str | None = None
    length_unknown: bool = False
    """A render priced without a known length of its video (the cost model guessed one)."""

    def to_json(self) -> dict[str, Any]:
        """``{"action", "step"?, "render"?, "reason"}``."""
        document: dict[str, Any] = {"action": self.kind}
        if self.step is not None:
            document["step"] = self.step
        if self.render is not None:
            document["render"] = self.render
        document["reason"] = self.reason
        return document


@dataclass(frozen=True)
class VideoPlan:
    """The actions for one video, in execution order, and what the user should know."""

    video: str
    project_id: str | None
    actions: tuple[Action, ...] = ()
    warnings: tuple[str, ...] = ()
    steps_total: int = 0
    drop_video: bool = False
    stale_pending: tuple[PendingTask | PendingRender, ...] = ()

    @property
    def changes(self) -> bool:
        """Whether applying this video would do anything: whether it has an action.

        Every change is an action, so ``changes`` and the ``plan --json`` document agree: a
        video that leaves the spec always has one (its outputs' or its entry's removal), and
        every stale pending record is resolved by an action of its render or cleaned up by a
        ``remove_output`` of its own (``plan_renders.forget_pending``).
        """
        return bool(self.actions)

    @property
    def replaces(self) -> bool:
        """Whether the video moves to another project."""
        return any(action.kind == "replace_project" for action in self.actions)

    @property
    def creates(self) -> bool:
        """Whether the video gets its first project."""
        return any(action.kind in ("create_project", "use_template") for action in self.actions)

    @property
    def credits(self) -> float:
        """The estimated credits of this video's actions."""
        return math.fsum(action.credits for action in self.actions)

    def to_json(self) -> dict[str, Any]:
        """``{"video", "projectId", "actions"}``."""
        return {
            "video": self.video,
            "projectId": self.project_id,
            "actions": [action.to_json() for action in self.actions],
        }


@dataclass(frozen=True)
class Plan:
    """A whole plan: videos sorted by key, the cost model's label, new template pins."""

    videos: tuple[VideoPlan, ...]
    cost_label: str
    template_pins: Mapping[str, str] = field(default_factory=dict)

    @property
    def changes(self) -> bool:
        """Whether applying the plan would do anything."""
        return any(video.changes for video in self.videos)

    @property
    def estimated_credits(self) -> float:
        """The sum of every action's estimate, rounded to hundredths."""
        return round(math.fsum(video.credits for video in self.videos), 2)

    def summary(self) -> dict[ActionKind, int]:
        """How many actions of each kind, every kind present (zero included)."""
        counts: dict[ActionKind, int] = dict.fromkeys(ACTION_KINDS, 0)
        for video in self.videos:
            for action in video.actions:
                counts[action.kind] += 1
        return counts

    def video(self, key: str) -> VideoPlan:
        """The plan of one video (``KeyError`` if it is not in the plan)."""
        for video in self.videos:
            if video.video == key:
                return video
        raise KeyError(key)

    def to_json(self) -> dict[str, Any]:
        """The ``plan --json`` document, exactly as issue 5 defines it."""
        credits = self.estimated_credits
        return {
            "formatVersion": FORMAT_VERSION,
            "changes": self.changes,
            "estimatedCredits": int(credits) if credits == int(credits) else credits,
            "summary": dict(self.summary()),
            "videos": [video.to_json() for video in self.videos],
        }

"""The fully expanded spec: what ``load_spec`` returns and what the planner consumes.

Everything here is already templated, matrix-expanded, merged with ``defaults`` and checked
against the API's limits: a ``Spec`` can be planned without looking at YAML again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from parafraim_build.api.models import AspectRatio, RenderConfig, SelectedElement


class FrozenModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TemplateRef(FrozenModel):
    """A template by exact name (resolved once through the API, then pinned) or by id."""

    name: str | None = None
    id: str | None = None

    def describe(self) -> str:
        return f"template {self.id}" if self.id else f"template {self.name!r}"


class Step(FrozenModel):
    """One natural-language edit, exactly as it will be sent to ``POST .../messages``."""

    message: str
    selectedElement: SelectedElement | None = None
    selectedElements: tuple[SelectedElement, ...] | None = None

    def request_body(self) -> dict[str, Any]:
        """The JSON body of the message request; also the canonical form hashed in keys."""
        body: dict[str, Any] = {"message": self.message}
        if self.selectedElement is not None:
            body["selectedElement"] = self.selectedElement
        if self.selectedElements is not None:
            body["selectedElements"] = list(self.selectedElements)
        return body


class Video(FrozenModel):
    """One video after expansion; ``key`` names it in the lock and in output paths."""

    key: str
    name: str
    description: str | None = None
    template: TemplateRef | None = None
    aspectRatio: AspectRatio = "16:9"
    steps: tuple[Step, ...] = ()
    renders: dict[str, RenderConfig] = Field(default_factory=dict)


class Spec(FrozenModel):
    """A loaded spec. ``path`` is the spec file; outputs go under ``out_dir``."""

    path: Path
    out_dir: Path
    videos: dict[str, Video]

    @property
    def root(self) -> Path:
        """The folder the spec lives in; relative paths are resolved against it."""
        return self.path.parent

    def output_path(self, video: str, render: str) -> Path:
        """Where a render of a video is written: ``<outDir>/<video>/<render>.<format>``."""
        config = self.videos[video].renders[render]
        return self.out_dir / video / f"{render}.{config.format}"

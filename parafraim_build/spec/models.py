"""The fully expanded spec: what ``load_spec`` returns and what the planner consumes.

Everything here is already templated, matrix-expanded, merged with ``defaults`` and checked
against the API's limits: a ``Spec`` can be planned without looking at YAML again.

The models are frozen, and so are their mappings of videos and renders (``FrozenDict``: a
``dict`` that refuses changes, so that ``model_dump``, ``==`` and JSON work as before). The
selected elements of a step are the one exception: they are JSON passed to the API as written,
kept as plain dicts and lists so that they compare equal to what the lock recorded; treat them
as read-only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from parafraim_build.api.models import AspectRatio, RenderConfig, SelectedElement

K = TypeVar("K")
V = TypeVar("V")


class FrozenDict(dict[K, V]):
    """A ``dict`` that cannot be changed once made (copies and pickles stay frozen)."""

    def _refuse(self) -> NoReturn:
        raise TypeError("the expanded spec is read-only: build a new mapping instead")

    def __setitem__(self, key: K, value: V) -> NoReturn:
        self._refuse()

    def __delitem__(self, key: K) -> NoReturn:
        self._refuse()

    def __ior__(self, other: Any) -> NoReturn:  # type: ignore[misc]  # |= must refuse too
        self._refuse()

    def clear(self) -> NoReturn:
        self._refuse()

    def pop(self, *args: Any) -> NoReturn:
        self._refuse()

    def popitem(self) -> NoReturn:
        self._refuse()

    def setdefault(self, *args: Any) -> NoReturn:
        self._refuse()

    def update(self, *args: Any, **kwargs: Any) -> NoReturn:
        self._refuse()

    def __reduce__(self) -> tuple[type[FrozenDict[K, V]], tuple[dict[K, V]]]:
        return (type(self), (dict(self),))


def _frozen(items: dict[K, V]) -> FrozenDict[K, V]:
    return FrozenDict(items)


class FrozenModel(BaseModel):
    """Base of the expanded models: frozen, and no field beyond those declared."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class TemplateRef(FrozenModel):
    """A template by exact name (resolved once through the API, then pinned) or by id."""

    name: str | None = None
    id: str | None = None

    def describe(self) -> str:
        """``template 'Product launch'`` or ``template <uuid>``, for messages."""
        return f"template {self.id}" if self.id else f"template {self.name!r}"

    def canonical(self) -> dict[str, str]:
        """``{"name": ...}`` or ``{"id": ...}``: only the field that is set."""
        return {"id": self.id} if self.id else {"name": self.name or ""}


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
    renders: Annotated[dict[str, RenderConfig], AfterValidator(_frozen)] = Field(
        default_factory=FrozenDict
    )

    def canonical(self) -> dict[str, Any]:
        """The video as plain JSON data: steps as request bodies, renders with defaults."""
        return {
            "key": self.key,
            "name": self.name,
            "description": self.description,
            "template": self.template.canonical() if self.template else None,
            "aspectRatio": self.aspectRatio,
            "steps": [step.request_body() for step in self.steps],
            "renders": {name: cfg.model_dump(mode="json") for name, cfg in self.renders.items()},
        }


class Spec(FrozenModel):
    """A loaded spec. ``path`` is the spec file; outputs go under ``out_dir``."""

    path: Path
    out_dir: Path
    videos: Annotated[dict[str, Video], AfterValidator(_frozen)]

    @property
    def root(self) -> Path:
        """The folder the spec lives in; relative paths are resolved against it."""
        return self.path.parent

    def canonical(self) -> dict[str, Any]:
        """The whole expanded spec as plain JSON data, the same on every machine.

        Paths are relative to the spec's folder (``spec`` is the file name), so the document
        only changes when what would be built changes.
        """
        return {
            "spec": self.path.name,
            "outDir": self.out_dir.relative_to(self.root).as_posix(),
            "videos": {key: video.canonical() for key, video in self.videos.items()},
        }

    def output_path(self, video: str, render: str) -> Path:
        """Where a render of a video is written: ``<outDir>/<video>/<render>.<format>``."""
        config = self.videos[video].renders[render]
        return self.out_dir / video / f"{render}.{config.format}"

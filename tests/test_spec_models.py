"""The expanded models: frozen, canonical JSON with relative paths, output paths."""

from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path

import pytest
from pydantic import ValidationError

from parafraim_build.api.models import RenderConfig
from parafraim_build.spec import Spec, Step, TemplateRef, Video
from parafraim_build.spec.models import FrozenDict


def make_spec(root: Path) -> Spec:
    video = Video(
        key="launch",
        name="Launch",
        template=TemplateRef(name="Product launch"),
        steps=(Step(message="Hi.", selectedElement={"selector": "h1"}),),
        renders={"teaser": RenderConfig(width=480, height=270, format="gif")},
    )
    return Spec(
        path=root / "parafraim.yaml", out_dir=root / "build" / "out", videos={"launch": video}
    )


def test_canonical_is_relative_and_complete(tmp_path: Path) -> None:
    assert make_spec(tmp_path).canonical() == {
        "spec": "parafraim.yaml",
        "outDir": "build/out",
        "videos": {
            "launch": {
                "key": "launch",
                "name": "Launch",
                "description": None,
                "template": {"name": "Product launch"},
                "aspectRatio": "16:9",
                "steps": [{"message": "Hi.", "selectedElement": {"selector": "h1"}}],
                "renders": {
                    "teaser": {
                        "width": 480,
                        "height": 270,
                        "fps": 30,
                        "format": "gif",
                        "quality": "standard",
                        "includeAudio": True,
                        "includeSubtitles": True,
                    }
                },
            }
        },
    }


def test_canonical_is_the_same_wherever_the_project_lives(tmp_path: Path) -> None:
    assert make_spec(tmp_path / "a").canonical() == make_spec(tmp_path / "b" / "c").canonical()


def test_output_path_uses_the_format_as_extension(tmp_path: Path) -> None:
    spec = make_spec(tmp_path)
    assert (
        spec.output_path("launch", "teaser") == tmp_path / "build" / "out" / "launch" / "teaser.gif"
    )
    assert spec.root == tmp_path


def test_template_ref_describe_and_canonical() -> None:
    by_id = TemplateRef(id="00000000-0000-0000-0000-000000000007")
    assert by_id.describe() == "template 00000000-0000-0000-0000-000000000007"
    assert by_id.canonical() == {"id": "00000000-0000-0000-0000-000000000007"}
    assert TemplateRef(name="Weekly recap").describe() == "template 'Weekly recap'"


def test_models_are_frozen() -> None:
    step = Step(message="Hi.")
    with pytest.raises(ValidationError):
        step.message = "Changed."  # type: ignore[misc]


def test_request_body_omits_unset_selections() -> None:
    assert Step(message="Hi.").request_body() == {"message": "Hi."}
    assert Step(message="Hi.", selectedElements=({"a": 1},)).request_body() == {
        "message": "Hi.",
        "selectedElements": [{"a": 1}],
    }


def test_mappings_of_the_expanded_spec_are_frozen_too(tmp_path: Path) -> None:
    spec = make_spec(tmp_path)
    video = spec.videos["launch"]
    for mutate in (
        lambda: spec.videos.__setitem__("x", video),
        lambda: spec.videos.pop("launch"),
        lambda: spec.videos.update({}),
        lambda: spec.videos.clear(),
        lambda: video.renders.__delitem__("teaser"),
        lambda: video.renders.setdefault("hd", RenderConfig()),
        lambda: video.renders.popitem(),
    ):
        with pytest.raises(TypeError, match="the expanded spec is read-only"):
            mutate()
    with pytest.raises(TypeError):
        spec.videos |= {}  # type: ignore[misc]
    assert list(spec.videos) == ["launch"]
    assert list(video.renders) == ["teaser"]


def test_frozen_mappings_still_dump_compare_and_copy(tmp_path: Path) -> None:
    spec = make_spec(tmp_path)
    assert isinstance(spec.videos, FrozenDict)
    assert type(spec.model_dump()["videos"]) is dict
    assert spec.videos == {"launch": spec.videos["launch"]}
    assert copy.deepcopy(spec) == spec
    assert pickle.loads(pickle.dumps(spec)) == spec
    assert isinstance(copy.copy(spec.videos), FrozenDict)
    assert json.loads(spec.model_dump_json())["videos"]["launch"]["key"] == "launch"
    assert isinstance(Video(key="x", name="x").renders, FrozenDict)

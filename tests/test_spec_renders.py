"""Renders: defaults merged under a video's own field by field, the API's defaults, opt-out."""

from __future__ import annotations

from pathlib import Path

from test_spec_support import load, only_problem

from parafraim_build.api.models import RenderConfig
from parafraim_build.spec import TemplateRef

DEFAULTS = """\
version: 1
defaults:
  aspectRatio: "1:1"
  template: Product launch
  renders:
    hd: {width: 1280, height: 720, fps: 25}
    teaser: {width: 480, height: 270, format: gif, quality: draft}
videos:
"""


def test_defaults_merge_per_render_field_and_the_video_wins(tmp_path: Path) -> None:
    spec = DEFAULTS + "  clip:\n    steps: [Hi.]\n    renders:\n      hd: {fps: 60}\n"
    video = load(tmp_path, spec).videos["clip"]
    assert video.renders == {
        "hd": RenderConfig(width=1280, height=720, fps=60),
        "teaser": RenderConfig(width=480, height=270, format="gif", quality="draft"),
    }
    assert video.template == TemplateRef(name="Product launch")
    assert video.aspectRatio == "1:1"


def test_api_defaults_fill_what_nobody_set(tmp_path: Path) -> None:
    spec = "version: 1\nvideos:\n  clip:\n    steps: [Hi.]\n    renders: {hd: {}}\n"
    video = load(tmp_path, spec).videos["clip"]
    assert video.renders["hd"].model_dump() == {
        "width": 1920,
        "height": 1080,
        "fps": 30,
        "format": "mp4",
        "quality": "standard",
        "includeAudio": True,
        "includeSubtitles": True,
    }
    assert video.aspectRatio == "16:9"
    assert video.template is None
    assert video.name == "clip"
    assert video.description is None


def test_default_renders_apply_to_every_video_and_videos_add_more(tmp_path: Path) -> None:
    spec = DEFAULTS + (
        "  a:\n    steps: [Hi.]\n"
        "  b:\n    steps: [Hi.]\n    renders:\n      square: {width: 720, height: 720}\n"
    )
    videos = load(tmp_path, spec).videos
    assert list(videos["a"].renders) == ["hd", "teaser"]
    assert list(videos["b"].renders) == ["hd", "teaser", "square"]


def test_a_video_opts_out_of_a_default_render_with_null(tmp_path: Path) -> None:
    spec = DEFAULTS + "  clip:\n    steps: [Hi.]\n    renders:\n      teaser: null\n"
    assert list(load(tmp_path, spec).videos["clip"].renders) == ["hd"]


def test_opting_out_of_a_render_that_is_not_a_default(tmp_path: Path) -> None:
    spec = DEFAULTS + "  clip:\n    steps: [Hi.]\n    renders:\n      teasr: null\n"
    problem = only_problem(tmp_path, spec)
    assert problem.message == (
        "'teasr: null' drops a render inherited from defaults, but defaults.renders has no "
        "'teasr' (did you mean 'teaser'?)"
    )
    assert (problem.line, problem.column) == (12, 7)


def test_problem_in_an_inherited_default_names_the_default_and_the_video(tmp_path: Path) -> None:
    spec = """\
    version: 1
    defaults:
      renders:
        hd: {format: "{{ fmt }}"}
    videos:
      a:
        steps: [Hi.]
    """
    problem = only_problem(tmp_path, spec)
    assert problem.message.startswith("undefined variable 'fmt'")
    assert problem.message.endswith("[in video a]")
    assert (problem.line, problem.column) == (4, 22)
    assert problem.key_path == "defaults.renders.hd.format"


def test_equal_configs_are_built_once_and_shared(tmp_path: Path) -> None:
    spec = """\
    version: 1
    defaults: {renders: {hd: {width: 1280, height: 720}}}
    videos:
      v-{{ n }}:
        matrix: {n: [1, 2, 3]}
        steps: [Hi.]
    """
    videos = list(load(tmp_path, spec).videos.values())
    assert videos[0].renders["hd"] is videos[1].renders["hd"] is videos[2].renders["hd"]


def test_render_names_are_templated(tmp_path: Path) -> None:
    spec = """\
    version: 1
    videos:
      v-{{ size }}:
        matrix: {size: [720, 1080]}
        steps: [Hi.]
        renders:
          "p{{ size }}": {height: "{{ size }}"}
    """
    problem = only_problem(tmp_path, spec)
    # Numbers are never templated: a templated height is a type error, found once.
    assert problem.message == "height must be a whole number, got the text '{{ size }}'"
    fixed = spec.replace('{height: "{{ size }}"}', "{quality: draft}")
    videos = load(tmp_path / "fixed", fixed).videos
    assert list(videos["v-720"].renders) == ["p720"]
    assert list(videos["v-1080"].renders) == ["p1080"]


def test_two_renders_templated_to_the_same_name(tmp_path: Path) -> None:
    spec = """\
    version: 1
    vars: {kind: hd}
    videos:
      clip:
        steps: [Hi.]
        renders:
          "{{ kind }}": {}
          hd: {fps: 60}
    """
    problem = only_problem(tmp_path, spec)
    assert problem.message == (
        "two renders of this video are named 'hd' after templating "
        "(the other is videos.clip.renders.{{ kind }} (line 7))"
    )
    assert (problem.line, problem.column) == (8, 7)


def test_render_names_that_differ_only_in_case_are_refused(tmp_path: Path) -> None:
    spec = """\
    version: 1
    defaults:
      renders: {HD: {}}
    videos:
      clip:
        steps: [Hi.]
        renders:
          hd: {fps: 60}
    """
    problem = only_problem(tmp_path, spec)
    assert problem.message == (
        "render name 'hd' differs only in case from 'HD': on macOS and Windows both would be "
        "one file; rename one (the other is defaults.renders.HD (line 3))"
    )
    assert (problem.line, problem.column) == (8, 7)


def test_render_name_with_a_trailing_newline_is_refused(tmp_path: Path) -> None:
    spec = 'version: 1\nvideos:\n  clip:\n    steps: [Hi.]\n    renders: {"hd\\n": {}}\n'
    problem = only_problem(tmp_path, spec)
    assert problem.message.startswith("render name 'hd\\n' is not a valid file name")
    assert (problem.line, problem.column) == (5, 15)

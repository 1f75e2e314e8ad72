"""Key paths and source lines."""

from __future__ import annotations

from parafraim_build.spec.source import SourceText, format_key_path


def test_format_key_path() -> None:
    assert format_key_path(("videos", "launch", "steps", 2, "message")) == (
        "videos.launch.steps[2].message"
    )
    assert format_key_path(("videos", "v1.2", "renders")) == 'videos["v1.2"].renders'
    assert format_key_path(()) == ""
    assert format_key_path(("videos", "")) == 'videos[""]'


def test_source_lines_are_one_based() -> None:
    source = SourceText.from_text("a.yaml", "one\r\ntwo\n")
    assert source.line(1) == "one"
    assert source.line(2) == "two"
    assert source.line(0) is None
    assert source.line(3) is None
    assert source.line(None) is None

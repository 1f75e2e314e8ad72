"""Request parsing: pydantic errors become VALIDATION messages that name the field."""

from __future__ import annotations

from typing import Any

import pytest

from parafraim_build.api.models import (
    CreateProjectRequest,
    RenderRequest,
    SendMessageRequest,
    UseTemplateRequest,
)
from parafraim_build.emulator.validation import (
    MAX_JSON_DEPTH,
    decode_json,
    field_path,
    json_depth,
    page_params,
    parse_body,
    require_not_blank,
)
from parafraim_build.errors import ApiValidationError


def _message(model: Any, body: Any) -> str:
    with pytest.raises(ApiValidationError) as caught:
        parse_body(model, body)
    assert caught.value.code == "VALIDATION"
    return caught.value.message


@pytest.mark.parametrize(
    ("model", "body", "expected"),
    [
        (CreateProjectRequest, {}, "name: is required"),
        (CreateProjectRequest, {"name": ""}, "name: must be 1-100 characters"),
        (CreateProjectRequest, {"name": "x" * 101}, "name: must be 1-100 characters"),
        (CreateProjectRequest, {"name": 5}, "name: must be a string"),
        (
            CreateProjectRequest,
            {"name": "a", "description": "x" * 501},
            "description: must be at most 500 characters",
        ),
        (
            CreateProjectRequest,
            {"name": "a", "aspectRatio": "4:3"},
            "aspectRatio: must be one of 16:9, 9:16 or 1:1",
        ),
        (CreateProjectRequest, {"name": "a", "templateId": "nope"}, "templateId: must be a UUID"),
        (CreateProjectRequest, {"name": "a", "color": "red"}, "color: is not a known field"),
        (SendMessageRequest, {"message": ""}, "message: must be 1-10000 characters"),
        (SendMessageRequest, {"message": "x" * 10_001}, "message: must be 1-10000 characters"),
        (
            SendMessageRequest,
            {"message": "a", "selectedElements": [{}] * 9},
            "selectedElements: must have at most 8 items",
        ),
        (
            SendMessageRequest,
            {"message": "a", "selectedElements": [{}, 3]},
            "selectedElements[1]: must be an object",
        ),
        (
            SendMessageRequest,
            {"message": "a", "selectedElement": "#x"},
            "selectedElement: must be an object",
        ),
        (RenderRequest, {"config": {"width": 479}}, "config.width: must be between 480 and 3840"),
        (RenderRequest, {"config": {"width": 3841}}, "config.width: must be between 480 and 3840"),
        (RenderRequest, {"config": {"height": 269}}, "config.height: must be between 270 and 2160"),
        (
            RenderRequest,
            {"config": {"height": 2161}},
            "config.height: must be between 270 and 2160",
        ),
        (RenderRequest, {"config": {"fps": 23}}, "config.fps: must be between 24 and 60"),
        (RenderRequest, {"config": {"fps": 61}}, "config.fps: must be between 24 and 60"),
        (RenderRequest, {"config": {"fps": 30.5}}, "config.fps: must be an integer"),
        (RenderRequest, {"config": {"format": "avi"}}, "config.format: must be one of mp4 or gif"),
        (
            RenderRequest,
            {"config": {"quality": "ultra"}},
            "config.quality: must be one of draft, standard or high",
        ),
        (
            RenderRequest,
            {"config": {"includeAudio": "yes"}},
            "config.includeAudio: must be true or false",
        ),
        (
            RenderRequest,
            {"config": {"includeSubtitles": 1}},
            "config.includeSubtitles: must be true or false",
        ),
        (RenderRequest, {"config": {"bitrate": 5}}, "config.bitrate: is not a known field"),
        (RenderRequest, {"config": None}, "config: must be an object"),
        (UseTemplateRequest, {"name": ""}, "name: must be 1-100 characters"),
    ],
)
def test_each_limit_is_reported_by_field(model: Any, body: Any, expected: str) -> None:
    assert _message(model, body).startswith(expected)


def test_every_bad_field_is_named_once() -> None:
    message = _message(RenderRequest, {"config": {"width": 1, "height": 1, "fps": 1}})
    assert message.count("config.width") == message.count("config.height") == 1
    assert "config.fps" in message


def test_values_sent_are_not_echoed_except_numbers() -> None:
    secret = "pfk_" + "s" * 40
    assert secret not in _message(CreateProjectRequest, {"name": secret * 3})
    assert "(got 4000)" in _message(RenderRequest, {"config": {"width": 4000}})


def test_a_body_must_be_a_json_object() -> None:
    assert _message(CreateProjectRequest, ["name"]) == "request body must be a JSON object"
    with pytest.raises(ApiValidationError, match="not valid JSON"):
        decode_json(b"{name:")
    with pytest.raises(ApiValidationError, match="not valid JSON"):
        decode_json(b"\xff\xfe")
    assert decode_json(b"") == {}
    assert decode_json(b"  ") == {}


def _nested(depth: int) -> bytes:
    """An object ``depth`` levels deep: ``{"a":{"a":...{}}}``."""
    return b'{"a":' * (depth - 1) + b"{}" + b"}" * (depth - 1)


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100_000 + b"]" * 100_000,  # deeper than the parser's recursion limit
        b"[" * 900 + b"]" * 900,  # parses, but nobody can save or serve it back
        _nested(MAX_JSON_DEPTH + 1),
    ],
)
def test_deeply_nested_bodies_are_refused(raw: bytes) -> None:
    with pytest.raises(ApiValidationError, match=f"nested more than {MAX_JSON_DEPTH} levels"):
        decode_json(raw)


def test_bodies_up_to_the_depth_limit_are_accepted() -> None:
    body = decode_json(_nested(MAX_JSON_DEPTH))
    assert json_depth(body) == MAX_JSON_DEPTH
    wide = b"[" + b",".join([b"[1]"] * 5000) + b"]"  # many brackets, shallow
    assert len(decode_json(wide)) == 5000


@pytest.mark.parametrize(
    ("value", "depth"),
    [(1, 0), ("x", 0), ([], 1), ({}, 1), ([[1], {"a": [2]}], 3), ({"a": {"b": {}}}, 3)],
)
def test_json_depth(value: Any, depth: int) -> None:
    assert json_depth(value) == depth


@pytest.mark.parametrize(
    "raw",
    [
        b'{"message":"hi","selectedElement":{"a":NaN}}',
        b'{"message":"hi","selectedElement":{"a":Infinity}}',
        b'{"message":"hi","selectedElement":{"a":-Infinity}}',
        b'{"message":"hi","selectedElement":{"a":1e999}}',
    ],
)
def test_non_standard_numbers_are_refused(raw: bytes) -> None:
    with pytest.raises(ApiValidationError, match="request body"):
        decode_json(raw)


def test_standard_numbers_still_parse() -> None:
    assert decode_json(b'{"a": 1.5e3, "b": -0.25, "c": 7}') == {"a": 1500.0, "b": -0.25, "c": 7}


@pytest.mark.parametrize("field", ["width", "height", "fps"])
def test_integral_floats_are_accepted_where_api_md_says_number(field: str) -> None:
    value = {"width": 1000.0, "height": 720.0, "fps": 30.0}[field]
    request = parse_body(RenderRequest, {"config": {field: value}})
    assert getattr(request.config, field) == int(value)
    assert isinstance(getattr(request.config, field), int)


def test_fractional_numbers_are_refused_by_field() -> None:
    message = _message(RenderRequest, {"config": {"width": 1000.5, "height": 720.25}})
    assert message == "config.width: must be an integer; config.height: must be an integer"
    assert _message(RenderRequest, {"config": {"fps": 75.0}}).startswith(
        "config.fps: must be between 24 and 60"
    )


def test_the_body_given_is_not_changed_by_the_conversion() -> None:
    body = {"config": {"width": 1000.0}}
    parse_body(RenderRequest, body)
    assert body == {"config": {"width": 1000.0}}
    assert isinstance(body["config"]["width"], float)


@pytest.mark.parametrize("name", [" ", "   ", "\t\n", "\u3000"])
def test_a_blank_name_is_refused(name: str) -> None:
    with pytest.raises(ApiValidationError, match=r"^name: must not be blank$"):
        require_not_blank("name", name)


def test_a_name_with_text_or_no_name_passes() -> None:
    require_not_blank("name", " a ")
    require_not_blank("name", None)


def test_valid_bodies_pass_with_defaults() -> None:
    request = parse_body(RenderRequest, {})
    assert (request.config.width, request.config.height, request.config.fps) == (1920, 1080, 30)
    edge = parse_body(RenderRequest, {"config": {"width": 3840, "height": 270, "fps": 60}})
    assert edge.config.width == 3840


@pytest.mark.parametrize(
    ("location", "path"),
    [
        ((), "body"),
        (("name",), "name"),
        (("config", "fps"), "config.fps"),
        (("a", 3, "b"), "a[3].b"),
    ],
)
def test_field_paths(location: tuple[Any, ...], path: str) -> None:
    assert field_path(location) == path


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, (1, 20)),
        ({"page": "3", "pageSize": "7"}, (3, 7)),
        ({"page": "0", "pageSize": "0"}, (1, 1)),
        ({"page": "-4", "pageSize": "-1"}, (1, 1)),
        ({"pageSize": "50"}, (1, 50)),
        ({"pageSize": "51"}, (1, 50)),
        ({"page": "", "pageSize": ""}, (1, 20)),
    ],
)
def test_page_parameters_are_clamped(params: dict[str, str], expected: tuple[int, int]) -> None:
    assert page_params(params) == expected


def test_non_integer_page_parameters_are_refused() -> None:
    with pytest.raises(ApiValidationError, match=r"^pageSize: must be an integer$"):
        page_params({"pageSize": "ten"})
    with pytest.raises(ApiValidationError, match=r"^page: must be an integer$"):
        page_params({"page": "1.5"})

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
    decode_json,
    field_path,
    page_params,
    parse_body,
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

"""The input document: ``parafraim.yaml`` exactly as written, before any expansion.

These models check the *shape* of the file (keys, types, numeric ranges) and are the source
of ``schemas/parafraim.schema.json``, so their field descriptions are what an editor shows.
String values may hold Jinja2 (``{{ lang }}``): limits on strings (length, allowed choices,
UUIDs, file names) are checked after templating, in ``expand``, and the schema accepts a
templated string wherever it would accept a fixed choice.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    Tag,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from parafraim_build.api.models import (
    ASPECT_RATIOS,
    DESCRIPTION_MAX,
    FPS_MAX,
    FPS_MIN,
    HEIGHT_MAX,
    HEIGHT_MIN,
    MESSAGE_MAX,
    NAME_MAX,
    RENDER_FORMATS,
    RENDER_QUALITIES,
    SELECTED_ELEMENTS_MAX,
    WIDTH_MAX,
    WIDTH_MIN,
    RenderConfig,
)

SPEC_VERSION = 1
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
"""Video keys and render names become file names: they must match this after expansion."""
TEMPLATED = r"\{\{|\{%"
"""A string holding Jinja2; the schema lets it stand in for a fixed choice."""

# Tags of the tagged unions below; they appear in pydantic error locations and are skipped
# when an error is mapped back to a key path, so they must never look like a spec key.
STEP_TEXT, STEP_MESSAGE, STEP_FILE = "<text step>", "<message step>", "<file step>"
TEMPLATE_NAME, TEMPLATE_ID = "<template name>", "<template id>"
UNION_TAGS = frozenset({STEP_TEXT, STEP_MESSAGE, STEP_FILE, TEMPLATE_NAME, TEMPLATE_ID})


def _title(name: str, _info: Any) -> str:
    # Editors show the title as a heading: the key as written reads better than "Outdir".
    return name


class InputModel(BaseModel):
    """A part of the input document: frozen, and unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, field_title_generator=_title)


def _finite(value: Any) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise PydanticCustomError("spec", "expected a finite number, got {value}", {"value": value})


def _plain_value(value: Any) -> Any:
    _finite(value)
    if value is None or isinstance(value, (dict, list)):
        kind = "null" if value is None else "a mapping" if isinstance(value, dict) else "a list"
        raise PydanticCustomError(
            "spec",
            "expected a plain value (text, a number, true or false), got {kind}",
            {"kind": kind},
        )
    return value


def _version(value: int) -> int:
    if value != SPEC_VERSION:
        raise PydanticCustomError(
            "spec",
            "unsupported spec version {value}: this parafraim-build reads version {known}",
            {"value": value, "known": SPEC_VERSION},
        )
    return value


def _json_value(value: Any) -> Any:
    """Selected elements go to the API as JSON: refuse NaN and infinities anywhere inside."""
    _finite(value)
    if isinstance(value, dict):
        for item in value.values():
            _json_value(item)
    elif isinstance(value, list):
        for item in value:
            _json_value(item)
    return value


PlainValue = Annotated[
    Any,
    AfterValidator(_plain_value),
    WithJsonSchema({"type": ["string", "number", "boolean"]}),
]
"""A variable's value: text, a number or a boolean."""

Version = Annotated[
    StrictInt,
    AfterValidator(_version),
    WithJsonSchema({"const": SPEC_VERSION, "description": "The spec format version: 1."}),
]

SelectedElement = Annotated[dict[str, Any], AfterValidator(_json_value)]


def _api_default(field: str) -> str:
    """The API's default for a render field, as a spec author would write it."""
    value = RenderConfig.model_fields[field].default
    return str(value).lower() if isinstance(value, bool) else str(value)


def _choices(choices: tuple[str, ...]) -> WithJsonSchema:
    """The schema of a string that must be one of ``choices`` once templated."""
    return WithJsonSchema(
        {"anyOf": [{"enum": list(choices)}, {"type": "string", "pattern": TEMPLATED}]}
    )


AspectRatioText = Annotated[
    StrictStr | None,
    _choices(ASPECT_RATIOS),
    Field(
        description="Aspect ratio of a blank project: 16:9, 9:16 or 1:1 (quote it: an unquoted "
        "16:9 is a number in YAML). A template decides its own format."
    ),
]
FormatText = Annotated[
    StrictStr | None,
    _choices(RENDER_FORMATS),
    Field(description=f"Output format: mp4 or gif (default {_api_default('format')})."),
]
QualityText = Annotated[
    StrictStr | None,
    _choices(RENDER_QUALITIES),
    Field(
        description=f"Render quality: draft, standard or high (default {_api_default('quality')})."
    ),
]


class RenderDocument(InputModel):
    """A render config; every field is optional and falls back to defaults, then the API's."""

    width: Annotated[
        StrictInt | None,
        Field(
            ge=WIDTH_MIN,
            le=WIDTH_MAX,
            description=f"Width in pixels, {WIDTH_MIN}-{WIDTH_MAX} "
            f"(default {_api_default('width')}).",
        ),
    ] = None
    height: Annotated[
        StrictInt | None,
        Field(
            ge=HEIGHT_MIN,
            le=HEIGHT_MAX,
            description=f"Height in pixels, {HEIGHT_MIN}-{HEIGHT_MAX} "
            f"(default {_api_default('height')}).",
        ),
    ] = None
    fps: Annotated[
        StrictInt | None,
        Field(
            ge=FPS_MIN,
            le=FPS_MAX,
            description=f"Frames per second, {FPS_MIN}-{FPS_MAX} (default {_api_default('fps')}).",
        ),
    ] = None
    format: FormatText = None
    quality: QualityText = None
    includeAudio: Annotated[
        StrictBool | None,
        Field(description=f"Include the audio track (default {_api_default('includeAudio')})."),
    ] = None
    includeSubtitles: Annotated[
        StrictBool | None,
        Field(description=f"Include subtitles (default {_api_default('includeSubtitles')})."),
    ] = None


_SELECTED_ELEMENT_HELP = "A clicked preview element for a targeted edit, passed to the API as is."
_SELECTED_ELEMENTS_HELP = (
    f"Preview elements for a targeted edit; at most {SELECTED_ELEMENTS_MAX} in all, "
    "counting selectedElement."
)


class MessageStepDocument(InputModel):
    """An edit written inline, optionally aimed at selected preview elements."""

    message: Annotated[
        StrictStr,
        Field(description=f"The instruction, 1-{MESSAGE_MAX} characters after templating."),
    ]
    selectedElement: Annotated[
        SelectedElement | None, Field(description=_SELECTED_ELEMENT_HELP)
    ] = None
    selectedElements: Annotated[
        list[SelectedElement] | None,
        Field(max_length=SELECTED_ELEMENTS_MAX, description=_SELECTED_ELEMENTS_HELP),
    ] = None


class FileStepDocument(InputModel):
    """An edit whose text is read from a file inside the spec's folder, then templated."""

    file: Annotated[
        StrictStr,
        Field(
            description="Path of a text file relative to the spec, inside the spec's folder "
            "(absolute paths, `..` that leaves the folder, and hidden files and folders such "
            "as .env or .git are refused)."
        ),
    ]
    selectedElement: Annotated[
        SelectedElement | None, Field(description=_SELECTED_ELEMENT_HELP)
    ] = None
    selectedElements: Annotated[
        list[SelectedElement] | None,
        Field(max_length=SELECTED_ELEMENTS_MAX, description=_SELECTED_ELEMENTS_HELP),
    ] = None


def _step_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return STEP_TEXT
    if isinstance(value, dict):
        return STEP_FILE if "file" in value else STEP_MESSAGE
    return None


StepDocument = Annotated[
    Annotated[StrictStr, Tag(STEP_TEXT)]
    | Annotated[MessageStepDocument, Tag(STEP_MESSAGE)]
    | Annotated[FileStepDocument, Tag(STEP_FILE)],
    Discriminator(
        _step_kind,
        custom_error_type="step_kind",
        custom_error_message="a step is text, {message: ...} or {file: ...}",
    ),
]
"""One edit: plain text, ``{message, selectedElement?, selectedElements?}`` or ``{file}``."""


class TemplateIdDocument(InputModel):
    """A template by id."""

    id: Annotated[StrictStr, Field(description="The template's UUID.")]


def _template_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return TEMPLATE_NAME
    if isinstance(value, dict):
        return TEMPLATE_ID
    return None


TemplateDocument = Annotated[
    Annotated[StrictStr, Tag(TEMPLATE_NAME)] | Annotated[TemplateIdDocument, Tag(TEMPLATE_ID)],
    Discriminator(
        _template_kind,
        custom_error_type="template_kind",
        custom_error_message="a template is an exact name or {id: <uuid>}",
    ),
]

_TEMPLATE_HELP = (
    "Start from a template: its exact name (looked up once, then pinned in the lock) or "
    "{id: <uuid>}. null starts a blank project even when defaults name a template."
)


class DefaultsDocument(InputModel):
    """Values merged under every video; a video's own value wins."""

    aspectRatio: AspectRatioText = None
    template: Annotated[TemplateDocument | None, Field(description=_TEMPLATE_HELP)] = None
    renders: Annotated[
        dict[str, RenderDocument],
        Field(
            description="Renders every video gets, merged field by field with a video's render "
            "of the same name."
        ),
    ] = Field(default_factory=dict)


class VideoDocument(InputModel):
    """One video (or, with ``matrix``, one video per combination of values)."""

    name: Annotated[
        StrictStr | None,
        Field(description=f"Project name, 1-{NAME_MAX} characters (default: the video key)."),
    ] = None
    description: Annotated[
        StrictStr | None,
        Field(description=f"Project description, up to {DESCRIPTION_MAX} characters."),
    ] = None
    template: Annotated[TemplateDocument | None, Field(description=_TEMPLATE_HELP)] = None
    aspectRatio: AspectRatioText = None
    steps: Annotated[
        list[StepDocument],
        Field(description="Ordered natural-language edits, sent one after another."),
    ] = Field(default_factory=list)
    renders: Annotated[
        dict[str, RenderDocument | None],
        Field(
            description="Render configs by name (the output file name). `name: null` drops a "
            "render inherited from defaults."
        ),
    ] = Field(default_factory=dict)
    matrix: Annotated[
        dict[str, Annotated[list[PlainValue], Field(min_length=1)]],
        Field(
            description="Expand this video once per combination of these lists; the values are "
            "template variables, e.g. {lang: [en, de]} with key recap-{{ lang }}."
        ),
    ] = Field(default_factory=dict)


class SpecDocument(InputModel):
    """parafraim.yaml: videos declared as code, built by parafraim-build."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        field_title_generator=_title,
        title="parafraim.yaml",
        json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema"},
    )

    version: Version
    vars: Annotated[
        dict[str, PlainValue],
        Field(
            description="Template variables for every string ({{ brand }}); "
            "`--var key=value` overrides one, keeping its type."
        ),
    ] = Field(default_factory=dict)
    outDir: Annotated[
        StrictStr,
        Field(
            description="Output folder, relative to the spec and inside its folder, not a "
            "hidden one: <outDir>/<video>/<render>.<format> (default out)."
        ),
    ] = "out"
    defaults: Annotated[DefaultsDocument, Field(description="Values merged under every video.")] = (
        Field(default_factory=DefaultsDocument)
    )
    videos: Annotated[
        dict[str, VideoDocument],
        Field(
            min_length=1,
            description="The videos by key; the key names the video in the lock and in output "
            "paths and may be templated.",
        ),
    ]


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the input document, as checked in under ``schemas/``."""
    return SpecDocument.model_json_schema()

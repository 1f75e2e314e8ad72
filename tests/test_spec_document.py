"""The input document's JSON Schema: checked in, current, and helpful to editors."""

from __future__ import annotations

import json
from typing import Any

from conftest import EXAMPLES, REPO_ROOT

from parafraim_build.api.models import RenderConfig
from parafraim_build.spec import json_schema
from parafraim_build.spec.document import SpecDocument

SCHEMA_FILE = REPO_ROOT / "schemas" / "parafraim.schema.json"


def test_checked_in_schema_is_current() -> None:
    expected = json.dumps(json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert SCHEMA_FILE.read_text(encoding="utf-8") == expected, (
        "schemas/parafraim.schema.json is stale: run "
        "`parafraim-build schema > schemas/parafraim.schema.json`"
    )


def _properties(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = list(schema.get("properties", {}).items())
    for definition in schema.get("$defs", {}).values():
        found.extend(definition.get("properties", {}).items())
    return found


def test_every_field_has_a_description_for_editors() -> None:
    missing = [name for name, prop in _properties(json_schema()) if not prop.get("description")]
    assert missing == []


def test_schema_is_strict_and_offers_choices() -> None:
    schema = json_schema()
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["version", "videos"]
    render = schema["$defs"]["RenderDocument"]["properties"]
    assert {"enum": ["mp4", "gif"]} in render["format"]["anyOf"]
    assert render["width"]["anyOf"][0] == {"maximum": 3840, "minimum": 480, "type": "integer"}


def test_examples_point_editors_at_the_schema() -> None:
    for spec in EXAMPLES.glob("*/parafraim.yaml"):
        first = spec.read_text(encoding="utf-8").splitlines()[0]
        target = first.split("$schema=", 1)[1]
        assert (spec.parent / target).resolve() == SCHEMA_FILE


def test_input_models_forbid_unknown_keys_and_are_frozen() -> None:
    assert SpecDocument.model_config.get("extra") == "forbid"
    assert SpecDocument.model_config.get("frozen") is True


def test_render_defaults_in_the_descriptions_are_the_apis() -> None:
    render = json_schema()["$defs"]["RenderDocument"]["properties"]
    defaults = RenderConfig()
    for field in ("width", "height", "fps", "format", "quality"):
        assert f"(default {getattr(defaults, field)})." in render[field]["description"]
    assert "(default true)." in render["includeAudio"]["description"]

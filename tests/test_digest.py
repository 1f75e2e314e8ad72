"""Canonical JSON and the content keys: stable literals, order independence, and every field
that reaches the API changes the key."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from typing import Any

import pytest

from parafraim_build.api.models import RenderConfig
from parafraim_build.digest import (
    canonical_json,
    chain_key,
    chain_keys,
    composition_hash,
    render_key,
    sha256_hex,
    source_key,
)
from parafraim_build.spec import Step

TEMPLATE_SOURCE = {"kind": "template", "templateId": "00000000-0000-0000-0000-000000000001"}
OPENING = Step(message="Make the opening more direct.")
SECOND = Step(message="Shorten the second scene.", selectedElements=({"selector": "#scene-2"},))
HTML = "<html><body>Hi</body></html>"

# Computed once with this implementation and pasted: a change here breaks every lock file.
ROOT_KEY = "7b563f7516bac6b646aa7cbb7ddc4999d35c61351ba308c80c65ce053a042675"
BLANK_ROOT_KEY = "1567966ff0b54b6fb7fb28b4530313a1ca78dd09cd80c3c05440ff97cb51389b"
CHAIN = [
    "f14d646c5a0633aca3e103d25ffc199761bf89bf2310e738e1ec0e1fa53dc6b3",
    "91c27e57416219fbf4b4dd7bdf8b6468764c8b5db95097da7633daf44c7a1aa2",
]
COMPOSITION = "892a9ce1ec17bdfe014570c1a19904909c8b63e380cfeb74dc68fb72f00c3057"
RENDER = "07a82841e06bb005815efebeaabed508518e3e1115242bf4c007721b95d4328f"


def test_canonical_json_is_sorted_compact_utf8() -> None:
    value = {"b": [1, {"d": "é", "c": None}], "a": True}
    assert canonical_json(value) == '{"a":true,"b":[1,{"c":null,"d":"é"}]}'.encode()


def test_canonical_json_refuses_nan() -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        canonical_json({"x": float("nan")})


def test_sha256_hex_of_text_and_bytes_agree() -> None:
    assert sha256_hex("abc") == sha256_hex(b"abc") == hashlib.sha256(b"abc").hexdigest()


def test_keys_are_the_pasted_literals() -> None:
    root = source_key(TEMPLATE_SOURCE)
    assert root == ROOT_KEY
    assert source_key({"kind": "blank", "aspectRatio": "9:16"}) == BLANK_ROOT_KEY
    assert chain_keys(root, [OPENING, SECOND]) == CHAIN
    assert composition_hash(HTML) == COMPOSITION
    assert render_key(COMPOSITION, RenderConfig()) == RENDER


def test_chain_key_is_the_documented_formula() -> None:
    body = b'{"message":"Shorten the second scene.","selectedElements":[{"selector":"#scene-2"}]}'
    expected = hashlib.sha256(CHAIN[0].encode("ascii") + body).hexdigest()
    assert chain_key(CHAIN[0], SECOND) == expected


def test_render_key_is_the_documented_formula() -> None:
    config = (
        b'{"format":"mp4","fps":30,"height":1080,"includeAudio":true,'
        b'"includeSubtitles":true,"quality":"standard","width":1920}'
    )
    assert (
        render_key(COMPOSITION, RenderConfig())
        == hashlib.sha256(COMPOSITION.encode("ascii") + config).hexdigest()
    )


def test_keys_are_the_same_in_a_fresh_interpreter_with_another_hash_seed() -> None:
    code = (
        "from parafraim_build.digest import chain_keys, source_key\n"
        "from parafraim_build.spec import Step\n"
        "root = source_key({'templateId': '00000000-0000-0000-0000-000000000001', "
        "'kind': 'template'})\n"
        "steps = [Step(message='Make the opening more direct.'), Step(message='Shorten the "
        "second scene.', selectedElements=({'selector': '#scene-2'},))]\n"
        "print(' '.join(chain_keys(root, steps)))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.split() == CHAIN


def test_chain_keys_of_no_steps() -> None:
    assert chain_keys(ROOT_KEY, []) == []


def test_key_order_does_not_matter() -> None:
    one = Step(message="x", selectedElement={"a": 1, "b": {"c": 2, "d": 3}})
    two = Step(message="x", selectedElement={"b": {"d": 3, "c": 2}, "a": 1})
    assert chain_key(ROOT_KEY, one) == chain_key(ROOT_KEY, two)
    assert source_key({"a": 1, "b": 2}) == source_key({"b": 2, "a": 1})


STEP_CHANGES: list[tuple[str, Step]] = [
    ("message", Step(message="Make the opening more direct!")),
    ("whitespace", Step(message="Make the opening  more direct.")),
    ("selectedElement", Step(message=OPENING.message, selectedElement={"selector": "h1"})),
    ("selectedElements", Step(message=OPENING.message, selectedElements=({"selector": "h1"},))),
    ("empty selection", Step(message=OPENING.message, selectedElements=())),
    ("selection value", Step(message=OPENING.message, selectedElement={"selector": "h2"})),
]


@pytest.mark.parametrize(
    "changed", [step for _, step in STEP_CHANGES], ids=[n for n, _ in STEP_CHANGES]
)
def test_every_step_change_changes_the_chain_key(changed: Step) -> None:
    assert chain_key(ROOT_KEY, changed) != chain_key(ROOT_KEY, OPENING)
    # ... and every key after it, since each key folds in the one before.
    assert chain_keys(ROOT_KEY, [changed, SECOND])[1] != CHAIN[1]


def test_all_step_variants_have_distinct_keys() -> None:
    keys = [chain_key(ROOT_KEY, step) for _, step in STEP_CHANGES] + [chain_key(ROOT_KEY, OPENING)]
    assert len(set(keys)) == len(keys)


def test_previous_key_and_source_change_the_chain() -> None:
    blank = source_key({"kind": "blank", "aspectRatio": "16:9"})
    assert chain_keys(blank, [OPENING, SECOND]) != CHAIN
    assert chain_keys(ROOT_KEY, [SECOND, OPENING])[1] != CHAIN[1]
    other_ratio = source_key({"kind": "blank", "aspectRatio": "9:16"})
    assert other_ratio != blank


CONFIG_CHANGES: list[dict[str, Any]] = [
    {"width": 1280},
    {"height": 720},
    {"fps": 60},
    {"format": "gif"},
    {"quality": "high"},
    {"includeAudio": False},
    {"includeSubtitles": False},
]


@pytest.mark.parametrize("change", CONFIG_CHANGES, ids=lambda c: next(iter(c)))
def test_every_render_field_changes_the_render_key(change: dict[str, Any]) -> None:
    assert render_key(COMPOSITION, RenderConfig(**change)) != RENDER


def test_defaults_spelt_out_give_the_same_render_key() -> None:
    explicit = RenderConfig(width=1920, height=1080, fps=30, format="mp4", quality="standard")
    assert render_key(COMPOSITION, explicit) == RENDER


def test_composition_changes_the_render_key() -> None:
    assert render_key(composition_hash(HTML + " "), RenderConfig()) != RENDER

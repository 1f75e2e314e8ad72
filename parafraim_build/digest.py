"""Canonical JSON and the content keys of ``design.md`` §2.

A key must be the same on every machine and every run for the same meaning, whatever the
key order in the YAML, and must change when anything sent to the API changes.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from parafraim_build.api.models import RenderConfig
from parafraim_build.spec.models import Step

# The chain of a project starts from this key (no step applied yet); it folds in the way the
# project was made so that two projects from different sources never share a chain.
KEY_VERSION = "pfb1"


def canonical_json(value: Any) -> bytes:
    """UTF-8 JSON with sorted keys and no whitespace: equal values give equal bytes."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes | str) -> str:
    """Hex sha256 of bytes, or of a string encoded as UTF-8."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def composition_hash(html: str) -> str:
    """The sha256 of a composition's HTML, as returned by the API."""
    return sha256_hex(html)


def source_key(source: dict[str, Any]) -> str:
    """The root of a project's chain: a hash of how the project was made.

    ``source`` is e.g. ``{"kind": "template", "templateId": ...}`` or
    ``{"kind": "blank", "aspectRatio": "9:16"}``.
    """
    return sha256_hex(canonical_json({"v": KEY_VERSION, "source": source}))


def chain_key(previous: str, step: Step) -> str:
    """The key of a step given the key before it: ``sha256(previous + canonical step)``."""
    return sha256_hex(previous.encode("ascii") + canonical_json(step.request_body()))


def chain_keys(root: str, steps: tuple[Step, ...] | list[Step]) -> list[str]:
    """The chain key of every step in order, starting from ``root``."""
    keys: list[str] = []
    previous = root
    for step in steps:
        previous = chain_key(previous, step)
        keys.append(previous)
    return keys


def render_key(composition_sha256: str, config: RenderConfig) -> str:
    """The key of a render: ``sha256(composition hash + canonical config with defaults)``."""
    return sha256_hex(
        composition_sha256.encode("ascii") + canonical_json(config.model_dump(mode="json"))
    )

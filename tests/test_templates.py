"""The built-in template catalogue: fixed ids, categories, real compositions."""

from __future__ import annotations

import re

import pytest

from parafraim_build.api.models import ASPECT_RATIOS, DESCRIPTION_MAX, NAME_MAX, UUID_PATTERN
from parafraim_build.emulator.composition import (
    has_preview,
    parse_composition,
    render_composition_html,
)
from parafraim_build.emulator.templates import CATALOGUE, TemplateDef, find_template, template_id


def test_catalogue_size_and_categories() -> None:
    assert len(CATALOGUE) >= 12
    assert len({template.category for template in CATALOGUE}) >= 4


def test_ids_are_fixed_unique_uuids_in_order() -> None:
    ids = [template.id for template in CATALOGUE]
    assert ids == [template_id(n) for n in range(1, len(CATALOGUE) + 1)]
    assert ids[0] == "00000000-0000-0000-0000-000000000001"
    assert ids[13] == "00000000-0000-0000-0000-000000000014"
    assert all(re.match(UUID_PATTERN, template_id) for template_id in ids)
    assert len({template.name for template in CATALOGUE}) == len(CATALOGUE)


@pytest.mark.parametrize(
    ("template_id", "name", "category"),
    [
        ("00000000-0000-0000-0000-000000000001", "Product launch", "marketing"),
        ("00000000-0000-0000-0000-000000000007", "Weekly recap", "news"),
    ],
)
def test_the_templates_the_examples_use(template_id: str, name: str, category: str) -> None:
    template = find_template(template_id)
    assert template is not None
    assert (template.name, template.category) == (name, category)


@pytest.mark.parametrize("template", CATALOGUE, ids=[t.name for t in CATALOGUE])
def test_each_template_is_a_real_composition(template: TemplateDef) -> None:
    composition = parse_composition(template.html)
    assert composition is not None
    assert has_preview(template.html)
    assert composition.title == template.name
    assert composition.aspect_ratio in ASPECT_RATIOS
    assert 2 <= len(composition.scenes) <= 4
    assert all(2 <= scene.duration <= 4 for scene in composition.scenes)
    assert all(scene.heading and scene.body for scene in composition.scenes)
    # The stored HTML is exactly what the renderer writes for its composition.
    assert render_composition_html(composition) == template.html
    assert 1 <= len(template.name) <= NAME_MAX
    assert 1 <= len(template.description) <= DESCRIPTION_MAX


def test_find_template_takes_exact_ids_only() -> None:
    assert find_template(" 00000000-0000-0000-0000-000000000007 ") is CATALOGUE[6]
    assert find_template("00000000-0000-0000-0000-000000000099") is None
    assert find_template("Weekly recap") is None
    assert find_template("") is None

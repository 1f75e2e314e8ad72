"""The spec language: ``parafraim.yaml`` in, a checked and fully expanded ``Spec`` out.

``load_spec`` is the only way in and raises only ``SpecError``. The stages live in small
modules: ``yamlsource`` (YAML with positions), ``document`` (the input models and the JSON
Schema), ``structure`` (shape errors in words), ``variables`` (``vars`` and ``--var``),
``templating`` (Jinja2 in ``sandbox``: deterministic, and bounded with ``bounds``),
``matrix``, ``stepfiles`` (prompt files, kept inside the spec's folder and out of hidden ones,
checked by ``credentials``), ``expand`` with ``steps`` and ``renders`` (defaults, limits),
``reporter`` (where a problem is) and ``models`` (the expanded result the planner consumes).
"""

from __future__ import annotations

from parafraim_build.spec.document import json_schema
from parafraim_build.spec.loader import load_spec
from parafraim_build.spec.models import Spec, Step, TemplateRef, Video

__all__ = ["Spec", "Step", "TemplateRef", "Video", "json_schema", "load_spec"]

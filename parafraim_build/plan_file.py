"""Saved plans (``plan --out FILE``) and the check that one still holds (``apply FILE``).

A saved plan is the ``plan --json`` document with one more key, ``saved``: the digests of the
spec and of the lock it was made against, the service and account it was made for (when the
plan needed to ask, or the lock knew), the options it was made with and the template ids it
used. ``apply FILE`` re-plans with those options and refuses (``StalePlanError``) unless the
lock is byte-for-byte the same and the new plan is the saved one, so what runs is exactly what
was reviewed. Estimated credits are left out of the comparison: they are an estimate, and the
observed costs they rest on may have grown since.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parafraim_build.digest import canonical_json, sha256_hex
from parafraim_build.errors import ConfigError, StalePlanError
from parafraim_build.fsutil import atomic_write_text
from parafraim_build.plan_model import FORMAT_VERSION, Plan
from parafraim_build.spec.models import Spec

SAVED_VERSION = 2
_VOLATILE = ("estimatedCredits", "saved")


@dataclass(frozen=True)
class PlanOptions:
    """The options a plan was made with; ``apply FILE`` re-plans with the same ones."""

    selected: tuple[str, ...] = ()
    replace: tuple[str, ...] = ()
    no_render: bool = False
    local: bool = False


@dataclass(frozen=True)
class SavedPlan:
    """A plan file as read back."""

    document: dict[str, Any]
    spec_path: str
    spec_digest: str
    lock_digest: str
    options: PlanOptions
    service: str
    account_id: str | None
    template_ids: Mapping[str, str] = field(default_factory=dict)

    @property
    def approved(self) -> bool:
        """Whether applying it may skip the question: it names the account it was made for
        (checked before any work), or it is ``--local``'s, which spends no real credits. A
        plan made before any account was known could be applied with another key."""
        return self.account_id is not None or self.options.local


def spec_digest(spec: Spec) -> str:
    """A digest of everything in the expanded spec that can change a plan."""
    data = spec.model_dump(mode="json", exclude={"path", "out_dir"})
    # Where outputs go matters, relative to the spec: a moved checkout plans the same.
    out_dir = spec.out_dir if spec.out_dir.is_absolute() else spec.root / spec.out_dir
    data["outDir"] = Path(os.path.relpath(out_dir, spec.root)).as_posix()
    return sha256_hex(canonical_json(data))


def save_plan(
    path: Path,
    plan: Plan,
    *,
    spec: Spec,
    lock_digest: str,
    options: PlanOptions,
    template_ids: Mapping[str, str],
    service: str,
    account_id: str | None,
) -> None:
    """Write the plan and what ``apply`` needs to check it (atomically)."""
    document = plan.to_json()
    document["saved"] = {
        "version": SAVED_VERSION,
        "spec": str(spec.path.resolve()),
        "specDigest": spec_digest(spec),
        "lockDigest": lock_digest,
        "service": service,
        "accountId": account_id,
        "options": {
            "selected": sorted(options.selected),
            "replace": sorted(options.replace),
            "noRender": options.no_render,
            "local": options.local,
        },
        "templateIds": dict(sorted(template_ids.items())),
    }
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise ConfigError(f"cannot write the plan to {path}: {exc.strerror or exc}") from exc


def load_plan_file(path: Path) -> SavedPlan:
    """Read a file written by ``save_plan``; ``ConfigError`` if it is not one."""
    not_a_plan = f"{path} is not a plan saved by `parafraim-build plan --out`"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"no plan file at {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{not_a_plan}: {exc}") from exc
    try:
        saved = document["saved"]
        if document["formatVersion"] != FORMAT_VERSION or saved["version"] != SAVED_VERSION:
            raise ConfigError(
                f"{path} was saved by another version of parafraim-build",
                hint="make the plan again with this version",
            )
        options = saved["options"]
        return SavedPlan(
            document=document,
            spec_path=str(saved["spec"]),
            spec_digest=str(saved["specDigest"]),
            lock_digest=str(saved["lockDigest"]),
            service=str(saved["service"]),
            account_id=None if saved["accountId"] is None else str(saved["accountId"]),
            options=PlanOptions(
                selected=tuple(str(v) for v in options["selected"]),
                replace=tuple(str(v) for v in options["replace"]),
                no_render=bool(options["noRender"]),
                local=bool(options["local"]),
            ),
            template_ids={str(k): str(v) for k, v in saved["templateIds"].items()},
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{not_a_plan} (missing {exc})") from exc


def check_saved_plan(
    saved: SavedPlan,
    *,
    spec: Spec,
    lock_digest: str,
    plan: Plan,
    service: str,
    account_id: str | None,
) -> None:
    """``StalePlanError`` unless ``plan`` (made now, with ``saved.options``, against
    ``service`` as ``account_id``) is the saved one."""
    hint = (
        "make the plan again (`parafraim-build plan --out FILE` with the same -f, --local and "
        "--var), review it, then apply the new file"
    )
    if service.rstrip("/") != saved.service.rstrip("/"):
        raise StalePlanError(
            f"the plan was made for {saved.service}, not {service}",
            hint="set PARAFRAIM_BASE_URL as it was for `plan`, or make the plan again",
        )
    if saved.account_id is not None and account_id is not None and account_id != saved.account_id:
        raise StalePlanError(
            f"the plan was made for account {saved.account_id}, not {account_id} (the key "
            "in PARAFRAIM_API_KEY)",
            hint="use the key the plan was made with, or make the plan again with this one",
        )
    if str(spec.path.resolve()) != saved.spec_path:
        raise StalePlanError(
            f"the plan was made for {saved.spec_path}, not {spec.path.resolve()}", hint=hint
        )
    if lock_digest != saved.lock_digest:
        raise StalePlanError("the lock changed since the plan was made", hint=hint)
    if spec_digest(spec) != saved.spec_digest:
        raise StalePlanError("the spec changed since the plan was made", hint=hint)
    now = {k: v for k, v in plan.to_json().items() if k not in _VOLATILE}
    then = {k: v for k, v in saved.document.items() if k not in _VOLATILE}
    if now != then:
        raise StalePlanError(
            "the plan is no longer what it was (outputs on disk or the run cache changed "
            "since it was made)",
            hint=hint,
        )

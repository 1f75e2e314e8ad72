"""Saved plans: what ``plan --out`` writes and how ``apply FILE`` refuses a stale one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parafraim_build.api.models import RenderConfig
from parafraim_build.cache import CacheView
from parafraim_build.errors import ConfigError, StalePlanError
from parafraim_build.outputs import OutputState
from parafraim_build.plan import make_plan
from parafraim_build.plan_file import (
    PlanOptions,
    check_saved_plan,
    load_plan_file,
    save_plan,
    spec_digest,
)
from parafraim_build.plan_model import Plan
from parafraim_build.pricing_estimate import ObservedCostModel, ObservedCosts
from parafraim_build.spec.models import Spec, Step, Video

OPTIONS = PlanOptions(selected=("b", "a"), replace=("a",), no_render=False, local=True)


class Prices:
    label = "test prices"

    def __init__(self, per_message: float = 1.0) -> None:
        self.per_message = per_message

    def message(self, step: Step) -> float:
        return self.per_message

    def render(self, config: RenderConfig, duration_seconds: float | None) -> float:
        return 2.0


def make_spec(root: Path, message: str = "one") -> Spec:
    videos = {
        key: Video(
            key=key, name=key, steps=(Step(message=message),), renders={"hd": RenderConfig()}
        )
        for key in ("a", "b")
    }
    return Spec(path=root / "parafraim.yaml", out_dir=root / "out", videos=videos)


def planned(spec: Spec, per_message: float = 1.0) -> Plan:
    return make_plan(
        spec,
        None,
        CacheView(),
        {},
        selected=OPTIONS.selected,
        template_ids={},
        costs=Prices(per_message),
    )


SERVICE = "https://parafraim.com"
HERE = {"service": SERVICE, "account_id": "acc-1"}


def saved_file(tmp_path: Path, spec: Spec) -> Path:
    path = tmp_path / "plan.json"
    save_plan(
        path,
        planned(spec),
        spec=spec,
        lock_digest="lock-1",
        options=OPTIONS,
        template_ids={"Launch": "tpl-1"},
        service=SERVICE,
        account_id="acc-1",
    )
    return path


def test_a_saved_plan_is_the_json_document_plus_what_apply_checks(tmp_path: Path) -> None:
    spec = make_spec(tmp_path)
    path = saved_file(tmp_path, spec)
    document = json.loads(path.read_text(encoding="utf-8"))
    saved = document.pop("saved")
    assert document == planned(spec).to_json()
    assert saved == {
        "version": 2,
        "spec": str(spec.path.resolve()),
        "specDigest": spec_digest(spec),
        "lockDigest": "lock-1",
        "service": SERVICE,
        "accountId": "acc-1",
        "options": {"selected": ["a", "b"], "replace": ["a"], "noRender": False, "local": True},
        "templateIds": {"Launch": "tpl-1"},
    }
    loaded = load_plan_file(path)
    assert loaded.options == PlanOptions(("a", "b"), ("a",), no_render=False, local=True)
    assert loaded.template_ids == {"Launch": "tpl-1"}
    assert loaded.lock_digest == "lock-1"
    assert (loaded.service, loaded.account_id) == (SERVICE, "acc-1")


def test_the_same_plan_against_the_same_lock_passes(tmp_path: Path) -> None:
    spec = make_spec(tmp_path)
    saved = load_plan_file(saved_file(tmp_path, spec))
    check_saved_plan(saved, spec=spec, lock_digest="lock-1", plan=planned(spec), **HERE)
    # Estimates may move with newly observed costs; that alone is no reason to refuse.
    check_saved_plan(saved, spec=spec, lock_digest="lock-1", plan=planned(spec, 9.0), **HERE)


def test_a_changed_lock_makes_the_plan_stale(tmp_path: Path) -> None:
    spec = make_spec(tmp_path)
    saved = load_plan_file(saved_file(tmp_path, spec))
    with pytest.raises(StalePlanError, match="the lock changed") as info:
        check_saved_plan(saved, spec=spec, lock_digest="lock-2", plan=planned(spec), **HERE)
    assert "plan --out" in (info.value.hint or "")


def test_a_changed_spec_makes_the_plan_stale(tmp_path: Path) -> None:
    spec = make_spec(tmp_path)
    saved = load_plan_file(saved_file(tmp_path, spec))
    edited = make_spec(tmp_path, "ONE")
    with pytest.raises(StalePlanError, match="the spec changed"):
        check_saved_plan(saved, spec=edited, lock_digest="lock-1", plan=planned(edited), **HERE)
    other = make_spec(tmp_path / "elsewhere")
    with pytest.raises(StalePlanError, match="made for"):
        check_saved_plan(saved, spec=other, lock_digest="lock-1", plan=planned(other), **HERE)


def test_a_different_plan_is_stale(tmp_path: Path) -> None:
    spec = make_spec(tmp_path)
    saved = load_plan_file(saved_file(tmp_path, spec))
    different = make_plan(
        spec,
        None,
        CacheView(),
        {"out/a/hd.mp4": OutputState("out/a/hd.mp4", exists=False)},
        selected=("a",),
        template_ids={},
        costs=ObservedCostModel(ObservedCosts(), Prices()),
    )
    with pytest.raises(StalePlanError, match="no longer what it was"):
        check_saved_plan(saved, spec=spec, lock_digest="lock-1", plan=different, **HERE)


def test_a_plan_is_only_applied_to_the_service_and_account_it_was_made_for(
    tmp_path: Path,
) -> None:
    spec = make_spec(tmp_path)
    saved = load_plan_file(saved_file(tmp_path, spec))
    plan = planned(spec)
    check_saved_plan(
        saved, spec=spec, lock_digest="lock-1", plan=plan, service=SERVICE + "/", account_id="acc-1"
    )
    with pytest.raises(
        StalePlanError, match=r"made for https://parafraim\.com, not https://staging"
    ):
        check_saved_plan(
            saved,
            spec=spec,
            lock_digest="lock-1",
            plan=plan,
            service="https://staging.parafraim.com",
            account_id="acc-1",
        )
    with pytest.raises(StalePlanError, match="made for account acc-1, not acc-2") as info:
        check_saved_plan(
            saved, spec=spec, lock_digest="lock-1", plan=plan, service=SERVICE, account_id="acc-2"
        )
    assert "key" in (info.value.hint or "")


def test_only_a_plan_that_names_its_account_or_is_local_is_approved_by_itself(
    tmp_path: Path,
) -> None:
    spec = make_spec(tmp_path)
    path = tmp_path / "plan.json"
    for local, account, approved in (
        (False, "acc-1", True),
        (True, None, True),
        (False, None, False),  # made before any API call: another key could apply it
    ):
        options = PlanOptions(selected=("a", "b"), local=local)
        save_plan(
            path,
            planned(spec),
            spec=spec,
            lock_digest="lock-1",
            options=options,
            template_ids={},
            service=SERVICE,
            account_id=account,
        )
        assert load_plan_file(path).approved is approved


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no plan file at"),
        ("not json", "is not a plan saved by"),
        ('{"formatVersion": 1, "changes": false}', "missing 'saved'"),
        ('{"formatVersion": 2, "saved": {"version": 2}}', "another version"),
        ('{"formatVersion": 1, "saved": {"version": 1}}', "another version"),
        ('{"formatVersion": 1, "saved": {"version": 2, "spec": "x"}}', "missing 'options'"),
    ],
)
def test_files_that_are_not_saved_plans(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "plan.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_plan_file(path)


def test_the_spec_digest_ignores_where_the_spec_is_but_not_what_it_says(tmp_path: Path) -> None:
    assert spec_digest(make_spec(tmp_path)) == spec_digest(make_spec(tmp_path / "copy"))
    assert spec_digest(make_spec(tmp_path)) != spec_digest(make_spec(tmp_path, "two"))

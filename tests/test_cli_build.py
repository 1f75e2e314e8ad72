"""The ``plan`` and ``apply`` commands' contract: JSON documents, exit codes, confirmation,
saved plans, ``--replace``, ``--max-credits``, ``--local``, the lock's owner and removals.

Everything runs the CLI in-process against a real engine over a socket (``--local`` starts
the embedded one), except where a second process is the point.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from apply_support import Builder, Ledger, actions, check_outputs, video, write_spec
from click.testing import CliRunner, Result
from engine_client import EngineFactory, file_digests

from parafraim_build.apply import ApplyResult
from parafraim_build.cli import main
from parafraim_build.connection import LOCAL_API_KEY, embedded_engine
from parafraim_build.console.apply_view import spent_text
from parafraim_build.emulator import EngineConfig, start_engine
from parafraim_build.lockfile import read_lock
from parafraim_build.plan_model import ACTION_KINDS
from parafraim_build.workspace import LOCAL_ENGINE_DIR

pytest_plugins = ("engine_fixtures",)

STEPS = ("Open with our new product.", "Make the headline bigger.")
SPEC = {"alpha": video(*STEPS), "beta": video("Show the price.", renders={"clip": {}})}
STAMPED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ", re.MULTILINE)


@pytest.fixture
def builder(make_engine: EngineFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Builder:
    """A spec folder (with ``SPEC`` in it) and an engine with the fast test pace."""
    built = Builder(make_engine(), tmp_path / "site", monkeypatch)
    built.write(SPEC)
    return built


# ------------------------------------------------------------------------------- plan --json


def test_plan_json_has_exactly_the_documented_shape(builder: Builder) -> None:
    plan = builder.plan()
    assert set(plan) == {"formatVersion", "changes", "estimatedCredits", "summary", "videos"}
    assert plan["formatVersion"] == 1
    assert plan["changes"] is True
    assert isinstance(plan["estimatedCredits"], int | float)
    assert plan["estimatedCredits"] > 0
    assert list(plan["summary"]) == sorted(ACTION_KINDS) or set(plan["summary"]) == set(
        ACTION_KINDS
    )
    assert plan["summary"]["create_project"] == 2
    assert plan["summary"]["send_message"] == 3
    assert plan["summary"]["render"] == 3
    assert sum(plan["summary"].values()) == 8
    assert [v["video"] for v in plan["videos"]] == ["alpha", "beta"]
    for entry in plan["videos"]:
        assert set(entry) == {"video", "projectId", "actions"}
        assert entry["projectId"] is None
        for action in entry["actions"]:
            assert action["action"] in ACTION_KINDS
            assert isinstance(action["reason"], str)
            assert action["reason"]
            expected = {"action", "reason"}
            if action["action"] == "send_message":
                expected.add("step")
            if action["action"] == "render":
                expected.add("render")
            assert set(action) == expected
    assert [a.get("step") for a in plan["videos"][0]["actions"][1:3]] == [1, 2]
    builder.apply()
    unchanged = builder.plan()
    assert unchanged["changes"] is False
    assert unchanged["estimatedCredits"] == 0
    lock = builder.lock()
    assert [(v["video"], v["projectId"], v["actions"]) for v in unchanged["videos"]] == [
        ("alpha", lock.videos["alpha"].projectId, []),
        ("beta", lock.videos["beta"].projectId, []),
    ]


def test_detailed_exitcode_says_changes_none_or_error(builder: Builder) -> None:
    assert builder.run("plan", "--detailed-exitcode").exit_code == 2
    assert builder.run("plan", "--detailed-exitcode", "--json").exit_code == 2
    assert builder.run("plan").exit_code == 0
    builder.apply()
    assert builder.run("plan", "--detailed-exitcode").exit_code == 0
    builder.spec.write_text("version: 1\nvideos: {a: {steps: [1, {nope: 2}]}}\n")
    broken = builder.run("plan", "--detailed-exitcode")
    assert broken.exit_code == 1
    assert "parafraim.yaml:" in broken.stderr


def test_a_readable_plan_lists_symbols_reasons_and_the_estimate(builder: Builder) -> None:
    result = builder.run("plan")
    assert result.exit_code == 0
    assert "+ alpha" in result.stdout
    assert "send step 2/2" in result.stdout
    assert "(new video)" in result.stdout
    assert "Estimated credits:" in result.stdout
    assert "estimate" in result.stdout


# ------------------------------------------------------------------------------- saved plans


def test_a_saved_plan_applies_exactly_and_is_refused_once_the_lock_changed(
    builder: Builder,
) -> None:
    saved = builder.root / "plan.json"
    result = builder.run("plan", "--out", str(saved))
    assert result.exit_code == 0
    assert f"Saved the plan to {saved}" in result.stdout
    # The spec is not ./parafraim.yaml: the printed command names it.
    assert printed_command(result) == [
        "parafraim-build",
        "apply",
        "-f",
        str(builder.spec),
        str(saved),
    ]
    # Applied as printed: no --yes, and no terminal to ask on (the saved plan was reviewed).
    ran = run_printed(result, "--json")
    assert ran.exit_code == 0, ran.output
    applied = json.loads(ran.stdout)
    assert applied["ok"] is True
    check_outputs(builder.root, builder.lock())
    # A plan saved now, then the lock moves on (another apply): the saved plan is stale.
    builder.write({**SPEC, "beta": video("Show the price.", "Add a closing card.")})
    assert builder.run("plan", "--out", str(saved)).exit_code == 0
    builder.apply("beta")
    lock_bytes = builder.lock_path.read_bytes()
    stale = builder.run("apply", "--yes", str(saved))
    assert stale.exit_code == 1
    assert "the lock changed since the plan was made" in stale.stderr
    assert builder.lock_path.read_bytes() == lock_bytes


def printed_command(result: Result) -> list[str]:
    """The command ``plan --out`` printed (between backticks), as a shell would split it."""
    found = re.search(r"apply it with `([^`]+)`\.$", result.stdout.strip())
    assert found, result.stdout
    return shlex.split(found.group(1))


def test_a_saved_plan_is_refused_by_another_account_of_the_service(
    make_engine: EngineFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No lock yet: `plan --out` asks who the account is, so the file names it.
    builder = Builder(make_engine(), tmp_path / "site", monkeypatch)
    builder.write(SPEC)
    saved = builder.root / "plan.json"
    assert builder.run("plan", "--out", str(saved)).exit_code == 0
    assert json.loads(saved.read_text())["saved"]["accountId"] is not None
    # The same address, another account (a teammate's or production's key): refused before
    # any work, and it never even asks.
    port = urlsplit(builder.engine.base_url).port
    builder.engine.stop()
    other = Builder(make_engine(port=port), builder.root, monkeypatch)
    refused = other.run("apply", str(saved))
    assert refused.exit_code == 1
    assert "the plan was made for account" in refused.stderr
    assert other.ledger().kinds().get("message", 0) == 0
    assert not builder.lock_path.exists()


def run_printed(result: Result, *extra: str) -> Result:
    """Run the printed command in-process, as printed (``extra`` added: no terminal here)."""
    program, *args = printed_command(result)
    assert program == "parafraim-build"
    return CliRunner().invoke(main, [*args, *extra], catch_exceptions=False)


def test_a_local_plan_of_another_spec_prints_an_apply_command_that_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "my site"
    write_spec(root, {"solo": video("Open with our new product.", renders={"clip": {}})})
    (root / "parafraim.yaml").rename(root / "launch spec.yaml")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    planned = runner.invoke(
        main,
        ["plan", "--local", "-f", "my site/launch spec.yaml", "--out", "my site/saved plan.json"],
        catch_exceptions=False,
    )
    assert planned.exit_code == 0, planned.output
    assert planned.stdout.strip().endswith(
        "apply it with `parafraim-build apply -f 'my site/launch spec.yaml' --local "
        "'my site/saved plan.json'`."
    )
    # What the message used to say fails: the plan was made for --local, and the spec is
    # not ./parafraim.yaml.
    bare = runner.invoke(main, ["apply", "--yes", "my site/saved plan.json"])
    assert bare.exit_code == 1
    unlocal = runner.invoke(
        main, ["apply", "-f", "my site/launch spec.yaml", "--yes", "my site/saved plan.json"]
    )
    assert unlocal.exit_code == 1
    assert "the saved plan was made with --local" in unlocal.stderr
    assert "hint: add --local to apply it" in unlocal.stderr
    applied = run_printed(planned)
    assert applied.exit_code == 0, applied.output
    assert "ok  solo  -> out/solo/clip.mp4" in applied.stdout
    summary = applied.stdout.splitlines()[-1]
    found = re.search(
        r"; spent ([\d.]+) emulated credits of the local engine \(balance ([\d.]+) → ([\d.]+)\)$",
        summary,
    )
    assert found, summary
    spent, before, after = map(float, found.groups())
    assert spent > 0
    assert before - after == pytest.approx(spent)
    lock = read_lock(root / ".parafraim" / "local" / "parafraim.lock")
    assert lock is not None
    assert check_outputs(root, lock) == 1
    # Once everything is built, a saved plan has nothing to apply, and says so.
    nothing = runner.invoke(
        main, ["plan", "--local", "-f", "my site/launch spec.yaml", "--out", "my site/x.json"]
    )
    assert nothing.exit_code == 0, nothing.output
    assert nothing.stdout.splitlines()[-1] == (
        "Saved the plan to my site/x.json; it has no changes, so there is nothing to apply."
    )


def test_the_printed_command_keeps_variables_and_the_run_cache(
    builder: Builder, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = {"version": 1, "vars": {"product": "Acme"}, "outDir": "out"}
    spec["videos"] = {"alpha": {"steps": ["Open with {{ product }}."], "renders": {}}}
    builder.spec.write_text(json.dumps(spec))
    cache = builder.root / "my cache"
    saved = builder.root / "alpha"  # named like a video: only ./alpha is the file
    result = builder.run(
        "plan", "--var", "product=Flow & Co", "--cache-dir", str(cache), "--out", str(saved)
    )
    assert result.exit_code == 0, result.output
    assert printed_command(result)[2:] == [
        "-f",
        str(builder.spec),
        "--cache-dir",
        str(cache),
        "--var",
        "product=Flow & Co",
        str(saved),
    ]
    ran = run_printed(result, "--yes", "--json")
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.stdout)["ok"] is True
    assert builder.ledger().messages() == ["Open with Flow & Co."]
    monkeypatch.chdir(builder.root)
    relative = CliRunner().invoke(main, ["plan", "--out", "alpha"], catch_exceptions=False)
    assert relative.exit_code == 0, relative.output
    assert printed_command(relative) == ["parafraim-build", "apply", "./alpha"]


def test_a_saved_plan_cannot_be_mixed_with_a_selection(builder: Builder) -> None:
    saved = builder.root / "plan.json"
    builder.run("plan", "--out", str(saved))
    mixed = builder.run("apply", "--yes", "alpha", str(saved))
    assert mixed.exit_code == 1
    assert "a saved plan already says which videos" in mixed.stderr


def test_a_target_that_is_neither_a_plan_file_nor_a_video_says_so(builder: Builder) -> None:
    before = builder.requests()
    result = builder.run("apply", "--yes", "nosuch.json")
    assert result.exit_code == 1
    assert (
        "error: nosuch.json: no such plan file and no video of that name in parafraim.yaml"
        in result.stderr
    )
    assert "hint: the videos of parafraim.yaml are: alpha, beta;" in result.stderr
    assert "`parafraim-build plan --out FILE`" in result.stderr
    both = builder.run("apply", "--yes", "gamma", "alpha", "nosuch.json")
    assert "gamma, nosuch.json: no such plan files and no videos of those names" in both.stderr
    assert builder.requests() == before


def test_a_video_only_the_lock_still_knows_can_be_named(builder: Builder) -> None:
    builder.apply()
    beta_clip = builder.root / builder.lock().videos["beta"].renders["clip"].path
    builder.write({"alpha": SPEC["alpha"]})
    removed = builder.apply("beta")
    assert removed["ok"] is True
    assert not beta_clip.exists()
    assert set(builder.lock().videos) == {"alpha"}


# -------------------------------------------------------------------------------- confirmation


def test_apply_without_yes_and_without_a_terminal_refuses_before_any_request(
    builder: Builder,
) -> None:
    before = builder.requests()
    result = builder.run("apply")
    assert result.exit_code == 1
    assert "no terminal to ask on" in result.stderr
    assert "--yes" in result.stderr
    assert builder.requests() == before
    assert not builder.lock_path.exists()


# ------------------------------------------------------------------------------------ replace


def test_replace_builds_the_video_in_a_new_project(builder: Builder) -> None:
    builder.apply()
    old = builder.lock()
    before = builder.ledger()
    plan = builder.plan("--replace", "alpha")
    assert actions(plan, "alpha")[0] == ("replace_project", None)
    assert "--replace" in plan["videos"][0]["actions"][0]["reason"]
    result = builder.apply("--replace", "alpha")
    lock = builder.lock()
    new = builder.ledger().since(before)
    assert lock.videos["alpha"].projectId != old.videos["alpha"].projectId
    assert new.projects() == [lock.videos["alpha"].projectId]
    assert new.messages() == list(STEPS)
    # The engine's editor is deterministic: the same steps made the same composition, whose
    # outputs the run cache already holds, so nothing is rendered again.
    assert new.renders() == []
    outcomes = [a["outcome"] for a in result["videos"][0]["actions"] if "render" in a]
    assert all(
        re.fullmatch(r"out/alpha/\w+\.\w+, copied from the run cache, .* MB", outcome)
        for outcome in outcomes
    ), outcomes
    assert len(outcomes) == 2
    assert lock.videos["beta"] == old.videos["beta"]
    check_outputs(builder.root, lock)
    unknown = builder.run("apply", "--yes", "--replace", "gamma")
    assert unknown.exit_code == 1
    assert "--replace gamma: no such video" in unknown.stderr


# ----------------------------------------------------------------------------------- credits


def test_a_plan_larger_than_the_balance_is_refused_before_any_work(
    make_engine: EngineFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builder = Builder(make_engine(credits=3), tmp_path / "site", monkeypatch)
    builder.write(SPEC)
    result = builder.run("apply", "--yes")
    assert result.exit_code == 1
    assert "but the account has 3" in result.stderr
    assert builder.ledger().entries == []
    assert builder.balance() == 3


def test_max_credits_refuses_a_larger_plan_before_any_work(builder: Builder) -> None:
    estimate = builder.plan()["estimatedCredits"]
    result = builder.run("apply", "--yes", "--max-credits", str(estimate - 0.5))
    assert result.exit_code == 1
    assert "more than --max-credits" in result.stderr
    assert builder.ledger().entries == []
    assert builder.apply("--max-credits", str(estimate))["ok"] is True


def local_ledger(root: Path) -> Ledger:
    """The ledger of the embedded engine ``--local`` ran, read by starting it on its state."""
    state = root / ".parafraim" / "local" / "engine"
    with start_engine(EngineConfig(api_key=LOCAL_API_KEY, state_dir=state)) as engine:
        return Ledger.read(engine)


def local_requests(root: Path) -> int:
    """How many API requests the embedded engine of ``--local`` has served on its state."""
    state = root / ".parafraim" / "local" / "engine"
    with start_engine(EngineConfig(api_key=LOCAL_API_KEY, state_dir=state)) as engine:
        return int(engine.stats()["requests"]["total"])


def test_max_credits_stops_an_operation_that_would_pass_it_mid_run(
    tmp_path: Path,
) -> None:
    # The plan prices the template video's render at an assumed 10 s; once its step has run
    # the composition is known to be longer, and that render would pass the ceiling.
    root = tmp_path / "site"
    full_hd = {"width": 1920, "height": 1080, "fps": 30, "quality": "standard"}
    full_hd |= {"includeAudio": False, "includeSubtitles": False}
    write_spec(
        root,
        {
            "small": video("Open with our new product.", renders={"clip": {}}),
            "launch": video(
                'Replace the product name with "Flow".',
                template="Product launch",
                renders={"hd": full_hd},
            ),
        },
    )
    runner = Builder.local(root)
    plan = runner.plan("--local")
    estimate = plan["estimatedCredits"]
    result = runner.run("apply", "--local", "--yes", "--max-credits", str(estimate))
    assert result.exit_code == 1, result.output
    assert "FAILED  launch" in result.stdout
    assert "ok  small" in result.stdout
    lock = read_lock(root / ".parafraim" / "local" / "parafraim.lock")
    assert lock is not None
    assert re.search(
        r"render hd not started: estimated at [\d.]+ credits, it would pass --max-credits",
        result.stdout,
    )
    assert set(lock.videos["small"].renders) == {"clip"}
    assert set(lock.videos["launch"].renders) == {"clip"}  # the cheap one, before hd
    assert not lock.videos["launch"].pending
    ledger = local_ledger(root)
    assert ledger.kinds() == {"project": 2, "message": 2, "render": 2}
    assert sorted(ledger.render_projects()) == sorted(
        [lock.videos["small"].projectId, lock.videos["launch"].projectId]
    )


# ------------------------------------------------------------------------------------ --local


def test_local_runs_keep_their_own_lock_and_never_touch_parafraim_lock(tmp_path: Path) -> None:
    root = tmp_path / "site"
    write_spec(root, {"solo": video("Open with our new product.", renders={"clip": {}})})
    service_lock = root / "parafraim.lock"
    service_lock.write_text("# a lock of the real service, not ours to touch\n")
    runner = Builder.local(root)
    applied = runner.run("apply", "--local", "--yes")
    assert applied.exit_code == 0, applied.output
    assert service_lock.read_text() == "# a lock of the real service, not ours to touch\n"
    lock = read_lock(root / ".parafraim" / "local" / "parafraim.lock")
    assert lock is not None
    assert lock.baseUrl == "local://engine"
    assert check_outputs(root, lock) == 1
    assert (root / ".parafraim" / "local" / "engine").is_dir()
    again = runner.run("plan", "--local", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    # A no-op local apply does not even start the engine: its counters do not move.
    served = local_requests(root)
    noop = runner.run("apply", "--local", "--yes")
    assert noop.exit_code == 0
    assert "No changes" in noop.stdout
    assert local_requests(root) == served > 0
    # The real service's plan is another matter entirely (and needs no engine to fail).
    real = runner.run("plan")
    assert real.exit_code == 1
    assert "parafraim.lock" in real.stderr
    assert service_lock.read_text() == "# a lock of the real service, not ours to touch\n"


def test_a_local_plan_that_looks_a_template_up_leaves_the_engine_state_as_it_was(
    tmp_path: Path,
) -> None:
    root = tmp_path / "site"
    write_spec(root, {"solo": video("Open with our new product.", renders={"clip": {}})})
    runner = Builder.local(root)
    assert runner.run("apply", "--local", "--yes").exit_code == 0
    state = root / ".parafraim" / "local" / "engine"
    before = file_digests(state)
    # A new video from a template: the plan must ask the engine for the template's id.
    write_spec(
        root,
        {
            "solo": video("Open with our new product.", renders={"clip": {}}),
            "recap": video("Make it punchier.", template="Weekly recap", renders={"clip": {}}),
        },
    )
    planned = runner.run("plan", "--local", "--json")
    assert planned.exit_code == 0, planned.output
    assert json.loads(planned.stdout)["summary"]["use_template"] == 1
    assert file_digests(state) == before  # no counters saved, nothing resumed or tidied


def test_a_misspelt_template_in_a_local_plan_points_at_the_local_catalogue(
    tmp_path: Path,
) -> None:
    root = tmp_path / "site"
    write_spec(root, {"solo": video("Open with our new product.", template="Product lunch")})
    planned = Builder.local(root).run("plan", "--local")
    assert planned.exit_code == 1
    assert "no template is named exactly 'Product lunch'" in planned.stderr
    assert "did you mean 'Product launch'?" in planned.stderr
    assert "`parafraim-build templates --local` lists them" in planned.stderr
    listed = CliRunner().invoke(main, ["templates", "--local", "--q", "launch"])
    assert listed.exit_code == 0, listed.output
    assert "Product launch" in listed.stdout


def test_a_local_lock_whose_engine_was_deleted_says_to_start_over_locally(
    tmp_path: Path,
) -> None:
    root = tmp_path / "site"
    write_spec(root, {"solo": video("Open with our new product.", renders={"clip": {}})})
    runner = Builder.local(root)
    assert runner.run("apply", "--local", "--yes").exit_code == 0
    shutil.rmtree(root / ".parafraim" / "local" / "engine")  # a new engine, a new account
    write_spec(root, {"solo": video("Open with our new product.", "More.", renders={"clip": {}})})
    result = runner.run("apply", "--local", "--yes")
    assert result.exit_code == 1
    assert ".parafraim/local/parafraim.lock belongs to another local engine account" in (
        result.stderr
    )
    assert "delete .parafraim/local/ to start over locally" in result.stderr
    assert "API key" not in result.stderr


# --------------------------------------------------------------------------------- lock owner


def test_a_lock_of_another_account_is_refused_and_left_byte_identical(builder: Builder) -> None:
    builder.apply()
    lock = builder.lock()
    text = builder.lock_path.read_text().replace(lock.accountId, "someone-else")
    builder.lock_path.write_text(text)
    # With nothing to do, apply asks the service nothing, so it cannot tell (docs/build.md).
    assert "No changes" in builder.run("apply", "--yes").stdout
    builder.write({**SPEC, "beta": video("Show the price.", "Add a closing card.")})
    before = builder.ledger()
    result = builder.run("apply", "--yes")
    assert result.exit_code == 1
    assert "belongs to another Parafraim account" in result.stderr
    assert builder.lock_path.read_text() == text
    assert builder.ledger().since(before).entries == []


def test_a_lock_of_another_base_url_is_refused_by_plan_and_apply(
    builder: Builder, make_engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    builder.apply()
    text = builder.lock_path.read_bytes()
    other = make_engine()
    monkeypatch.setenv("PARAFRAIM_BASE_URL", other.base_url)
    for command in (("plan",), ("apply", "--yes")):
        result = builder.run(*command)
        assert result.exit_code == 1
        assert f"belongs to {builder.engine.base_url}" in result.stderr
    assert builder.lock_path.read_bytes() == text
    assert other.stats()["requests"]["total"] == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("lockVersion: 99\nbaseUrl: x\naccountId: y\n", "written by a newer parafraim-build"),
        ("lockVersion: 1\nvideos: [\n", "is not valid YAML"),
        ("lockVersion: 1\nbaseUrl: x\n", "does not match the lock format"),
    ],
)
def test_a_newer_or_corrupt_lock_is_an_error_and_never_overwritten(
    builder: Builder, content: str, message: str
) -> None:
    builder.lock_path.write_text(content)
    for command in (("plan",), ("apply", "--yes")):
        result = builder.run(*command)
        assert result.exit_code == 1
        assert message in result.stderr
    assert builder.lock_path.read_text() == content
    assert builder.ledger().entries == []


def test_a_second_apply_on_the_same_spec_fails_at_once(
    make_engine: EngineFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builder = Builder(make_engine(task_seconds=2.0), tmp_path / "site", monkeypatch)
    builder.write({"slow": video("Open with our new product.", renders={"clip": {}})})
    first = subprocess.Popen(
        [sys.executable, "-m", "parafraim_build", "apply", "--yes", "-f", str(builder.spec)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not builder.lock_path.exists():  # written once the project exists
            assert time.monotonic() < deadline, "the first apply never wrote its lock"
            assert first.poll() is None, first.communicate()
            time.sleep(0.02)
        started = time.monotonic()
        second = builder.run("apply", "--yes")
        assert time.monotonic() - started < 5
        assert second.exit_code == 1
        assert "another parafraim-build apply is running" in second.stderr
        assert first.poll() is None, "the first apply ended before the second was refused"
    finally:
        _, err = first.communicate(timeout=60)
    assert first.returncode == 0, err.decode()
    check_outputs(builder.root, builder.lock())
    assert builder.ledger().kinds() == {"project": 1, "message": 1, "render": 1}


# ----------------------------------------------------------------------------------- removals


def test_removing_a_render_or_a_video_removes_its_outputs_and_keeps_the_project(
    builder: Builder,
) -> None:
    builder.apply()
    lock = builder.lock()
    teaser = builder.root / lock.videos["alpha"].renders["teaser"].path
    beta_clip = builder.root / lock.videos["beta"].renders["clip"].path
    builder.write({"alpha": video(*STEPS, renders={"clip": {}})})
    plan = builder.plan()
    assert actions(plan, "alpha") == [("remove_output", "teaser")]
    assert actions(plan, "beta") == [("remove_output", "clip")]
    before = builder.ledger()
    builder.apply()
    assert builder.ledger().since(before).entries == []
    assert not teaser.exists()
    assert not beta_clip.exists()
    assert not beta_clip.parent.exists()
    after = builder.lock()
    assert set(after.videos) == {"alpha"}
    assert after.videos["alpha"].projectId == lock.videos["alpha"].projectId
    assert set(after.videos["alpha"].renders) == {"clip"}
    check_outputs(builder.root, after)
    assert builder.plan()["changes"] is False


# ----------------------------------------------------------------------------------- progress


def test_a_ci_apply_prints_timestamped_progress_and_a_summary(builder: Builder) -> None:
    result = builder.run("apply", "--yes")
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    stamped = [line for line in lines if STAMPED.match(line)]
    assert len(stamped) >= 10
    text = "\n".join(stamped)
    assert "alpha: started (5 actions)" in text
    assert "alpha: step 2/2 done" in text
    assert "alpha: render teaser: complete 100%" in text
    assert "beta: finished in" in text
    assert "ok  alpha  -> out/alpha/clip.mp4, out/alpha/teaser.gif" in result.stdout
    assert "Apply: 2 of 2 videos done." in result.stdout
    assert re.search(r"\(estimate; [^)]+\); spent [\d.]+ credits \(balance ", result.stdout)
    assert not STAMPED.search(result.stdout)


def test_apply_json_reports_every_video_and_action(builder: Builder) -> None:
    result = builder.apply()
    assert set(result) == {
        "formatVersion",
        "ok",
        "changes",
        "applied",
        "interrupted",
        "estimatedCredits",
        "costLabel",
        "spentCredits",
        "balance",
        "videos",
        "requests",
    }
    assert result["ok"] is result["applied"] is result["changes"] is True
    alpha = result["videos"][0]
    assert alpha["video"] == "alpha"
    assert alpha["status"] == "ok"
    assert alpha["projectId"] == builder.lock().videos["alpha"].projectId
    assert [(a["action"], a.get("step"), a.get("render")) for a in alpha["actions"]] == [
        ("create_project", None, None),
        ("send_message", 1, None),
        ("send_message", 2, None),
        ("render", None, "clip"),
        ("render", None, "teaser"),
    ]
    assert alpha["outputs"] == ["out/alpha/clip.mp4", "out/alpha/teaser.gif"]
    assert result["requests"]["POST"] == 2 + 3 + 3
    json.dumps(result)


# ------------------------------------------------------------------------- the spent summary


def spent(
    credits: float | None, before: float | None, after: float | None, *, local: bool = False
) -> str:
    result = ApplyResult(
        spent_credits=credits, balance_before=before, balance_after=after, local=local
    )
    return spent_text(result)


def test_the_balance_difference_is_called_out_only_when_it_is_not_the_runs() -> None:
    assert spent(12.5, 500, 487.5) == "spent 12.5 credits (balance 500 → 487.5)"
    assert spent(12.5, 500, 480) == (
        "spent 12.5 credits (balance 500 → 480, which moved by 20: the difference includes "
        "other use of the account)"
    )
    assert spent(2.1, 1_000_000, 999_997.9, local=True) == (
        "spent 2.1 emulated credits of the local engine (balance 1000000 → 999997.9)"
    )


def test_unknown_figures_say_why() -> None:
    assert spent(0, None, None) == "spent 0 credits"
    assert spent(None, 500, None) == (
        "credits spent: unknown (the balance could not be read after the run)"
    )
    assert spent(None, 500, 470) == (
        "credits spent: unknown, some of this run's charges are no longer among the account's "
        "recent transactions (balance 500 → 470)"
    )
    assert spent(3, None, 470) == "spent 3 credits (balance after the run 470)"


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_missing_spec_hints_how_to_start_one_not_to_fix_it(
    command: str, project_dir: Path
) -> None:
    args = [command, "--local", "-f", "sub/videos.yaml"] + (["--yes"] if command == "apply" else [])
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "sub/videos.yaml: the spec does not exist",
        "1 problem found",
        "hint: check the path given to -f, "
        "or run `parafraim-build init sub` to start a parafraim.yaml there",
    ]
    assert list(project_dir.iterdir()) == []


def test_a_local_build_whose_engine_state_is_busy_says_an_apply_is_running(
    project_dir: Path,
) -> None:
    (project_dir / "parafraim.yaml").write_text(
        "version: 1\nvideos:\n  clip:\n    steps: [Hi.]\n", encoding="utf-8"
    )
    with embedded_engine(project_dir / LOCAL_ENGINE_DIR, read_only=False):
        result = CliRunner().invoke(main, ["apply", "--local", "--yes"])
    assert result.exit_code == 1, result.output
    assert "hint: another engine uses it (an `apply --local` of this spec, or" in result.stderr
    assert "pass another --state-dir" not in result.stderr  # an option apply does not have
    # A plan only reads the state: it works while the state is held, even when it must ask
    # the engine (a template name to look up).
    (project_dir / "parafraim.yaml").write_text(
        "version: 1\nvideos:\n  clip:\n    template: Weekly recap\n    steps: [Hi.]\n",
        encoding="utf-8",
    )
    with embedded_engine(project_dir / LOCAL_ENGINE_DIR, read_only=False):
        planned = CliRunner().invoke(main, ["plan", "--local"])
    assert planned.exit_code == 0, planned.output
    assert "use template" in planned.stdout

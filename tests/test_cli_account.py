"""``whoami``, ``credits``, ``templates`` and ``projects`` against a real local engine."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from engine_client import WEEKLY_RECAP, EngineClient, file_digests

from parafraim_build.api.client import ParafraimClient
from parafraim_build.api.models import CreateProjectRequest, ProjectSummary, TemplateSummary
from parafraim_build.cli import main
from parafraim_build.config import ApiSettings
from parafraim_build.connection import embedded_engine
from parafraim_build.console import account_view
from parafraim_build.emulator import EngineConfig, RunningEngine, start_engine
from parafraim_build.workspace import LOCAL_DIR, LOCAL_ENGINE_DIR

KEY = "pfk_cli_account_tests_5b1f0e"


@pytest.fixture(scope="module")
def engine() -> Iterator[RunningEngine]:
    """One engine for the module: these commands only read, except where a test adds projects."""
    running = start_engine(EngineConfig(api_key=KEY))
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """``-v`` turns on DEBUG for the package logger; put it back after each test."""
    logger = logging.getLogger("parafraim_build")
    level, handlers = logger.level, list(logger.handlers)
    yield
    logger.setLevel(level)
    logger.handlers[:] = handlers


@pytest.fixture
def env(engine: RunningEngine, monkeypatch: pytest.MonkeyPatch) -> RunningEngine:
    monkeypatch.setenv("PARAFRAIM_BASE_URL", engine.base_url)
    monkeypatch.setenv("PARAFRAIM_API_KEY", engine.api_key)
    return engine


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def add_projects(engine: RunningEngine, count: int) -> None:
    async def create() -> None:
        settings = ApiSettings(base_url=engine.base_url, api_key=engine.api_key)
        async with ParafraimClient(settings) as client:
            for n in range(count):
                await client.create_project(CreateProjectRequest(name=f"cli project {n}"))

    asyncio.run(create())


@pytest.mark.usefixtures("env")
def test_whoami_table_and_json(engine: RunningEngine) -> None:
    table = invoke("whoami")
    assert table.exit_code == 0, table.output
    assert "Parafraim account" in table.stdout
    assert "local" in table.stdout  # the engine's plan
    assert engine.base_url in table.stdout
    as_json = invoke("whoami", "--json")
    assert as_json.exit_code == 0
    me = json.loads(as_json.stdout)
    assert me["plan"] == "local"
    assert me["id"] in table.stdout


@pytest.mark.usefixtures("env")
def test_credits_table_and_json(engine: RunningEngine) -> None:
    raw = invoke("credits", "--json").stdout
    data = json.loads(raw)
    assert data["balance"] == 10_000
    assert isinstance(data["balance"], int)  # as the service sent it, not 10000.0
    assert "10000.0" not in raw
    assert isinstance(data["recent"], list)
    assert data["limits"] == {
        "projects": engine.config.project_limit,
        "concurrentTasks": engine.config.concurrency,
    }
    table = invoke("credits")
    assert table.exit_code == 0
    assert "balance" in table.stdout
    assert "10,000" in table.stdout
    assert "limit: projects" in table.stdout
    assert "limit: concurrent tasks" in table.stdout


def test_one_template_or_project_is_counted_in_the_singular(
    capsys: pytest.CaptureFixture[str],
) -> None:
    account_view.print_templates([TemplateSummary(id="t1", name="Recap")], as_json=False)
    account_view.print_projects([ProjectSummary(id="p1")], as_json=False)
    account_view.print_projects([ProjectSummary(id="p1"), ProjectSummary(id="p2")], as_json=False)
    lines = capsys.readouterr().out.splitlines()
    titles = [line.strip() for line in lines if line[:1].isdigit()]
    assert titles == ["1 template", "1 project", "2 projects"]


@pytest.mark.usefixtures("env")
def test_templates_lists_every_template_and_filters() -> None:
    everything = json.loads(invoke("templates", "--json").stdout)
    assert len(everything) >= 10
    assert len({t["id"] for t in everything}) == len(everything)
    category = everything[0]["category"]
    filtered = json.loads(invoke("templates", "--category", category, "--json").stdout)
    assert filtered
    assert {t["category"] for t in filtered} == {category}
    name = everything[0]["name"]
    searched = json.loads(invoke("templates", "--q", name, "--json").stdout)
    assert name in [t["name"] for t in searched]
    table = invoke("templates", "--category", category)
    assert table.exit_code == 0
    assert everything[0]["id"] in table.stdout
    assert f"{len(filtered)} templates" in table.stdout
    none = invoke("templates", "--q", "no template is called this")
    assert none.stdout.strip() == "no templates match"
    assert "categories" not in none.stderr
    misspelt = invoke("templates", "--category", category.upper() + "x")
    assert misspelt.stdout.strip() == "no templates match"
    categories = sorted({t["category"] for t in everything})
    assert f"the categories are: {', '.join(categories)} (exact" in misspelt.stderr


@pytest.mark.usefixtures("env")
def test_projects_follows_every_page(engine: RunningEngine) -> None:
    before = len(json.loads(invoke("projects", "--json").stdout))
    if before == 0:
        assert invoke("projects").stdout.strip() == "no projects yet"
    add_projects(engine, 53)  # more than one page of 50
    listed = json.loads(invoke("projects", "--json").stdout)
    assert len(listed) == before + 53
    assert len({p["id"] for p in listed}) == len(listed)
    assert "compositionHtml" not in listed[0]
    table = invoke("projects")
    assert f"{before + 53} projects" in table.stdout
    assert listed[-1]["id"] in table.stdout


def test_templates_local_lists_the_engine_catalogue_without_a_key_or_files(
    project_dir: Path,
) -> None:
    result = invoke("templates", "--local", "--json")
    assert result.exit_code == 0, result.output
    names = [t["name"] for t in json.loads(result.stdout)]
    assert "Weekly recap" in names
    assert list(project_dir.iterdir()) == []  # a look-up leaves no engine state behind


def test_whoami_local_shows_the_local_engines_account_without_a_key(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PARAFRAIM_API_KEY", raising=False)
    result = invoke("whoami", "--local")
    assert result.exit_code == 0, result.output
    assert "Parafraim account" in result.stdout
    assert "local://engine" in result.stdout
    assert list(project_dir.iterdir()) == []


def test_listings_piped_or_logged_never_wrap_names(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    result = invoke("templates", "--local")
    assert result.exit_code == 0, result.output
    rows = result.stdout.splitlines()
    assert any("Customer testimonial" in row for row in rows)  # not cut over two lines
    assert len(rows) == 2 + len(json.loads(invoke("templates", "--local", "--json").stdout))
    # A width given on purpose still holds.
    monkeypatch.setenv("COLUMNS", "50")
    narrow = invoke("templates", "--local")
    assert not any("Customer testimonial" in row for row in narrow.stdout.splitlines())


def test_a_category_that_exists_but_matches_no_search_lists_no_categories(
    project_dir: Path,
) -> None:
    result = invoke("templates", "--local", "--category", "news", "--q", "no such words")
    assert result.stdout.strip() == "no templates match"
    assert "categories" not in result.stderr


def test_projects_and_credits_local_read_the_state_beside_the_spec(project_dir: Path) -> None:
    spec = project_dir / "site" / "videos.yaml"
    spec.parent.mkdir()
    spec.write_text("version: 1\nvideos: {}\n")
    # Before any local run: a fresh engine answers, says so, and nothing is written.
    fresh = invoke("projects", "--local", "-f", str(spec))
    assert fresh.stdout.strip() == "no projects yet"
    assert fresh.stderr == ("no local runs of site/videos.yaml yet: showing a fresh local engine\n")
    assert not (spec.parent / LOCAL_DIR).exists()

    async def create(settings: ApiSettings) -> None:
        async with ParafraimClient(settings) as client:
            await client.create_project(CreateProjectRequest(name="made by a local run"))

    with embedded_engine(spec.parent / LOCAL_ENGINE_DIR, read_only=False) as settings:
        asyncio.run(create(settings))
    listed = json.loads(invoke("projects", "--local", "-f", str(spec), "--json").stdout)
    assert [p["name"] for p in listed] == ["made by a local run"]
    # The current folder has no local runs: its engine knows no project.
    assert json.loads(invoke("projects", "--local", "--json").stdout) == []
    balance = invoke("credits", "--local", "-f", str(spec), "--json")
    assert json.loads(balance.stdout)["plan"] == "local"
    assert balance.stderr == ""  # it has local runs: no note


def _killed_apply_state(spec: Path) -> tuple[Path, str]:
    """The local state of ``spec`` as an ``apply --local`` killed mid-render leaves it: a
    pending render, its half-written hidden file, saved request counters. Returns the state
    folder and the render job's id."""
    state_dir = spec.parent / LOCAL_ENGINE_DIR
    running = start_engine(EngineConfig(api_key=KEY, state_dir=state_dir, render_seconds=30))
    try:
        with EngineClient(running) as client:
            project = client.new_project(templateId=WEEKLY_RECAP, name="mid-render")
            job_id = client.render(project["id"])
    finally:
        running.stop()
    (state_dir / "files" / f".{job_id}.mp4.k1ll3d.part").write_bytes(b"half a video")
    assert (state_dir / "stats.json").is_file()
    return state_dir, job_id


def test_local_look_ups_change_no_byte_of_the_state(project_dir: Path) -> None:
    spec = project_dir / "parafraim.yaml"
    spec.write_text("version: 1\nvideos: {}\n")
    state_dir, job_id = _killed_apply_state(spec)
    before = file_digests(state_dir)
    for command in ("credits", "projects"):
        for args in ((), ("-f", str(spec))):
            result = invoke(command, "--local", *args, "--json")
            assert result.exit_code == 0, result.output
    assert json.loads(invoke("projects", "--local", "--json").stdout)[0]["name"] == "mid-render"
    assert file_digests(state_dir) == before
    # The next local run still finds the render it has to finish.
    job = json.loads((state_dir / "jobs" / f"{job_id}.json").read_text())
    assert job["status"] != "complete"


def test_a_look_up_works_while_an_apply_holds_the_local_state(project_dir: Path) -> None:
    spec = project_dir / "parafraim.yaml"
    spec.write_text("version: 1\nvideos: {}\n")
    with embedded_engine(project_dir / LOCAL_ENGINE_DIR, read_only=False) as settings:

        async def create() -> None:
            async with ParafraimClient(settings) as client:
                await client.create_project(CreateProjectRequest(name="being applied"))

        asyncio.run(create())
        result = invoke("projects", "--local", "--json")
        assert result.exit_code == 0, result.output
        assert [p["name"] for p in json.loads(result.stdout)] == ["being applied"]
        assert invoke("credits", "--local").exit_code == 0


def test_a_local_look_up_of_a_missing_spec_is_an_error(project_dir: Path) -> None:
    result = invoke("credits", "--local", "-f", "typo.yaml")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("typo.yaml: the spec does not exist\n")
    assert "hint: check the path given to -f, or run `parafraim-build init`" in result.stderr
    # Without -f, the default spec need not exist: a fresh engine, and a note on stderr.
    default = invoke("credits", "--local", "--json")
    assert default.exit_code == 0
    assert json.loads(default.stdout)["balance"] == 1_000_000
    assert "no local runs of parafraim.yaml yet" in default.stderr
    assert list(project_dir.iterdir()) == []


@pytest.mark.parametrize("command", ["credits", "projects"])
def test_f_without_local_is_a_usage_error(command: str, project_dir: Path) -> None:
    (project_dir / "parafraim.yaml").write_text("version: 1\nvideos: {}\n")
    result = CliRunner().invoke(main, [command, "-f", "parafraim.yaml"])
    assert result.exit_code == 2
    assert "-f/--file names the spec whose local runs to look at: use it with --local" in (
        result.stderr
    )


def test_a_missing_key_is_one_line_and_exit_1(
    engine: RunningEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARAFRAIM_BASE_URL", engine.base_url)
    result = invoke("whoami")
    assert result.exit_code == 1
    assert result.stdout == ""
    first, *rest = result.stderr.splitlines()
    assert first == "error: PARAFRAIM_API_KEY is not set"
    assert all(line.startswith("hint: ") for line in rest)


def test_a_bad_key_is_one_line_naming_the_variable(
    engine: RunningEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARAFRAIM_BASE_URL", engine.base_url)
    monkeypatch.setenv("PARAFRAIM_API_KEY", "pfk_not_the_right_one_77")
    for command in ("whoami", "credits", "templates", "projects"):
        result = invoke(command)
        assert result.exit_code == 1
        first = result.stderr.splitlines()[0]
        assert first.startswith("error: Parafraim refused the API key in PARAFRAIM_API_KEY")
        assert "UNAUTHORIZED" in first
        assert "not_the_right_one" not in result.output


def test_a_key_that_is_not_a_key_is_refused_before_any_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PARAFRAIM_API_KEY", "sk-live-0000")
    result = invoke("credits")
    assert result.exit_code == 1
    assert "keys start with pfk_" in result.stderr
    assert "sk-live-0000" not in result.output


def test_an_unreachable_host_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("PARAFRAIM_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("PARAFRAIM_API_KEY", KEY)
    result = invoke("whoami")
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"error: could not connect to http://127.0.0.1:{port}")
    assert "PARAFRAIM_BASE_URL" in result.stderr


def test_a_base_url_with_an_extra_path_says_what_was_not_found(
    engine: RunningEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARAFRAIM_BASE_URL", f"{engine.base_url}/some/prefix")
    monkeypatch.setenv("PARAFRAIM_API_KEY", KEY)
    result = invoke("whoami")
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"error: not found: GET {engine.base_url}/some/prefix/api/v1/me")
    assert "hint: GET /me always exists on the Parafraim API" in result.stderr
    assert f"PARAFRAIM_BASE_URL (now {engine.base_url}/some/prefix)" in result.stderr


def test_plain_http_to_a_remote_host_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARAFRAIM_BASE_URL", "http://parafraim.com")
    monkeypatch.setenv("PARAFRAIM_API_KEY", KEY)
    result = invoke("whoami")
    assert result.exit_code == 1
    assert "plain http://" in result.stderr.splitlines()[0]


@pytest.mark.usefixtures("env")
@pytest.mark.parametrize("args", [("-v", "whoami", "--json"), ("whoami", "-v", "--json")])
def test_verbose_logs_requests_without_the_key(
    engine: RunningEngine, args: tuple[str, ...]
) -> None:
    result = invoke(*args)
    assert result.exit_code == 0
    assert f"GET {engine.base_url}/api/v1/me -> 200" in result.stderr
    assert KEY.removeprefix("pfk_") not in result.output

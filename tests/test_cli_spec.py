"""The spec commands through click: exit codes, stdout, and the stderr problem format."""

from __future__ import annotations

import json
import shlex
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import EXAMPLES, REPO_ROOT

from parafraim_build import __version__
from parafraim_build.cli import main


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_validate_prints_a_summary(project_dir: Path) -> None:
    code, out, err = run("validate", "-f", str(EXAMPLES / "localised-recap" / "parafraim.yaml"))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].endswith("is valid: 3 videos, 9 steps, 6 renders (outputs in out/)")
    assert lines[1].split()[:5] == [
        "recap-en",
        "template",
        "00000000-0000-0000-0000-000000000007",
        "3",
        "steps",
    ]
    assert "hd 1280x720 30fps mp4, square 720x720 30fps mp4 (no audio)" in lines[1]


def test_validate_reads_parafraim_yaml_by_default(project_dir: Path) -> None:
    write(project_dir / "parafraim.yaml", "version: 1\nvideos:\n  clip:\n    steps: [Hi.]\n")
    code, out, _ = run("validate")
    assert code == 0
    assert out.splitlines()[0] == (
        "parafraim.yaml is valid: 1 video, 1 step, 0 renders (outputs in out/)"
    )
    assert out.splitlines()[1].split() == ["clip", "blank", "16:9", "1", "step", "no", "renders"]


def test_validate_errors_go_to_stderr_with_exit_1(project_dir: Path) -> None:
    write(
        project_dir / "parafraim.yaml",
        """\
        version: 1
        videos:
          clip:
            stpes: [Hi.]
            renders: {hd: {width: 100}}
        """,
    )
    code, out, err = run("validate")
    assert code == 1
    assert out == ""
    assert err == (
        "parafraim.yaml:4:5: unknown key 'stpes' (did you mean 'steps'?) "
        "(at videos.clip.stpes)\n"
        "        stpes: [Hi.]\n"
        "        ^\n"
        "parafraim.yaml:5:27: width 100 is out of range: the API takes 480 to 3840 "
        "(at videos.clip.renders.hd.width)\n"
        "        renders: {hd: {width: 100}}\n" + " " * 30 + "^\n"
        "2 problems found\n"
        "hint: fix the spec and run `parafraim-build validate` again\n"
    )


def test_validate_missing_spec(project_dir: Path) -> None:
    code, _, err = run("validate", "-f", "nope.yaml")
    assert code == 1
    # The hint says how to get a spec there: there is nothing to fix and validate again.
    assert err == (
        "nope.yaml: the spec does not exist\n"
        "1 problem found\n"
        "hint: check the path given to -f, "
        "or run `parafraim-build init` to start a parafraim.yaml there\n"
    )
    _, _, err = run("validate", "-f", "demo/parafraim.yaml")
    assert err.splitlines()[0] == "demo/parafraim.yaml: the spec does not exist"
    assert err.splitlines()[-1] == (
        "hint: run `parafraim-build init demo` to start one, or pass -f SPEC"
    )
    # The command the message names makes the spec that was asked for.
    assert run("init", "demo")[0] == 0
    assert run("validate", "-f", "demo/parafraim.yaml")[0] == 0


@pytest.mark.parametrize(
    ("args", "command"),
    [
        ((), "parafraim-build validate"),
        (("-f", "parafraim.yaml"), "parafraim-build validate"),
        (("-f", "site/videos.yaml"), "parafraim-build validate -f site/videos.yaml"),
        (("-f", "my site/videos.yaml"), "parafraim-build validate -f 'my site/videos.yaml'"),
        (
            ("-f", "site/videos.yaml", "--var", "month=June 1"),
            "parafraim-build validate -f site/videos.yaml --var 'month=June 1'",
        ),
    ],
)
def test_the_hint_of_a_failed_validate_repeats_its_spec_and_vars(
    project_dir: Path, args: tuple[str, ...], command: str
) -> None:
    bad = "version: 1\nvars: {month: May}\nvideos:\n  clip:\n    stpes: [Hi.]\n"
    for path in ("parafraim.yaml", "site/videos.yaml", "my site/videos.yaml"):
        (project_dir / path).parent.mkdir(exist_ok=True)
        write(project_dir / path, bad)
    code, _, err = run("validate", *args)
    assert code == 1
    assert err.splitlines()[-1] == f"hint: fix the spec and run `{command}` again"
    # The printed command checks the same spec: fixed, it passes.
    target = args[args.index("-f") + 1] if "-f" in args else "parafraim.yaml"
    write(project_dir / target, bad.replace("stpes", "steps"))
    assert CliRunner().invoke(main, shlex.split(command)[1:]).exit_code == 0


def test_a_key_given_as_a_var_is_not_repeated_in_the_hint(project_dir: Path) -> None:
    write(project_dir / "parafraim.yaml", "version: 1\nvideos:\n  clip:\n    stpes: [Hi.]\n")
    key = "pfk_" + "q7" * 12
    _, _, err = run("validate", "--var", f"token={key}")
    assert "hint: fix the spec and run `parafraim-build validate --var" in err
    assert key not in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the spec is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "the spec is a binary file"),
        (b"version: 1\nvideos: [\n", "YAML syntax error"),
        (b"version: 1\nvideos:\n  a:\n    steps: [{file: gone.md}]\n", "does not exist"),
    ],
)
def test_validate_bad_files_exit_1_with_a_clear_message(
    project_dir: Path, content: bytes, message: str
) -> None:
    (project_dir / "parafraim.yaml").write_bytes(content)
    code, _, err = run("validate")
    assert code == 1
    assert message in err
    assert "Traceback" not in err
    assert "internal error" not in err


def test_validate_json_is_the_expanded_canonical_spec(project_dir: Path) -> None:
    code, out, _ = run(
        "validate", "--json", "-f", str(EXAMPLES / "localised-recap" / "parafraim.yaml")
    )
    assert code == 0
    document = json.loads(out)
    assert document["spec"] == "parafraim.yaml"
    assert document["outDir"] == "out"
    assert list(document["videos"]) == ["recap-de", "recap-en", "recap-ja"]
    assert document["videos"]["recap-de"]["renders"]["hd"]["includeSubtitles"] is True
    assert out == json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_validate_var_overrides(project_dir: Path) -> None:
    spec = str(EXAMPLES / "localised-recap" / "parafraim.yaml")
    code, out, _ = run("validate", "--json", "-f", spec, "--var", "month=March", "--var", "a=b")
    assert code == 1
    code, out, _ = run("validate", "--json", "-f", spec, "--var", "month=March")
    assert code == 0
    assert "March" in json.loads(out)["videos"]["recap-en"]["description"]


def test_unknown_var_is_reported_as_a_command_line_problem(project_dir: Path) -> None:
    write(
        project_dir / "parafraim.yaml",
        "version: 1\nvars: {month: May}\nvideos:\n  clip:\n    steps: [Hi.]\n",
    )
    code, out, err = run("validate", "--var", "mnth=June")
    assert code == 1
    assert out == ""
    assert err == (
        "--var mnth: the spec declares no variable 'mnth' (did you mean 'month'?); declare it "
        "under vars to override it\n"
        "1 problem found\n"
        # The same invocation: once `mnth` is declared (or the spec fixed), it passes.
        "hint: fix the spec and run `parafraim-build validate --var mnth=June` again\n"
    )


def test_var_override_keeps_the_declared_type(project_dir: Path) -> None:
    write(
        project_dir / "parafraim.yaml",
        'version: 1\nvars: {n: 3}\nvideos:\n  clip:\n    steps: ["{{ n + 1 }} scenes"]\n',
    )
    code, out, err = run("validate", "--json", "--var", "n=5")
    assert code == 0, err
    assert json.loads(out)["videos"]["clip"]["steps"][0]["message"] == "6 scenes"
    code, _, err = run("validate", "--var", "n=five")
    assert code == 1
    assert err.startswith("--var n=five: the spec declares it as a whole number (3)")


def test_long_lines_are_cut_around_the_problem(project_dir: Path) -> None:
    name = "x" * 5000 + "{{ nope }}" + "y" * 5000
    write(project_dir / "parafraim.yaml", f'version: 1\nvideos:\n  clip:\n    name: "{name}"\n')
    code, _, err = run("validate")
    assert code == 1
    shown, caret = err.splitlines()[1:3]
    assert len(shown) < 120
    assert shown.startswith("    ...x")
    assert shown.endswith("y...")
    assert shown[caret.index("^") : caret.index("^") + 4] == "nope"


def test_validate_bad_var_syntax_is_a_usage_error(project_dir: Path) -> None:
    code, _, err = run("validate", "--var", "novalue")
    assert code == 2
    assert "'novalue' is not KEY=VALUE" in err


def test_schema_prints_the_checked_in_schema() -> None:
    code, out, _ = run("schema")
    assert code == 0
    assert out == (REPO_ROOT / "schemas" / "parafraim.schema.json").read_text(encoding="utf-8")


def test_init_then_validate(project_dir: Path) -> None:
    code, out, _ = run("init", "demo")
    assert code == 0
    assert out.splitlines() == [
        "created demo/parafraim.yaml",
        "created demo/prompts/outro.md",
        "added .parafraim/, out/, parafraim.lock.lck to demo/.gitignore",
        "next: edit demo/parafraim.yaml, then run "
        "`parafraim-build validate -f demo/parafraim.yaml`",
    ]
    code, out, _ = run("validate", "-f", "demo/parafraim.yaml")
    assert code == 0
    assert "is valid: 1 video, 3 steps, 2 renders" in out


def test_init_refuses_to_overwrite(project_dir: Path) -> None:
    assert run("init")[0] == 0
    code, _, err = run("init")
    assert code == 1
    assert err.startswith("error: parafraim.yaml already exists; init never overwrites a file")


@pytest.mark.parametrize(
    ("command", "phrase"),
    [
        ("validate", "Check the spec offline"),
        ("schema", "Print the JSON Schema"),
        ("init", "Start a project in DIRECTORY"),
    ],
)
def test_help_of_every_command(command: str, phrase: str) -> None:
    code, out, _ = run(command, "--help")
    assert code == 0
    assert phrase in out


def test_version() -> None:
    code, out, _ = run("--version")
    assert code == 0
    assert __version__ in out

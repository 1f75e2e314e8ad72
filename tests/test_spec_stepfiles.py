"""Step files: read relative to the spec, templated, and never from outside its folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_spec_support import load, only_problem, problems

from parafraim_build.api.models import MESSAGE_MAX
from parafraim_build.spec.problems import ProblemCollector
from parafraim_build.spec.stepfiles import StepFile, StepFiles, check_relative_path


def spec_with_file(name: str) -> str:
    return (
        f"version: 1\nvars: {{brand: Acme}}\nvideos:\n  clip:\n    steps:\n      - file: {name}\n"
    )


def test_step_file_is_read_templated_and_trimmed(tmp_path: Path) -> None:
    files = {"prompts/outro.md": "\nEnd on the {{ brand }} logo\nfor {{ video }}.\n\n"}
    loaded = load(tmp_path, spec_with_file("prompts/outro.md"), files)
    assert loaded.videos["clip"].steps[0].message == "End on the Acme logo\nfor clip."


def test_step_file_path_is_templated(tmp_path: Path) -> None:
    spec = """\
    version: 1
    videos:
      intro-{{ lang }}:
        matrix: {lang: [en, de]}
        steps: [{file: "prompts/{{ lang }}.md"}]
    """
    files = {"prompts/en.md": "Hello.", "prompts/de.md": "Hallo."}
    loaded = load(tmp_path, spec, files)
    assert [v.steps[0].message for v in loaded.videos.values()] == ["Hello.", "Hallo."]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("/etc/passwd", "absolute step file paths are refused ('/etc/passwd')"),
        ("C:/Users/me/secret.txt", "absolute step file paths are refused"),
        ("../../.ssh/id_rsa", "the step file path '../../.ssh/id_rsa' leaves the spec's folder"),
        ("prompts/../../x.md", "the step file path 'prompts/../../x.md' leaves the spec's folder"),
        ("..", "the step file path '..' leaves the spec's folder"),
        ("~/.ssh/id_rsa", "step file paths are relative to the spec's folder; ~ is not expanded"),
        ('"prompts\\\\x.md"', "use / in step file paths, not \\"),
        ('""', "the step file path is empty"),
        ("x" * 256 + ".md", "a part of the step file path is longer than 255 bytes"),
        (
            '"prompts/a.md\\0"',
            "the step file path 'prompts/a.md\\x00' contains a control character",
        ),
        (".git/config", "the step file path '.git/config' goes through '.git': hidden files"),
        (".env", "the step file path '.env' goes through '.env': hidden files and folders"),
        ("./.env", "the step file path './.env' goes through '.env'"),
        ("prompts/../.parafraim/cache", "the step file path 'prompts/../.parafraim/cache' goes"),
        ("prompts/.secret.md", "the step file path 'prompts/.secret.md' goes through '.secret"),
        ("prompts/missing.md", "step file 'prompts/missing.md' does not exist (looked for "),
        ("prompts", "step file 'prompts' is not a regular file"),
    ],
)
def test_refused_step_file_paths(tmp_path: Path, name: str, message: str) -> None:
    files = {"prompts/ok.md": "fine"}
    problem = only_problem(tmp_path, spec_with_file(name), files)
    assert problem.message.startswith(message), problem.message
    assert (problem.line, problem.column) == (6, 15)
    assert problem.key_path == "videos.clip.steps[0].file"


def test_symlink_leaving_the_folder_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "outside" / "id_rsa"
    secret.parent.mkdir()
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY-----")
    project = tmp_path / "project"
    (project / "prompts").mkdir(parents=True)
    os.symlink(secret, project / "prompts" / "innocent.md")
    problem = only_problem(project, spec_with_file("prompts/innocent.md"))
    assert problem.message.startswith(
        "step file 'prompts/innocent.md' resolves through a symbolic link to"
    )
    assert "outside the spec's folder" in problem.message
    assert "BEGIN OPENSSH" not in problem.render()
    assert problem.line == 6


def test_symlinked_folder_leaving_the_spec_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "x.md").write_text("Hello.")
    project = tmp_path / "project"
    project.mkdir()
    os.symlink(tmp_path / "shared", project / "prompts")
    problem = only_problem(project, spec_with_file("prompts/x.md"))
    assert "resolves through a symbolic link" in problem.message


def test_checkout_secrets_are_never_read(tmp_path: Path) -> None:
    # What actions/checkout leaves in the workspace, and what a .env holds.
    token = "eC1hY2Nlc3MtdG9rZW46Z2hzX3NlY3JldHNlY3JldHNlY3JldA=="
    files = {
        ".git/config": f"[http]\n\textraheader = AUTHORIZATION: basic {token}\n",
        ".env": "PARAFRAIM_API_KEY=pfk_live_0123456789abcdef\n",
    }
    spec = spec_with_file(".git/config") + "      - file: .env\n"
    found = problems(tmp_path, spec, files)
    assert [(p.line, p.message.split(":")[0]) for p in found] == [
        (6, "the step file path '.git/config' goes through '.git'"),
        (7, "the step file path '.env' goes through '.env'"),
    ]
    rendered = "\n".join(p.render() for p in found)
    assert token not in rendered
    assert "pfk_live" not in rendered


def test_symlink_into_a_hidden_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("[core]\n")
    (tmp_path / "prompts").mkdir()
    os.symlink(tmp_path / ".git" / "config", tmp_path / "prompts" / "notes.md")
    problem = only_problem(tmp_path, spec_with_file("prompts/notes.md"))
    assert problem.message.startswith(
        "step file 'prompts/notes.md' resolves through a symbolic link into '.git': hidden"
    )


@pytest.mark.parametrize(
    ("content", "kind", "line"),
    [
        ("Say hi.\nkey: pfk_live_0123456789abcdef\n", "a Parafraim API key (pfk_...)", 2),
        (
            'extraheader = "AUTHORIZATION: basic eC1hY2Nlc3M6dG9rZW4="',
            "an HTTP Authorization header",
            1,
        ),
        ("x\n\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n", "a private key", 3),
        ("url = https://x-access-token:ghs_abc123@github.com/o/r", "a password in a URL", 1),
        ("token ghp_" + "a1B2" * 9, "a GitHub token", 1),
    ],
)
def test_step_file_holding_a_credential_is_refused_without_echoing_it(
    tmp_path: Path, content: str, kind: str, line: int
) -> None:
    problem = only_problem(tmp_path, spec_with_file("prompts/a.md"), {"prompts/a.md": content})
    assert problem.message == (
        f"step file 'prompts/a.md' looks like it holds {kind} (line {line}): it is refused so "
        "that the secret is never sent to the API; take it out of the file"
    )
    assert (problem.line, problem.key_path) == (6, "videos.clip.steps[0].file")
    secret_line = content.splitlines()[line - 1]
    assert secret_line not in problem.render()


def test_prompt_that_merely_mentions_key_prefixes_is_fine(tmp_path: Path) -> None:
    text = "Explain that keys start with pfk_ and go in the Authorization header."
    loaded = load(tmp_path, spec_with_file("prompts/a.md"), {"prompts/a.md": text})
    assert loaded.videos["clip"].steps[0].message == text


def test_symlink_loop_is_refused(tmp_path: Path) -> None:
    os.symlink(tmp_path / "b.md", tmp_path / "a.md")
    os.symlink(tmp_path / "a.md", tmp_path / "b.md")
    problem = only_problem(tmp_path, spec_with_file("a.md"))
    assert problem.message.startswith("step file 'a.md' cannot be resolved")
    assert problem.line == 6


def test_symlink_inside_the_folder_is_fine(tmp_path: Path) -> None:
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "real.md").write_text("Hello.")
    os.symlink(tmp_path / "prompts" / "real.md", tmp_path / "prompts" / "alias.md")
    loaded = load(tmp_path, spec_with_file("prompts/alias.md"))
    assert loaded.videos["clip"].steps[0].message == "Hello."


def test_binary_step_file_is_reported_in_the_step_file(tmp_path: Path) -> None:
    files = {"prompts/logo.md": b"ok\nPNG\x00\x01"}
    problem = only_problem(tmp_path, spec_with_file("prompts/logo.md"), files)
    assert problem.file.endswith("prompts/logo.md")
    assert (
        problem.message == "the step file is a binary file (it contains a NUL byte), not UTF-8 text"
    )
    assert (problem.line, problem.column) == (2, 4)


def test_non_utf8_step_file_is_reported_at_the_byte(tmp_path: Path) -> None:
    files = {"prompts/fr.md": "Première ligne\n".encode() + "Deuxième ligne".encode("latin-1")}
    problem = only_problem(tmp_path, spec_with_file("prompts/fr.md"), files)
    assert problem.file.endswith("prompts/fr.md")
    assert problem.message.startswith("the step file is not UTF-8 text (byte 0xe8")
    assert (problem.line, problem.column) == (2, 6)


def test_undefined_variable_in_a_step_file_names_the_file_and_line(tmp_path: Path) -> None:
    files = {"prompts/outro.md": "End on the logo.\nThen thank {{ audiance }}.\n"}
    spec = spec_with_file("prompts/outro.md").replace("brand: Acme", "audience: everyone")
    problem = only_problem(tmp_path, spec, files)
    assert problem.file.endswith("prompts/outro.md")
    assert problem.message.startswith("undefined variable 'audiance' (did you mean 'audience'?)")
    assert (problem.line, problem.column) == (2, 15)
    assert problem.source_line == "Then thank {{ audiance }}."
    assert problem.key_path == "videos.clip.steps[0].file"


def test_syntax_error_in_a_step_file_names_its_line(tmp_path: Path) -> None:
    files = {"prompts/a.md": "One.\nTwo.\n{% if brand %}Three.\n"}
    problem = only_problem(tmp_path, spec_with_file("prompts/a.md"), files)
    assert problem.file.endswith("prompts/a.md")
    assert problem.message.startswith("template syntax error")
    assert problem.line == 3


def test_empty_step_file_is_an_empty_message(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, spec_with_file("prompts/a.md"), {"prompts/a.md": "  \n\n"})
    assert problem.message == "the message from prompts/a.md is empty after templating"
    assert (problem.line, problem.column) == (6, 15)


def test_too_long_step_file_after_templating(tmp_path: Path) -> None:
    files = {"prompts/a.md": "{{ brand }}" + "x" * (MESSAGE_MAX - 3)}
    problem = only_problem(tmp_path, spec_with_file("prompts/a.md"), files)
    assert problem.message == (
        f"the message from prompts/a.md is {MESSAGE_MAX + 1} characters after templating; "
        f"the API takes at most {MESSAGE_MAX}"
    )
    assert problem.line == 6


def test_step_file_problems_and_spec_problems_in_one_run(tmp_path: Path) -> None:
    spec = spec_with_file("prompts/a.md") + "      - file: /etc/shadow\n      - Hi {{ nope }}\n"
    found = problems(tmp_path, spec, {"prompts/a.md": "{{ nope }}"})
    assert sorted((p.file.rsplit("/", 1)[-1], p.line) for p in found) == [
        ("a.md", 1),
        ("parafraim.yaml", 7),
        ("parafraim.yaml", 8),
    ]


def test_each_step_file_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("Hello.")
    files = StepFiles(tmp_path, "", ProblemCollector())
    first = files.read("a.md")
    (tmp_path / "a.md").write_text("Changed.")
    assert isinstance(first, StepFile)
    assert files.read("a.md") is first
    assert first.text == "Hello."


def test_display_path_follows_the_spec(tmp_path: Path) -> None:
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "a.md").write_text("Hi.")
    found = StepFiles(tmp_path, "examples/demo", ProblemCollector()).read("./prompts/a.md")
    assert isinstance(found, StepFile)
    assert found.source.display == "examples/demo/prompts/a.md"
    assert found.relative == "prompts/a.md"


@pytest.mark.parametrize("name", ["a.md", "prompts/a.md", "./a.md", "x/../a.md", "a.b/c..md"])
def test_relative_paths_inside_the_folder_pass_the_lexical_check(name: str) -> None:
    assert check_relative_path(name, "step file") is None

"""``load_spec`` end to end: the examples, outDir, display names, and a mutation fuzz test
proving that nothing but ``SpecError`` ever escapes, whatever the file holds."""

from __future__ import annotations

import importlib.util
import os
import random
import shutil
import tempfile
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO_ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_spec_support import MINIMAL, load, only_problem, write_project

from parafraim_build.errors import SpecError
from parafraim_build.spec import Spec, load_spec
from parafraim_build.spec.loader import display_name

EXAMPLE_SPECS = sorted(EXAMPLES.glob("*/parafraim.yaml"))


def test_there_are_at_least_three_examples() -> None:
    assert [path.parent.name for path in EXAMPLE_SPECS] == [
        "localised-recap",
        "product-launch",
        "social-clip",
    ]


@pytest.mark.parametrize("path", EXAMPLE_SPECS, ids=lambda p: p.parent.name)
def test_every_example_loads(path: Path) -> None:
    spec = load_spec(path)
    assert spec.path == path.resolve()
    assert spec.out_dir == path.resolve().parent / "out"
    assert spec.videos
    assert path.read_text().startswith(
        "# yaml-language-server: $schema=../../schemas/parafraim.schema.json\n"
    )


def test_product_launch_example_uses_the_template_by_name() -> None:
    spec = load_spec(EXAMPLES / "product-launch" / "parafraim.yaml")
    (video,) = spec.videos.values()
    assert video.template is not None
    assert video.template.name == "Product launch"
    assert len(video.steps) >= 3
    assert len(video.renders) >= 2


def test_recap_example_expands_a_language_matrix_from_the_template_id() -> None:
    spec = load_spec(EXAMPLES / "localised-recap" / "parafraim.yaml", variables={"month": "May"})
    assert list(spec.videos) == ["recap-en", "recap-de", "recap-ja"]
    for video in spec.videos.values():
        assert video.template is not None
        assert video.template.id == "00000000-0000-0000-0000-000000000007"
        assert "May" in video.steps[0].message
    assert "Japanese font" in spec.videos["recap-ja"].steps[2].message
    assert "Japanese font" not in spec.videos["recap-de"].steps[2].message


def test_social_clip_example_is_blank_vertical_from_prompt_files() -> None:
    spec = load_spec(EXAMPLES / "social-clip" / "parafraim.yaml")
    (video,) = spec.videos.values()
    assert video.template is None
    assert video.aspectRatio == "9:16"
    assert "30% off annual plans" in video.steps[1].message
    assert all(config.height > config.width for config in video.renders.values())


def test_key_order_in_the_yaml_does_not_change_the_spec(tmp_path: Path) -> None:
    first = """\
    version: 1
    videos:
      clip:
        name: Clip
        steps:
          - {message: Hi., selectedElement: {a: 1, b: 2}}
        renders: {hd: {width: 1280, height: 720}}
    """
    second = """\
    videos:
      clip:
        renders: {hd: {height: 720, width: 1280}}
        steps:
          - {selectedElement: {b: 2, a: 1}, message: Hi.}
        name: Clip
    version: 1
    """
    assert load(tmp_path / "a", first).canonical() == load(tmp_path / "b", second).canonical()


# ------------------------------------------------------------------ outDir


@pytest.mark.parametrize(
    ("out_dir", "expected"),
    [("build", "build"), ("./renders/final/", "renders/final"), ('"{{ brand }}-out"', "Acme-out")],
)
def test_out_dir_inside_the_folder(tmp_path: Path, out_dir: str, expected: str) -> None:
    spec = load(tmp_path, MINIMAL + f"vars: {{brand: Acme}}\noutDir: {out_dir}\n")
    assert spec.out_dir == tmp_path.resolve() / expected
    assert spec.canonical()["outDir"] == expected


@pytest.mark.parametrize(
    ("out_dir", "message"),
    [
        ("/tmp/elsewhere", "absolute outDir paths are refused ('/tmp/elsewhere')"),
        ("../out", "the outDir path '../out' leaves the spec's folder, which is refused"),
        (".", "outDir must be a folder inside the spec's folder, not the folder itself"),
        ('""', "the outDir path is empty"),
        ('"o\\0ut"', "the outDir path 'o\\x00ut' contains a control character"),
        (".git/out", "the outDir path '.git/out' goes through '.git': hidden files and folders"),
        ("build/.cache", "the outDir path 'build/.cache' goes through '.cache': hidden"),
        (".parafraim", "the outDir path '.parafraim' goes through '.parafraim': hidden"),
    ],
)
def test_out_dir_outside_the_folder_is_refused(tmp_path: Path, out_dir: str, message: str) -> None:
    problem = only_problem(tmp_path, MINIMAL + f"outDir: {out_dir}\n")
    assert problem.message.startswith(message)
    assert (problem.line, problem.column) == (5, 9)


def test_out_dir_template_problem_points_at_the_name(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, MINIMAL + 'outDir: "{{ nope }}"\n')
    assert problem.message.startswith("undefined variable 'nope'")
    assert (problem.line, problem.column) == (5, 13)


def test_out_dir_symlinked_into_a_hidden_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    os.symlink(tmp_path / ".git", tmp_path / "out")
    problem = only_problem(tmp_path, MINIMAL)
    assert problem.message.startswith(
        "outDir 'out' resolves through a symbolic link into '.git': hidden files and folders"
    )


@pytest.mark.parametrize("name", ["a\x00b.yaml", "dir\x00/parafraim.yaml"])
def test_a_path_with_a_nul_byte_is_a_spec_error(project_dir: Path, name: str) -> None:
    with pytest.raises(SpecError) as caught:
        load_spec(Path(name))
    (problem,) = caught.value.problems
    assert problem.message.startswith("the spec cannot be read: ")
    assert "null byte" in problem.message


def test_out_dir_in_a_symlink_loop_is_refused(tmp_path: Path) -> None:
    os.symlink(tmp_path / "b", tmp_path / "a")
    os.symlink(tmp_path / "a", tmp_path / "b")
    problem = only_problem(tmp_path, MINIMAL + "outDir: a\n")
    assert problem.message.startswith("outDir 'a' cannot be resolved")


def test_spec_in_a_symlink_loop_is_a_spec_error(tmp_path: Path) -> None:
    os.symlink(tmp_path / "b.yaml", tmp_path / "a.yaml")
    os.symlink(tmp_path / "a.yaml", tmp_path / "b.yaml")
    with pytest.raises(SpecError, match="the spec cannot be read"):
        load_spec(tmp_path / "a.yaml")


def test_spec_reached_through_a_symlink_reads_files_beside_its_target(tmp_path: Path) -> None:
    spec = MINIMAL.replace("[Say hello.]", "[{file: prompts/a.md}]")
    write_project(tmp_path / "real", spec, {"prompts/a.md": "From the real folder."})
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "real" / "parafraim.yaml", tmp_path / "elsewhere" / "parafraim.yaml")
    loaded = load_spec(tmp_path / "elsewhere" / "parafraim.yaml")
    assert loaded.path == (tmp_path / "real" / "parafraim.yaml").resolve()
    assert loaded.videos["clip"].steps[0].message == "From the real folder."


def test_out_dir_symlinked_outside_is_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    project = tmp_path / "project"
    project.mkdir()
    os.symlink(tmp_path / "elsewhere", project / "out")
    problem = only_problem(project, MINIMAL)
    assert problem.message.startswith("outDir 'out' resolves through a symbolic link to")


# ------------------------------------------------------------------ display names


def test_problems_name_the_spec_as_given_relative_to_the_working_directory(
    project_dir: Path,
) -> None:
    write_project(project_dir / "videos", MINIMAL + "oops: 1\n")
    with pytest.raises(SpecError) as caught:
        load_spec(Path("videos/parafraim.yaml"))
    assert caught.value.problems[0].file == "videos/parafraim.yaml"
    with pytest.raises(SpecError) as caught:
        load_spec(project_dir / "videos" / "parafraim.yaml")
    assert caught.value.problems[0].file == "videos/parafraim.yaml"


def test_step_files_are_named_next_to_the_spec(project_dir: Path) -> None:
    spec = MINIMAL.replace("[Say hello.]", "[{file: prompts/a.md}]")
    write_project(project_dir / "videos", spec, {"prompts/a.md": "{{ nope }}"})
    with pytest.raises(SpecError) as caught:
        load_spec(Path("videos/parafraim.yaml"))
    assert caught.value.problems[0].file == "videos/prompts/a.md"


def test_display_name_outside_the_working_directory_stays_absolute(project_dir: Path) -> None:
    outside = Path(tempfile.gettempdir()).resolve() / "somewhere-else" / "parafraim.yaml"
    assert display_name(outside) == str(outside)
    assert display_name(Path("a/b.yaml")) == "a/b.yaml"


# ------------------------------------------------------------------ fuzz


def _mutate(text: str, rng: random.Random) -> str:
    """One random edit of the kind a typo, a bad merge or a corrupted file makes."""
    lines = text.splitlines(keepends=True) or [""]
    choice = rng.randrange(9)
    position = rng.randrange(len(text) + 1)
    junk = rng.choice(
        [":", "- ", "{", "}", "[", "]", "{{", "}}", "{%", "\t", "&a", "*a", "!!", '"', "'",
         "\x00", "\ufeff", "#", "|", ">", "?", "<<: ", "null", "1e400", "-1", "99999",
         "\n  ", "\n", "…", "{{ x }}", "{{ ''.__class__ }}", "../", "/etc/passwd"]
    )  # fmt: skip
    if choice == 0:
        return text[:position] + junk + text[position:]
    if choice == 1:
        end = min(len(text), position + rng.randrange(1, 40))
        return text[:position] + text[end:]
    if choice == 2 and len(lines) > 1:
        index = rng.randrange(len(lines))
        return "".join([*lines[:index], lines[index], *lines[index:]])
    if choice == 3 and len(lines) > 1:
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
        return "".join(lines)
    if choice == 4:
        index = rng.randrange(len(lines))
        return "".join(lines[:index] + lines[index + 1 :])
    if choice == 5:
        index = rng.randrange(len(lines))
        lines[index] = " " * rng.randrange(1, 4) + lines[index]
        return "".join(lines)
    if choice == 6:
        return text[:position] + chr(rng.randrange(0x20, 0x250)) + text[position:]
    if choice == 7:
        return text[: rng.randrange(len(text) + 1)]
    index = rng.randrange(len(lines))
    lines[index] = lines[index].replace(":", rng.choice(["", "::", ": :", ":\n"]), 1)
    return "".join(lines)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    example=st.sampled_from(EXAMPLE_SPECS),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    edits=st.integers(min_value=1, max_value=4),
)
def test_mutated_examples_give_a_spec_or_a_spec_error(example: Path, seed: int, edits: int) -> None:
    rng = random.Random(seed)
    text = example.read_text(encoding="utf-8")
    for _ in range(edits):
        text = _mutate(text, rng)
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder) / "project"
        shutil.copytree(example.parent, project)
        (project / "parafraim.yaml").write_bytes(text.encode("utf-8", errors="surrogatepass"))
        outcome: Spec | SpecError
        try:
            outcome = load_spec(project / "parafraim.yaml")
        except SpecError as error:
            outcome = error
    if isinstance(outcome, SpecError):
        assert outcome.problems
        assert all(problem.message and problem.render() for problem in outcome.problems)
    else:
        assert outcome.videos
        assert outcome.canonical()["videos"]


def test_the_benchmark_spec_expands_to_a_thousand_valid_videos(tmp_path: Path) -> None:
    loader = importlib.util.spec_from_file_location(
        "bench_validate", REPO_ROOT / "bench" / "bench_validate.py"
    )
    assert loader is not None
    assert loader.loader is not None
    bench = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(bench)
    spec = load_spec(bench.write_spec(tmp_path, 1000))
    assert len(spec.videos) == 1000
    video = spec.videos["ad-l3-m7-short"]
    assert video.steps[2].message == "Cut the video to 15 seconds."
    assert video.steps[3].message.startswith('End on the Northwind logo with the line "Autumn')
    assert list(video.renders) == ["hd", "teaser", "square"]
    assert video.renders["teaser"].fps == 24

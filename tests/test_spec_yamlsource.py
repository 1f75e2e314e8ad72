"""YAML with positions: unreadable files, syntax errors, duplicate keys, tags, merges."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from test_spec_support import MINIMAL, load, only_problem, problems, write_project

from parafraim_build.errors import SpecError
from parafraim_build.spec import load_spec
from parafraim_build.spec.problems import ProblemCollector
from parafraim_build.spec.source import SourceText
from parafraim_build.spec.yamlsource import MAX_DEPTH, parse_yaml


def test_empty_file(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, "")
    assert problem.message.startswith("the spec is empty")
    assert problem.line is None
    assert problem.file.endswith("parafraim.yaml")


def test_file_of_only_comments_is_empty(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, "# nothing here yet\n\n# still nothing\n")
    assert problem.message.startswith("the spec is empty")


def test_binary_file_names_the_nul_byte(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, b"version: 1\nvid\x00eos: {}\n")
    assert "binary file" in problem.message
    assert (problem.line, problem.column) == (2, 4)


def test_invalid_utf8_names_the_byte(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, b"version: 1\nvideos:\n  caf\xe9: {}\n")
    assert "not UTF-8 text (byte 0xe9" in problem.message
    assert (problem.line, problem.column) == (3, 6)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = write_project(tmp_path, b"\xef\xbb\xbf" + MINIMAL.encode())
    assert list(load_spec(path).videos) == ["clip"]


def test_syntax_error_is_located(tmp_path: Path) -> None:
    spec = """\
    version: 1
    videos:
      clip:
        steps: [Say hello, Say goodbye
        renders: {}
    """
    problem = only_problem(tmp_path, spec)
    assert problem.message.startswith("YAML syntax error:")
    assert problem.line == 5
    assert problem.source_line == "    renders: {}"


@pytest.mark.parametrize(
    ("spec", "line", "column", "shown"),
    [
        # An unclosed flow mapping on the last line, with and without a final newline.
        ('version: 1\nvideos:\n  a: {steps: ["x"]\n', 3, 19, '  a: {steps: ["x"]'),
        ('version: 1\nvideos:\n  a: {steps: ["x"]', 3, 19, '  a: {steps: ["x"]'),
        # An unclosed quote on the last line.
        ('version: 1\nvideos:\n  a:\n    steps: ["unclosed\n', 4, 22, '    steps: ["unclosed'),
        # An unclosed bracket followed by blank lines: the last line that has text.
        ("version: 1\nvideos: [\n\n   \n", 2, 10, "videos: ["),
    ],
)
def test_a_syntax_error_at_the_end_of_the_file_shows_the_last_line_and_a_caret(
    tmp_path: Path, spec: str, line: int, column: int, shown: str
) -> None:
    problem = only_problem(tmp_path, spec)
    assert problem.message.startswith("YAML syntax error at the end of the file: ")
    assert (problem.line, problem.column) == (line, column)
    assert problem.source_line == shown
    # The caret sits just after the last character written.
    text, caret = problem.render().splitlines()[1:3]
    assert text == "    " + shown
    assert caret == "    " + " " * len(shown) + "^"
    # A context mark past the text names a line that exists, too.
    assert f"at line {len(spec.splitlines()) + 1})" not in problem.message


def test_a_syntax_error_inside_the_file_is_not_said_to_be_at_its_end(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, "version: 1\nvideos:\n  a:\n    steps: [x\n  b: 1\n")
    assert problem.message.startswith("YAML syntax error: ")
    assert (problem.line, problem.source_line) == (5, "  b: 1")


def test_template_at_start_of_flow_item_is_a_syntax_error_with_its_line(tmp_path: Path) -> None:
    # The classic trap: an unquoted {{ ... }} inside [...] is read as a nested mapping.
    spec = """\
    version: 1
    videos:
      clip:
        steps: [Translate every text to {{ lang }}.]
    """
    problem = only_problem(tmp_path, spec)
    assert problem.message.startswith("YAML syntax error")
    assert (problem.line, problem.column) == (4, 37)


def test_tab_indentation_gets_a_hint(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, "version: 1\nvideos:\n\tclip: {}\n")
    assert "tabs are not allowed for indentation" in problem.message
    assert problem.line == 3


def test_control_character_is_located(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, "version: 1\nvideos:\n  clip:\n    name: a\x07b\n")
    assert problem.message.startswith("YAML cannot read this file")
    assert (problem.line, problem.column) == (4, 12)


def test_second_document_is_refused(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, MINIMAL + "---\nversion: 1\n")
    assert "single YAML document" in problem.message
    assert problem.line == 5


def test_duplicate_top_level_key(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, MINIMAL + "version: 1\n")
    assert problem.message.startswith("duplicate key 'version': it is already set at line 1")
    assert (problem.line, problem.column) == (5, 1)
    assert problem.key_path == "version"


def test_duplicate_video_key(tmp_path: Path) -> None:
    spec = MINIMAL + "  clip:\n    steps: [Again.]\n"
    problem = only_problem(tmp_path, spec)
    assert problem.message.startswith("duplicate key 'clip': it is already set at line 3")
    assert (problem.line, problem.column) == (5, 3)
    assert problem.key_path == "videos.clip"


def test_duplicate_key_deep_inside_a_list(tmp_path: Path) -> None:
    spec = """\
    version: 1
    videos:
      clip:
        steps:
          - message: First.
            selectedElement: {selector: "#a", selector: "#b"}
    """
    problem = only_problem(tmp_path, spec)
    assert problem.message.startswith("duplicate key 'selector'")
    assert (problem.line, problem.column) == (6, 43)
    assert problem.key_path == "videos.clip.steps[0].selectedElement.selector"


def test_every_duplicate_is_reported(tmp_path: Path) -> None:
    spec = """\
    version: 1
    videos:
      clip:
        name: a
        name: b
        renders:
          hd: {width: 1920, width: 1280}
    """
    found = problems(tmp_path, spec)
    assert [(p.line, p.key_path) for p in found] == [
        (5, "videos.clip.name"),
        (7, "videos.clip.renders.hd.width"),
    ]


def test_python_tags_are_refused(tmp_path: Path) -> None:
    spec = MINIMAL + "vars: {x: !!python/object/apply:os.system [echo hi]}\n"
    problem = only_problem(tmp_path, spec)
    assert problem.message == "unsupported YAML tag tag:yaml.org,2002:python/object/apply:os.system"
    assert (problem.line, problem.column) == (5, 11)


def test_binary_tag_is_refused(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, MINIMAL + "vars: {x: !!binary aGk=}\n")
    assert problem.message == "unsupported YAML tag tag:yaml.org,2002:binary"
    assert problem.line == 5


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 9):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 10)}]")
    spec = "version: 1\nvars:\n" + "".join(f"  {line}\n" for line in lines)
    problem = only_problem(tmp_path, spec)
    assert problem.message.startswith("the document is too large: it expands to 1234567913 values")
    assert (problem.line, problem.column) == (1, 1)


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, MINIMAL + "vars: &loop {x: *loop}\n")
    assert problem.message.startswith("the document is too large: it nests deeper than")


def test_deep_nesting_is_refused() -> None:
    collector = ProblemCollector()
    text = "a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n"
    assert parse_yaml(SourceText.from_text("deep.yaml", text), text, collector) is None
    (problem,) = collector.problems()
    assert f"it nests deeper than {MAX_DEPTH} levels" in problem.message
    assert problem.line == 1


def test_merge_keys_are_applied_and_explicit_keys_win(tmp_path: Path) -> None:
    spec = """\
    version: 1
    defaults:
      renders:
        hd: &hd {width: 1280, height: 720, fps: 25}
    videos:
      clip:
        steps: [Say hello.]
        renders:
          big:
            <<: *hd
            width: 1920
            height: 1080
    """
    big = load(tmp_path, spec).videos["clip"].renders["big"]
    assert (big.width, big.height, big.fps) == (1920, 1080, 25)


def test_merge_of_a_scalar_is_refused(tmp_path: Path) -> None:
    spec = MINIMAL + "vars:\n  <<: 5\n"
    problem = only_problem(tmp_path, spec)
    assert problem.message.startswith("`<<` merges only mappings")
    assert problem.line == 6


def test_complex_key_is_refused(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, MINIMAL + "vars:\n  ? [a, b]\n  : c\n")
    assert problem.message == "a key must be plain text, not a list or map"
    assert problem.line == 6


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, "- version: 1\n")
    assert problem.message.startswith("a spec is a mapping")
    assert (problem.line, problem.column) == (1, 1)


def test_missing_spec_file_suggests_init(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as caught:
        load_spec(tmp_path / "parafraim.yaml")
    (problem,) = caught.value.problems
    # A spec outside the working folder: `init` is told where to start it.
    assert problem.message == "the spec does not exist"
    assert problem.line is None
    assert caught.value.hint == (
        f"run `parafraim-build init {shlex.quote(str(tmp_path))}` to start one, or pass -f SPEC"
    )


def test_folder_instead_of_a_file(tmp_path: Path) -> None:
    (tmp_path / "parafraim.yaml").mkdir()
    with pytest.raises(SpecError) as caught:
        load_spec(tmp_path / "parafraim.yaml")
    assert [p.message for p in caught.value.problems] == ["the spec is a folder, not a file"]


def test_dates_and_numbers_keep_their_yaml_types(tmp_path: Path) -> None:
    spec = """\
    version: 1
    vars: {day: 2024-10-14, count: 0x10, ratio: 1.5}
    videos:
      clip:
        steps:
          - On {{ day }}, {{ count + 1 }} {{ ratio * 2 }}
    """
    (step,) = load(tmp_path, spec).videos["clip"].steps
    assert step.message == "On 2024-10-14, 17 3.0"


def test_report_locates_a_value_or_its_key() -> None:
    source = SourceText.from_text("s.yaml", "videos:\n  clip:\n    name: 5\n")
    collector = ProblemCollector()
    doc = parse_yaml(source, "videos:\n  clip:\n    name: 5\n", collector)
    assert doc is not None
    doc.report(collector, ("videos", "clip", "name"), "on the value")
    doc.report(collector, ("videos", "clip", "name"), "on the key", on_key=True, video="v")
    doc.report(collector, ("videos", "clip", "missing"), "nearest ancestor")
    assert [(p.line, p.column, p.message, p.key_path) for p in collector.problems()] == [
        (3, 5, "on the key [in video v]", "videos.clip.name"),
        (3, 5, "nearest ancestor", "videos.clip.missing"),
        (3, 11, "on the value", "videos.clip.name"),
    ]
    assert doc.position(("nowhere",)) == doc.position(())

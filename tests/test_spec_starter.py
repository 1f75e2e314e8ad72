"""``init``: writes a starter that validates, appends .gitignore lines, never overwrites."""

from __future__ import annotations

from pathlib import Path

import pytest

from parafraim_build.errors import BuildError
from parafraim_build.spec import load_spec
from parafraim_build.spec.starter import GITIGNORE_LINES, InitError, init_project, starter_text


def test_starter_is_written_and_validates(tmp_path: Path) -> None:
    result = init_project(tmp_path / "new")
    assert [p.relative_to(tmp_path / "new").as_posix() for p in result.created] == [
        "parafraim.yaml",
        "prompts/outro.md",
    ]
    assert result.gitignore_added == GITIGNORE_LINES
    spec = load_spec(tmp_path / "new" / "parafraim.yaml")
    (video,) = spec.videos.values()
    assert video.name == "Acme Rocket teaser"
    assert "Acme logo" in video.steps[-1].message
    assert list(video.renders) == ["hd", "preview"]


def test_starter_is_commented() -> None:
    text = starter_text("parafraim.yaml")
    comments = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    assert len(comments) >= 10
    assert "parafraim-build validate" in text


def test_refuses_to_overwrite_the_spec(tmp_path: Path) -> None:
    (tmp_path / "parafraim.yaml").write_text("mine")
    with pytest.raises(InitError, match=r"parafraim\.yaml already exists"):
        init_project(tmp_path)
    assert (tmp_path / "parafraim.yaml").read_text() == "mine"
    assert not (tmp_path / "prompts").exists()
    assert not (tmp_path / ".gitignore").exists()


def test_refuses_to_overwrite_a_prompt_file(tmp_path: Path) -> None:
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "outro.md").write_text("mine")
    with pytest.raises(InitError, match=r"prompts/outro\.md already exists"):
        init_project(tmp_path)
    assert not (tmp_path / "parafraim.yaml").exists()
    assert (tmp_path / "prompts" / "outro.md").read_text() == "mine"


def test_refuses_a_file_as_the_folder(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("")
    with pytest.raises(InitError, match="is not a folder"):
        init_project(tmp_path / "x")


def test_existing_gitignore_gains_only_missing_lines(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("node_modules/\n.parafraim/")
    result = init_project(tmp_path)
    assert result.gitignore_added == ("out/", "parafraim.lock.lck")
    assert (tmp_path / ".gitignore").read_text() == (
        "node_modules/\n.parafraim/\n\n# parafraim-build: local state and build outputs\nout/\n"
        "parafraim.lock.lck\n"
    )


def test_gitignore_ignores_the_lock_files_lock_but_not_the_lock(tmp_path: Path) -> None:
    # filelock leaves parafraim.lock.lck behind after apply; parafraim.lock is committed.
    init_project(tmp_path)
    lines = (tmp_path / ".gitignore").read_text().splitlines()
    assert "parafraim.lock.lck" in lines
    assert ".parafraim/" in lines
    assert "parafraim.lock" not in lines


def test_init_errors_are_build_errors_of_their_own() -> None:
    assert issubclass(InitError, BuildError)
    assert InitError is not BuildError


def test_gitignore_already_complete_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("out/\n.parafraim/\nparafraim.lock.lck\n")
    assert init_project(tmp_path).gitignore_added == ()
    assert (tmp_path / ".gitignore").read_text() == "out/\n.parafraim/\nparafraim.lock.lck\n"


def test_the_starters_selection_names_the_scene_its_message_edits() -> None:
    # "Make the headline of the first scene ..." selects the first scene's heading, so the
    # local engine's editor changes exactly what was selected.
    text = starter_text("parafraim.yaml")
    assert 'selectedElements: [{selector: "#scene-1 h1"}]' in text
    assert "Create a 20 second teaser" in text
    assert "three short scenes" in text
    assert starter_text("prompts/outro.md").startswith("Turn the last scene into a five second")

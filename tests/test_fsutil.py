"""Atomic, durable writes: the old file or the new one, never half, and no leftovers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from parafraim_build.fsutil import atomic_write_bytes, atomic_write_text, fsync_directory


def test_a_write_replaces_the_file_whole_and_leaves_nothing_beside_it(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_bytes(b"old")
    atomic_write_bytes(target, b"new content")
    assert target.read_bytes() == b"new content"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_text_is_utf8_with_newlines_kept(tmp_path: Path) -> None:
    target = tmp_path / "parafraim.lock"
    atomic_write_text(target, "a: é\nb: 1\n")
    assert target.read_bytes() == "a: é\nb: 1\n".encode()


def test_a_failed_write_keeps_the_old_file_and_removes_its_temporary(tmp_path: Path) -> None:
    target = tmp_path / "dir-in-the-way"
    target.mkdir()
    (target / "inside").write_text("x")
    with pytest.raises(IsADirectoryError):
        atomic_write_bytes(target, b"new")  # a non-empty folder cannot be replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir-in-the-way"]


def test_the_temporary_name_can_be_chosen_for_sweepers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    real_replace = os.replace

    def spying_replace(src: str, dst: Path) -> None:
        seen.append(Path(src).name)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spying_replace)
    atomic_write_bytes(tmp_path / "t.json", b"{}", prefix=".tmp-t.json.", suffix="")
    atomic_write_text(tmp_path / "parafraim.lock", "x")
    assert seen[0].startswith(".tmp-t.json.")
    assert seen[1].startswith(".parafraim.lock.")
    assert seen[1].endswith(".tmp")


def test_fsync_of_a_missing_folder_is_harmless(tmp_path: Path) -> None:
    fsync_directory(tmp_path / "missing")
    fsync_directory(tmp_path)

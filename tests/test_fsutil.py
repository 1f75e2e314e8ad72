"""Atomic, durable writes: the old file or the new one, never half, and no leftovers."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from parafraim_build.errors import LocalWriteError
from parafraim_build.fsutil import (
    atomic_write_bytes,
    atomic_write_text,
    copy_hashing,
    fsync_directory,
    new_file_mode,
    replace_into,
)


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


def test_a_copy_is_hashed_into_a_hidden_temporary_then_put_in_place(tmp_path: Path) -> None:
    dest = tmp_path / "out" / "v" / "hd.mp4"
    temp, digest, size = copy_hashing(io.BytesIO(b"x" * 3_000_000), dest)
    assert (temp.parent, temp.name[:8], temp.suffix) == (dest.parent, ".hd.mp4.", ".tmp")
    assert (digest, size) == (hashlib.sha256(b"x" * 3_000_000).hexdigest(), 3_000_000)
    replace_into(temp, dest)
    assert dest.read_bytes() == b"x" * 3_000_000
    assert [p.name for p in dest.parent.iterdir()] == ["hd.mp4"]


def test_a_copy_that_cannot_be_written_names_the_target_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    (tmp_path / "out").write_bytes(b"a file where the folder goes")
    with pytest.raises(LocalWriteError, match=r"cannot write .*out/v/hd\.mp4"):
        copy_hashing(io.BytesIO(b"data"), tmp_path / "out" / "v" / "hd.mp4")
    dest = tmp_path / "v" / "hd.mp4"
    temp, _, _ = copy_hashing(io.BytesIO(b"data"), dest)
    (dest / "inside").mkdir(parents=True)  # a folder in the file's place
    with pytest.raises(LocalWriteError, match=r"cannot write .*v/hd\.mp4"):
        replace_into(temp, dest)
    assert sorted(p.name for p in dest.parent.iterdir()) == ["hd.mp4"]


class _Unreadable(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def readinto(self, buffer: object) -> int:
        raise OSError(5, "Input/output error")


def test_a_source_that_cannot_be_read_is_not_a_write_error(tmp_path: Path) -> None:
    # The caller knows what the source is (the run cache, an output's old place).
    with pytest.raises(OSError, match="Input/output error") as info:
        copy_hashing(io.BufferedReader(_Unreadable()), tmp_path / "hd.mp4")
    assert not isinstance(info.value, LocalWriteError)
    assert list(tmp_path.iterdir()) == []


def ordinary_mode(folder: Path) -> int:
    """The mode a file written the ordinary way gets here (like a download's)."""
    reference = folder / "reference"
    reference.write_bytes(b"")
    mode = reference.stat().st_mode & 0o777
    reference.unlink()
    return mode


def test_written_and_copied_files_get_the_mode_of_an_ordinary_new_file(tmp_path: Path) -> None:
    expected = ordinary_mode(tmp_path)
    assert new_file_mode() == expected == 0o666 & ~_umask()
    atomic_write_text(tmp_path / "parafraim.lock", "x")
    dest = tmp_path / "hd.mp4"
    temp, _, _ = copy_hashing(io.BytesIO(b"data"), dest)
    replace_into(temp, dest)
    for path in (tmp_path / "parafraim.lock", dest):
        assert path.stat().st_mode & 0o777 == expected, path.name


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current

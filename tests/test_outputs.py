"""Observing output files: paths, checksums, the stat memo, removal."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from parafraim_build.api.models import RenderConfig
from parafraim_build.errors import BuildError
from parafraim_build.lock_model import BlankSource, Lock, RenderRecord
from parafraim_build.outputs import (
    FileStamp,
    MemoryHashMemo,
    OutputState,
    expected_outputs,
    observe_file,
    observe_outputs,
    output_relpath,
    remove_output,
    resolve_output,
    sha256_file,
)
from parafraim_build.spec.models import Spec, Video

SECOND = 1_000_000_000


def make_spec(root: Path, out_dir: Path | None = None) -> Spec:
    video = Video(
        key="launch",
        name="Launch",
        renders={"hd": RenderConfig(), "teaser": RenderConfig(format="gif", width=480, height=270)},
    )
    return Spec(
        path=root / "parafraim.yaml",
        out_dir=out_dir if out_dir is not None else root / "out",
        videos={"launch": video},
    )


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_output_paths_are_relative_to_the_spec_folder(tmp_path: Path) -> None:
    spec = make_spec(tmp_path)
    assert output_relpath(spec, "launch", "hd") == "out/launch/hd.mp4"
    assert expected_outputs(spec) == ["out/launch/hd.mp4", "out/launch/teaser.gif"]
    assert resolve_output(tmp_path, "out/launch/hd.mp4") == tmp_path / "out" / "launch" / "hd.mp4"


@pytest.mark.parametrize(
    "relpath", ["../victim.txt", "out/../../victim.txt", "/etc/passwd", ".git/config", ""]
)
def test_a_path_outside_the_spec_folder_is_refused(tmp_path: Path, relpath: str) -> None:
    root = tmp_path / "project"
    write(tmp_path / "victim.txt", b"keep me")
    with pytest.raises(BuildError, match="refusing output"):
        resolve_output(root, relpath)
    with pytest.raises(BuildError, match="refusing output"):
        remove_output(root, relpath)
    assert (tmp_path / "victim.txt").read_bytes() == b"keep me"


def test_a_symbolic_link_out_of_the_spec_folder_is_never_followed(tmp_path: Path) -> None:
    root = tmp_path / "project"
    elsewhere = write(tmp_path / "elsewhere" / "launch" / "hd.mp4", b"not ours")
    (root / "out").mkdir(parents=True)
    (root / "out" / "launch").symlink_to(elsewhere.parent, target_is_directory=True)
    with pytest.raises(BuildError, match="symbolic link"):
        remove_output(root, "out/launch/hd.mp4")
    (root / "out" / "teaser.mp4").symlink_to(elsewhere)
    with pytest.raises(BuildError, match="symbolic link"):
        resolve_output(root, "out/teaser.mp4")
    assert elsewhere.read_bytes() == b"not ours"


def test_a_file_changed_since_it_was_made_is_kept(tmp_path: Path) -> None:
    made = write(tmp_path / "out/v/a.mp4", b"made by apply")
    digest = hashlib.sha256(b"made by apply").hexdigest()
    made.write_bytes(b"edited by hand")
    assert remove_output(tmp_path, "out/v/a.mp4", sha256=digest, size=13) == "kept"
    assert made.read_bytes() == b"edited by hand"
    made.write_bytes(b"made by apply")
    assert remove_output(tmp_path, "out/v/a.mp4", sha256=digest, size=13) == "removed"
    assert not made.exists()


def test_a_relative_out_dir_is_relative_to_the_spec(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, out_dir=Path("videos"))
    assert output_relpath(spec, "launch", "teaser") == "videos/launch/teaser.gif"


def test_sha256_file_matches_hashlib(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)  # several read chunks
    path = write(tmp_path / "big.bin", data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()


def test_a_missing_output_and_a_folder_in_its_place_do_not_exist(tmp_path: Path) -> None:
    assert observe_file(tmp_path, "out/a.mp4") == OutputState("out/a.mp4", exists=False)
    (tmp_path / "out" / "b.mp4").mkdir(parents=True)
    assert observe_file(tmp_path, "out/b.mp4") == OutputState("out/b.mp4", exists=False)


def test_an_output_is_hashed(tmp_path: Path) -> None:
    write(tmp_path / "out/a.mp4", b"video bytes")
    state = observe_file(tmp_path, "out/a.mp4")
    assert state == OutputState(
        "out/a.mp4", exists=True, size=11, sha256=hashlib.sha256(b"video bytes").hexdigest()
    )
    assert state.matches(state.sha256 or "", 11)
    assert not state.matches(state.sha256 or "", 12)
    assert not OutputState("x", exists=False).matches("s", 0)


def test_an_unchanged_file_is_not_hashed_again(tmp_path: Path) -> None:
    path = write(tmp_path / "out/a.mp4", b"one")
    stat = path.stat()
    memo = MemoryHashMemo()
    old = stat.st_mtime_ns + 10 * SECOND
    first = observe_file(tmp_path, "out/a.mp4", memo=memo, clock=lambda: old)
    key = str(path.resolve())
    assert memo.stamps[key] == FileStamp(stat.st_ino, 3, stat.st_mtime_ns, first.sha256 or "")
    # Poison the memo: if the file were read again, the real hash would come back.
    memo.stamps[key] = FileStamp(stat.st_ino, 3, stat.st_mtime_ns, "remembered")
    assert observe_file(tmp_path, "out/a.mp4", memo=memo, clock=lambda: old).sha256 == "remembered"


def test_a_changed_stat_means_hashing_again(tmp_path: Path) -> None:
    path = write(tmp_path / "out/a.mp4", b"one")
    memo = MemoryHashMemo()
    stat = path.stat()
    memo.stamps[str(path.resolve())] = FileStamp(stat.st_ino, 3, stat.st_mtime_ns, "stale")
    path.write_bytes(b"three")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + SECOND))
    state = observe_file(tmp_path, "out/a.mp4", memo=memo, clock=lambda: 0)
    assert state.sha256 == hashlib.sha256(b"three").hexdigest()


def test_a_file_written_just_now_is_not_remembered(tmp_path: Path) -> None:
    path = write(tmp_path / "out/a.mp4", b"fresh")
    mtime = path.stat().st_mtime_ns
    memo = MemoryHashMemo()
    observe_file(tmp_path, "out/a.mp4", memo=memo, clock=lambda: mtime + SECOND)
    assert memo.stamps == {}
    observe_file(tmp_path, "out/a.mp4", memo=memo, clock=lambda: mtime + 3 * SECOND)
    assert list(memo.stamps) == [str(path.resolve())]


def test_observe_outputs_covers_declared_and_locked_paths(tmp_path: Path) -> None:
    spec = make_spec(tmp_path)
    write(tmp_path / "out/launch/hd.mp4", b"hd")
    write(tmp_path / "out/old/x.mp4", b"old")
    lock = Lock.new("https://parafraim.com", "acc").record_project(
        "old",
        project_id="p",
        source=BlankSource(aspectRatio="16:9"),
        name="old",
        description=None,
        initial_composition_sha256="c",
    )
    lock = lock.record_render(
        "old", "x", RenderRecord(key="k", path="out/old/x.mp4", sha256="s", size=3)
    )
    states = observe_outputs(spec, lock, extra=["elsewhere/y.gif"])
    assert list(states) == [
        "elsewhere/y.gif",
        "out/launch/hd.mp4",
        "out/launch/teaser.gif",
        "out/old/x.mp4",
    ]
    assert states["out/launch/hd.mp4"].exists
    assert not states["out/launch/teaser.gif"].exists
    assert states["out/old/x.mp4"].size == 3
    assert set(observe_outputs(spec, None)) == {"out/launch/hd.mp4", "out/launch/teaser.gif"}


def test_remove_output_deletes_the_file_and_an_emptied_folder(tmp_path: Path) -> None:
    write(tmp_path / "out/v/a.mp4", b"a")
    write(tmp_path / "out/v/b.mp4", b"b")
    assert remove_output(tmp_path, "out/v/a.mp4") == "removed"
    assert (tmp_path / "out/v").is_dir()  # b is still there
    assert remove_output(tmp_path, "out/v/b.mp4") == "removed"
    assert not (tmp_path / "out/v").exists()
    assert remove_output(tmp_path, "out/v/b.mp4") == "missing"


def test_an_unreadable_output_is_a_build_error(tmp_path: Path) -> None:
    loop = tmp_path / "out" / "a.mp4"
    loop.parent.mkdir()
    loop.symlink_to(loop)  # stat fails with ELOOP: not "missing", a real failure
    with pytest.raises(BuildError, match="cannot read output"):
        observe_file(tmp_path, "out/a.mp4")

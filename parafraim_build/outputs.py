"""The observed state of output files: exists, size, sha256 (the planner's view of the disk).

Hashing a large video on every ``plan`` would be slow, so, like DVC's state database, a file's
checksum is remembered against its stat (inode, size, mtime in ns) and reused while the stat is
unchanged. A file modified within the last two seconds is hashed but not remembered: its mtime
may not yet tell a later write apart (git's "racy" problem).

Output paths in the lock are relative to the spec's folder and use ``/``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal, Protocol

from parafraim_build.errors import BuildError
from parafraim_build.lock_model import Lock, PendingRender, check_output_path
from parafraim_build.spec.models import Spec

_CHUNK = 1 << 20
_RACY_NS = 2_000_000_000


@dataclass(frozen=True)
class OutputState:
    """One output file as found on disk; ``size``/``sha256`` are None when it is missing."""

    path: str
    exists: bool
    size: int | None = None
    sha256: str | None = None

    def matches(self, sha256: str, size: int) -> bool:
        """The file is there and is exactly the recorded one."""
        return self.exists and self.sha256 == sha256 and self.size == size


@dataclass(frozen=True)
class FileStamp:
    """What a file's stat looked like when it was hashed, and the hash."""

    inode: int
    size: int
    mtime_ns: int
    sha256: str


class HashMemo(Protocol):
    """Where checksums are remembered between runs (the run cache provides one)."""

    def get_stamp(self, path: str) -> FileStamp | None:
        """The stamp remembered for an absolute path."""
        ...

    def set_stamp(self, path: str, stamp: FileStamp) -> None:
        """Remember a stamp for an absolute path."""
        ...


class MemoryHashMemo:
    """A ``HashMemo`` that lasts as long as the object (tests, one-off runs)."""

    def __init__(self) -> None:
        self.stamps: dict[str, FileStamp] = {}

    def get_stamp(self, path: str) -> FileStamp | None:
        """The stamp remembered for ``path``."""
        return self.stamps.get(path)

    def set_stamp(self, path: str, stamp: FileStamp) -> None:
        """Remember ``stamp`` for ``path``."""
        self.stamps[path] = stamp


def output_relpath(spec: Spec, video: str, render: str, format: str | None = None) -> str:
    """Where a render goes, relative to the spec folder, as written in the lock.

    ``format`` names the file of a render the spec no longer declares (its config is gone).
    """
    if format is None:
        path = spec.output_path(video, render)
    else:
        path = spec.out_dir / video / f"{render}.{format}"
    root = spec.root
    if not path.is_absolute():
        path = root / path
    return PurePosixPath(*Path(os.path.relpath(path, root)).parts).as_posix()


def resolve_output(spec_root: Path, relpath: str) -> Path:
    """The path of a lock's output path on this machine, refused unless it stays inside the
    spec's folder.

    The path must pass ``lock_model.check_output_path`` (no ``..``, nothing absolute or
    hidden), and once symbolic links are followed it must still lead inside ``spec_root``:
    a link planted in the output folder must never make ``apply`` write or delete elsewhere.
    """
    try:
        check_output_path(relpath)
    except ValueError as exc:
        raise BuildError(
            f"refusing output {relpath!r}: {exc}",
            hint="outputs are always <outDir>/<video>/<render>.<format> inside the spec's folder",
        ) from None
    path = spec_root / Path(*PurePosixPath(relpath).parts)
    try:
        root = spec_root.resolve()
        resolved = path.resolve()
    except (OSError, RuntimeError) as exc:
        raise BuildError(f"cannot read output {path}: {exc}") from exc
    if not resolved.is_relative_to(root):
        raise BuildError(
            f"refusing output {relpath!r}: it leads through a symbolic link to {resolved}, "
            "outside the spec's folder",
            hint="remove the symbolic link from the output folder",
        )
    return path


def expected_outputs(spec: Spec) -> list[str]:
    """Every output path the spec declares, sorted."""
    return sorted(
        output_relpath(spec, key, render)
        for key, video in spec.videos.items()
        for render in video.renders
    )


def sha256_file(path: Path) -> str:
    """The hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def observe_file(
    spec_root: Path,
    relpath: str,
    *,
    memo: HashMemo | None = None,
    clock: Callable[[], int] = time.time_ns,
) -> OutputState:
    """The state of one output, hashing it only when its stat changed since last time."""
    path = resolve_output(spec_root, relpath)
    try:
        stat = path.stat()
    except FileNotFoundError:
        return OutputState(relpath, exists=False)
    except OSError as exc:
        raise BuildError(f"cannot read output {path}: {exc.strerror or exc}") from exc
    if not path.is_file():
        return OutputState(relpath, exists=False)
    key = str(path.resolve())
    stamp = memo.get_stamp(key) if memo is not None else None
    if (
        stamp is not None
        and stamp.inode == stat.st_ino
        and stamp.size == stat.st_size
        and stamp.mtime_ns == stat.st_mtime_ns
    ):
        return OutputState(relpath, exists=True, size=stat.st_size, sha256=stamp.sha256)
    try:
        digest = sha256_file(path)
    except FileNotFoundError:
        return OutputState(relpath, exists=False)
    except OSError as exc:
        raise BuildError(f"cannot read output {path}: {exc.strerror or exc}") from exc
    if memo is not None and clock() - stat.st_mtime_ns >= _RACY_NS:
        memo.set_stamp(key, FileStamp(stat.st_ino, stat.st_size, stat.st_mtime_ns, digest))
    return OutputState(relpath, exists=True, size=stat.st_size, sha256=digest)


def observe_outputs(
    spec: Spec,
    lock: Lock | None,
    *,
    memo: HashMemo | None = None,
    extra: Iterable[str] = (),
    clock: Callable[[], int] = time.time_ns,
) -> dict[str, OutputState]:
    """The state of every output the spec declares, every output the lock records and every
    file a pending render of the lock was to write.

    This is the ``outputs`` argument of ``plan.make_plan``.
    """
    paths = set(expected_outputs(spec)) | set(extra)
    if lock is not None:
        for entry in lock.videos.values():
            paths.update(record.path for record in entry.renders.values())
            # Where an interrupted render was writing: the plan may have to clean it up.
            paths.update(
                op.path for op in entry.pending if isinstance(op, PendingRender) and op.path
            )
    return {
        relpath: observe_file(spec.root, relpath, memo=memo, clock=clock)
        for relpath in sorted(paths)
    }


RemoveOutcome = Literal["removed", "missing", "kept"]


def remove_output(
    spec_root: Path, relpath: str, *, sha256: str | None = None, size: int | None = None
) -> RemoveOutcome:
    """Delete an output, then its video folder once empty.

    With ``sha256`` (and ``size``), the lock's record of the file: a file that is not that
    one is ``kept`` (someone changed it since it was made, or the lock names another file),
    because ``apply`` deletes only what it made. ``missing`` when nothing was there.
    """
    path = resolve_output(spec_root, relpath)
    if sha256 is not None and path.is_file() and not path.is_symlink():
        try:
            same = (size is None or path.stat().st_size == size) and sha256_file(path) == sha256
        except OSError as exc:
            raise BuildError(f"cannot read output {path}: {exc.strerror or exc}") from exc
        if not same:
            return "kept"
    try:
        path.unlink()
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        raise BuildError(f"cannot remove output {path}: {exc.strerror or exc}") from exc
    with contextlib.suppress(OSError):
        path.parent.rmdir()  # only succeeds when nothing else is left in the folder
    return "removed"

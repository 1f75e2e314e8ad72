"""Durable file writes: the one place that knows how a file is replaced atomically.

``atomic_write_bytes``/``atomic_write_text`` write a temporary file in the target's folder,
fsync it, rename it over the target and fsync the folder, so that a crash or a power cut leaves
the old file or the new one, whole, never half of either. The lock, the engine's state records
and downloads (which stream to their own temporary file, then call ``fsync_directory``) all go
through here. ``copy_hashing`` and ``replace_into`` are the two halves of a verified copy
(run-cache restores, an output moved to a new ``outDir``): the stream goes to a temporary file
beside the target and is hashed on the way, and the caller renames it into place only once the
checksum is right. A failure to write on this side is a ``LocalWriteError`` naming the target.

Temporary files are made by ``tempfile.mkstemp``, which creates them readable by their owner
only (0600); each is given the mode an ordinary new file gets (0666 less the umask, 0644
usually) before it is renamed into place, so a restored output, a moved one, the lock and a
saved plan read like a downloaded output and like any file the user writes.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import tempfile
import threading
from pathlib import Path
from typing import BinaryIO

from parafraim_build.errors import LocalWriteError

_CHUNK = 1 << 20
_UMASK_LINE = re.compile(rb"^Umask:\s*([0-7]+)\s*$", re.MULTILINE)
_umask_guard = threading.Lock()


@functools.cache
def new_file_mode() -> int:
    """The permission bits a new file gets here: 0666 less the process's umask (read once).

    The umask can only be read by setting it, which would race with other threads creating
    files; Linux shows it in ``/proc/self/status``, so it is read there when possible, and
    otherwise set and restored once, under a lock, the first time a file is written.
    """
    try:
        with open("/proc/self/status", "rb") as status:
            found = _UMASK_LINE.search(status.read())
    except OSError:
        found = None
    if found is not None:
        umask = int(found.group(1), 8)
    else:
        with _umask_guard:
            umask = os.umask(0o022)
            os.umask(umask)
    return 0o666 & ~umask


def _give_new_file_mode(fd: int) -> None:
    # Best effort: a file system without permissions (FAT, some network shares) refuses it,
    # and the file is just as usable there.
    if hasattr(os, "fchmod"):  # not on Windows, where the mode bits mean little
        with contextlib.suppress(OSError):
            os.fchmod(fd, new_file_mode())


def fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable. Best effort: not every platform lets a folder
    be opened or fsynced, and the rename is atomic there all the same."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(
    path: Path, data: bytes, *, prefix: str | None = None, suffix: str = ".tmp"
) -> None:
    """Replace ``path`` with ``data`` atomically and durably.

    The temporary file is ``<prefix><random><suffix>`` beside ``path`` (``prefix`` defaults to
    ``.<name>.``): hidden, and named so that whoever sweeps leftovers of a killed run can find
    it. It is removed if anything fails before the rename.
    """
    directory = path.parent
    fd, temp_name = tempfile.mkstemp(
        dir=directory, prefix=prefix if prefix is not None else f".{path.name}.", suffix=suffix
    )
    try:
        _give_new_file_mode(fd)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    fsync_directory(directory)


def atomic_write_text(path: Path, text: str, *, prefix: str | None = None) -> None:
    """``atomic_write_bytes`` of ``text`` as UTF-8, with ``\\n`` line endings everywhere."""
    atomic_write_bytes(path, text.encode("utf-8"), prefix=prefix)


def copy_hashing(source: BinaryIO, dest: Path) -> tuple[Path, str, int]:
    """Copy a stream into a temporary file beside ``dest``, hashing it on the way; returns
    (temporary path, sha256, size). ``replace_into`` then puts it in place.

    The temporary file is ``.<name>.<random>.tmp`` (hidden; ``apply`` sweeps such leftovers of
    a killed run), and ``dest``'s folder is made when missing. A failure on the writing side
    (the folder cannot be made, the disk is full) is a ``LocalWriteError`` naming ``dest``; a
    failure to read ``source`` propagates as it is, since only the caller knows what the
    source is (the run cache, an output's old place). Either way the temporary file is gone.
    """
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    except OSError as exc:
        raise LocalWriteError(dest, exc) from exc
    temp = Path(name)
    digest = hashlib.sha256()
    size = 0
    reading = False
    try:
        _give_new_file_mode(fd)
        with os.fdopen(fd, "wb") as target:
            while True:
                reading = True
                chunk = source.read(_CHUNK)
                reading = False
                if not chunk:
                    break
                digest.update(chunk)
                size += len(chunk)
                target.write(chunk)
            target.flush()
            os.fsync(target.fileno())
    except OSError as exc:
        _discard(temp)
        if reading:
            raise
        raise LocalWriteError(dest, exc) from exc
    except BaseException:
        _discard(temp)
        raise
    return temp, digest.hexdigest(), size


def replace_into(temp: Path, dest: Path) -> None:
    """Rename ``temp`` (beside ``dest``) over ``dest`` durably; a ``LocalWriteError`` (and
    ``temp`` removed) when that fails, e.g. a folder stands where the file should go."""
    try:
        os.replace(temp, dest)
    except OSError as exc:
        _discard(temp)
        raise LocalWriteError(dest, exc) from exc
    fsync_directory(dest.parent)


def _discard(temp: Path) -> None:
    # Never hides the failure that matters: a temporary file that cannot be removed is swept
    # by the next apply.
    with contextlib.suppress(OSError):
        temp.unlink()

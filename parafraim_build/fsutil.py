"""Durable file writes: the one place that knows how a file is replaced atomically.

``atomic_write_bytes``/``atomic_write_text`` write a temporary file in the target's folder,
fsync it, rename it over the target and fsync the folder, so that a crash or a power cut leaves
the old file or the new one, whole, never half of either. The lock, the engine's state records
and downloads (which stream to their own temporary file, then call ``fsync_directory``) all go
through here.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


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

"""Where a spec's state lives on disk: its lock, its run cache, the local engine's state.

Everything is beside the spec, so that a spec folder is self-contained: ``parafraim.lock``
(committed) and ``.parafraim/`` (ignored). ``--local`` runs keep their own lock under
``.parafraim/local/`` and never touch ``parafraim.lock``.
"""

from __future__ import annotations

import contextlib
import glob
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from parafraim_build.cache import resolve_cache_dir
from parafraim_build.lock_model import LOCK_FILENAME, Lock, PendingRender
from parafraim_build.outputs import expected_outputs, resolve_output
from parafraim_build.spec.models import Spec

STATE_DIR = ".parafraim"
"""Beside the spec: the run cache and everything ``--local`` keeps (never committed)."""
LOCAL_DIR = f"{STATE_DIR}/local"
"""What ``--local`` keeps, relative to the spec's folder: its lock and the engine's state."""
LOCAL_LOCK = f"{LOCAL_DIR}/{LOCK_FILENAME}"
"""The ``--local`` lock, relative to the spec's folder."""
LOCAL_ENGINE_DIR = f"{LOCAL_DIR}/engine"
"""The embedded engine's projects, jobs and files, relative to the spec's folder."""
LOCAL_IDENTITY = "local://engine"
"""What a ``--local`` lock records as its base URL: the embedded engine's port changes on
every run, its identity does not."""


@dataclass(frozen=True)
class Workspace:
    """The files of one spec for one kind of run (real service or ``--local``)."""

    spec_path: Path
    local: bool
    cache_dir: Path

    @property
    def root(self) -> Path:
        """The spec's folder."""
        return self.spec_path.parent

    @property
    def lock_path(self) -> Path:
        """``parafraim.lock`` beside the spec, or ``.parafraim/local/parafraim.lock``."""
        if self.local:
            return self.root / LOCAL_LOCK
        return self.root / LOCK_FILENAME

    @property
    def engine_state_dir(self) -> Path:
        """Where the embedded engine of ``--local`` keeps its projects, jobs and files."""
        return self.root / LOCAL_ENGINE_DIR

    @property
    def scope(self) -> str:
        """The run cache's name for this lock: projects are never shared across locks."""
        return str(self.lock_path.resolve())


def workspace_for(spec_path: Path, *, local: bool, cache_dir: Path | None = None) -> Workspace:
    """The workspace of a spec; ``cache_dir`` is ``--cache-dir`` when given."""
    spec_path = spec_path.resolve()
    return Workspace(
        spec_path=spec_path, local=local, cache_dir=resolve_cache_dir(spec_path, cache_dir)
    )


def sweep_interrupted_writes(workspace: Workspace, spec: Spec, lock: Lock | None) -> list[Path]:
    """Delete the temporary files a killed run left beside the lock and the outputs.

    Every file is written to a hidden temporary name and renamed into place (the lock as
    ``.parafraim.lock.<random>.tmp``, a download as ``.<output>.<random>.part`` (or
    ``.pfb-<random>.part`` when that name would be too long), a copy from
    the run cache as ``.<output>.<random>.tmp``), so a crash can leave such a file but never a
    half output. Beside every output the spec declares, the lock records, or a pending render
    of the lock was writing (at its intent's path, even under an old ``outDir``). Only
    ``apply`` calls this, while it holds the lock: no other process of ours can be writing
    them then. Returns what was removed.
    """
    candidates = list(_temporaries(workspace.lock_path, ("tmp",)))
    outputs = set(expected_outputs(spec))
    if lock is not None:
        for entry in lock.videos.values():
            outputs.update(record.path for record in entry.renders.values())
            # A render in flight writes where its intent says, whatever the spec says now.
            outputs.update(
                op.path for op in entry.pending if isinstance(op, PendingRender) and op.path
            )
    folders: set[Path] = set()
    for relpath in sorted(outputs):
        target = resolve_output(spec.root, relpath)
        candidates += _temporaries(target, ("part", "tmp"))
        folders.add(target.parent)
    for folder in sorted(folders):
        # A download whose usual temporary name would be too long for the file system.
        if folder.is_dir():
            candidates += (path for path in folder.glob(".pfb-*.part") if path.is_file())
    removed = []
    for path in candidates:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    return removed


def _temporaries(target: Path, suffixes: Iterable[str]) -> Iterable[Path]:
    if not target.parent.is_dir():
        return []
    found: list[Path] = []
    for suffix in suffixes:
        pattern = f".{glob.escape(target.name)}.*.{suffix}"
        found += (path for path in target.parent.glob(pattern) if path.is_file())
    return found

"""Persistence of the engine's state: one JSON file per record, each written atomically.

Layout of a state directory::

    engine.lock            held by the engine that uses the directory, for its whole life
    engine.json            format version and the account (written once)
    projects/<id>.json     one file per project
    tasks/<id>.json        one file per task, with its planned events
    jobs/<id>.json         one file per render job
    files/<job id>.<ext>   rendered videos
    stats.json             request counters (written at most once a second, and on stop)

Every write goes to a temporary file in the same folder, is fsynced, renamed over the target
and the folder fsynced, so a crash leaves either the old or the new record, never half of one.
Writes run in order on one writer thread: a handler serialises its record on the event loop
(cheap, only that record) and awaits the write before it answers, so a mutation is durable
before the client hears about it, while GETs never write.

Two engines on one directory would overwrite each other's records and render files, so a
``DirectoryStore`` holds an exclusive lock on ``engine.lock`` from creation to ``close()``; a
second engine is refused with a ``ConfigError``. The lock is an OS lock: it disappears with a
crashed process, and a stale ``engine.lock`` file never blocks anything.

``MemoryStore`` keeps nothing (the engine without ``--state-dir``); its rendered files live in
a temporary folder that is removed on stop. ``SnapshotStore`` is a ``MemoryStore`` that starts
from what a state directory holds: the read-only engine of a look-up (``credits --local``)
takes no lock, tidies nothing and writes nothing there, so it can read a directory that the
engine of an ``apply --local`` holds, and leaves interrupted work for that engine to resume.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from parafraim_build.emulator.state import STATE_VERSION
from parafraim_build.errors import ConfigError
from parafraim_build.fsutil import atomic_write_bytes

logger = logging.getLogger(__name__)

KINDS = ("projects", "tasks", "jobs")
LOCK_NAME = "engine.lock"
ACCOUNT_NAME = "engine.json"
_TEMP_PREFIX = ".tmp-"


class StateBusyError(ConfigError):
    """Another engine holds the state directory (its ``engine.lock``).

    A ``ConfigError`` whose hint suits the engine command (``--state-dir``); callers that
    start the engine on a directory of their own choosing say something of their own.
    """


@dataclass(frozen=True)
class LoadedRecord:
    """One record file as read: where it came from (for error messages) and its JSON."""

    path: Path
    data: dict[str, Any]


class LoadedState:
    """Raw JSON read from a state directory, before it becomes an ``EngineState``."""

    def __init__(self) -> None:
        self.account: Any = None
        self.account_path: Path | None = None
        self.records: dict[str, list[LoadedRecord]] = {kind: [] for kind in KINDS}
        self.stats: dict[str, Any] | None = None


def _done() -> Future[None]:
    future: Future[None] = Future()
    future.set_result(None)
    return future


class MemoryStore:
    """No persistence: records live only in memory; files go to a temporary folder."""

    persistent = False

    def __init__(self) -> None:
        self.files_dir = Path(tempfile.mkdtemp(prefix="parafraim-engine-files-"))

    def load(self) -> LoadedState:
        """Nothing: a memory engine always starts empty."""
        return LoadedState()

    def save(self, kind: str, record_id: str, data: dict[str, Any]) -> Future[None]:
        """Nothing to write; an already completed future."""
        return _done()

    def save_account(self, account: dict[str, Any]) -> Future[None]:
        """Nothing to write; an already completed future."""
        return _done()

    def save_stats(self, stats: dict[str, Any]) -> Future[None]:
        """Nothing to write; an already completed future."""
        return _done()

    def close(self) -> None:
        """Remove the rendered files."""
        shutil.rmtree(self.files_dir, ignore_errors=True)


class SnapshotStore(MemoryStore):
    """A state directory read once, then kept in memory: nothing is ever written to it.

    For look-ups (``credits --local``): they must see what the local runs left without
    changing it, also while an engine of ``apply --local`` holds the directory. So no lock is
    taken, leftovers are not cleaned up, and the engine's writes go nowhere (its rendered
    files to a temporary folder, as with ``MemoryStore``).
    """

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root

    def load(self) -> LoadedState:
        """What the directory holds now, untouched."""
        return read_state_dir(self.root, tidy=False)


class DirectoryStore:
    """Records as JSON files under ``root``, written atomically in order by one thread."""

    persistent = True

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files_dir = root / "files"
        try:
            for folder in (*(root / kind for kind in KINDS), self.files_dir):
                folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cannot use {root} as the engine's state directory: {exc.strerror or exc}",
                hint="pass --state-dir a folder you can write to",
            ) from exc
        self._lock = _lock_directory(root)
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine-store")

    # ----------------------------------------------------------------- reading

    def load(self) -> LoadedState:
        """Everything in the directory; leftovers of interrupted writes are removed."""
        return read_state_dir(self.root, tidy=True)

    # ----------------------------------------------------------------- writing

    def save(self, kind: str, record_id: str, data: dict[str, Any]) -> Future[None]:
        """Write one record; the returned future completes once it is on disk."""
        return self._submit(self.root / kind / f"{record_id}.json", data)

    def save_account(self, account: dict[str, Any]) -> Future[None]:
        """Write ``engine.json``: the format version and the account."""
        return self._submit(
            self.root / ACCOUNT_NAME, {"version": STATE_VERSION, "account": account}
        )

    def save_stats(self, stats: dict[str, Any]) -> Future[None]:
        """Write the request counters."""
        return self._submit(self.root / "stats.json", stats)

    def _submit(self, path: Path, data: dict[str, Any]) -> Future[None]:
        # Serialised now, on the caller's thread, so later changes to the record cannot leak
        # into this write; written later, in submission order, on the writer thread.
        payload = json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return self._writer.submit(write_atomically, path, payload)

    def close(self) -> None:
        """Finish every pending write, then let another engine use the directory."""
        try:
            self._writer.shutdown(wait=True)
        finally:
            self._lock.release()


def read_state_dir(root: Path, *, tidy: bool) -> LoadedState:
    """The raw records of the state directory ``root``.

    ``tidy`` removes the leftovers of interrupted writes (temporary records, partial render
    files): only the engine that holds the directory may, as the writer they belong to could
    still be running otherwise. Records are read children first (jobs, tasks, then
    projects): an engine writes a project before any task or job of it, so a directory that
    another engine is writing to still reads as a whole where every record's project exists.
    """
    loaded = LoadedState()
    account_file = root / ACCOUNT_NAME
    if account_file.exists():
        document = _read(account_file)
        version = document.get("version")
        if not isinstance(version, int) or version > STATE_VERSION:
            raise ConfigError(
                f"{account_file} was written by a newer engine (format {version!r})",
                hint="upgrade parafraim-build or use another --state-dir",
            )
        loaded.account = document.get("account")
        loaded.account_path = account_file
    for kind in reversed(KINDS):
        for path in _listing(root / kind):
            if path.name.startswith(_TEMP_PREFIX):
                if tidy:
                    path.unlink(missing_ok=True)
            elif path.suffix == ".json":
                loaded.records[kind].append(LoadedRecord(path, _read(path)))
    if tidy:
        for path in (root / "files").glob(".*"):
            # A render interrupted by a stop leaves its hidden partial file behind.
            path.unlink(missing_ok=True)
    stats_file = root / "stats.json"
    if stats_file.exists():
        loaded.stats = _read(stats_file)
    return loaded


def _listing(folder: Path) -> list[Path]:
    """The files of ``folder`` in name order; none when it does not exist (yet)."""
    try:
        return sorted(folder.iterdir())
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise ConfigError(
            f"the engine's state folder {folder} cannot be read: {exc.strerror or exc}",
            hint="check its permissions, or remove the state directory to start afresh",
        ) from exc


def _read(path: Path) -> dict[str, Any]:
    """One JSON object file; ``ConfigError`` naming it when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"the engine's state file {path} cannot be read: {exc}",
            hint="restore it from a backup, or remove the state directory to start afresh",
        ) from exc
    if not isinstance(data, dict):
        raise ConfigError(
            f"the engine's state file {path} is not a JSON object",
            hint="restore it from a backup, or remove the state directory to start afresh",
        )
    return data


def _lock_directory(root: Path) -> FileLock:
    """The held lock of ``root``, or ``ConfigError`` when another engine holds it."""
    # Not thread-local: the engine takes the lock on one thread and releases it on another.
    lock = FileLock(root / LOCK_NAME, thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout as exc:
        raise StateBusyError(
            f"another engine uses the state directory {root}",
            hint="stop that engine first, or pass another --state-dir",
        ) from exc
    except OSError as exc:
        raise ConfigError(
            f"cannot lock the engine's state directory {root}: {exc.strerror or exc}",
            hint="pass --state-dir a folder you can write to",
        ) from exc
    return lock


def write_atomically(path: Path, payload: bytes) -> None:
    """Replace ``path`` with ``payload``: temp file, fsync, rename, fsync the folder."""
    atomic_write_bytes(path, payload, prefix=f"{_TEMP_PREFIX}{path.name}.", suffix="")


Store = MemoryStore | SnapshotStore | DirectoryStore

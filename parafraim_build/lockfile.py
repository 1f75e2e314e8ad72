"""Reading and writing ``parafraim.lock``: atomic, deterministic, under a file lock.

The content and its update helpers live in ``lock_model``; this module is the only one that
touches the file. A lock that cannot be read (corrupt, or written by a newer version) is an
error and is never overwritten: the user decides what to do with it.

    with LockStore(lock_path, spec_path=spec.path) as store:   # LockBusyError if taken
        lock = store.check_owner(base_url, account_id)          # LockMismatchError
        store.update(lambda lock: lock.record_step(video, step))  # atomic write
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import yaml
from filelock import FileLock, Timeout
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from parafraim_build.digest import sha256_hex
from parafraim_build.errors import (
    LockBusyError,
    LockCorruptError,
    LockError,
    LockMismatchError,
    LockVersionError,
)
from parafraim_build.fsutil import atomic_write_text
from parafraim_build.lock_model import LOCK_VERSION, Lock, dump_lock
from parafraim_build.workspace import LOCAL_DIR, LOCAL_ENGINE_DIR, LOCAL_IDENTITY, LOCAL_LOCK

__all__ = [
    "ABSENT_DIGEST",
    "LockStore",
    "check_owner",
    "lock_digest",
    "parse_lock",
    "read_lock",
]

ABSENT_DIGEST = "absent"
"""``lock_digest`` of a lock file that does not exist yet."""

_KEEP_HINT = (
    "the lock is never overwritten silently: restore it from git (`git checkout -- {name}`), "
    "or move it away to build everything again"
)


def parse_lock(text: str, *, source: str = "parafraim.lock") -> Lock:
    """A lock from its YAML text; ``LockCorruptError`` / ``LockVersionError`` otherwise."""
    hint = _KEEP_HINT.format(name=Path(source).name)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise LockCorruptError(f"{source} is not valid YAML: {exc}", hint=hint) from exc
    if not isinstance(data, dict):
        raise LockCorruptError(f"{source} is not a parafraim-build lock", hint=hint)
    version = data.get("lockVersion")
    if not isinstance(version, int) or isinstance(version, bool):
        raise LockCorruptError(f"{source} has no valid lockVersion", hint=hint)
    if version > LOCK_VERSION:
        raise LockVersionError(
            f"{source} was written by a newer parafraim-build (lockVersion {version}; "
            f"this version reads up to {LOCK_VERSION})",
            hint="upgrade parafraim-build (pip install -U parafraim-build); the lock is unchanged",
        )
    try:
        return Lock.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_problem(error) for error in exc.errors()[:5])
        raise LockCorruptError(
            f"{source} does not match the lock format: {problems}", hint=hint
        ) from exc


def _problem(error: ErrorDetails) -> str:
    """One validation error as ``where: what``. A check of the whole lock has no location of
    its own (its message names the place), and pydantic's ``Value error, `` is noise."""
    message = error["msg"].removeprefix("Value error, ")
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {message}" if where else message


def read_lock(path: Path) -> Lock | None:
    """The lock at ``path``, or None when there is none yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as exc:
        raise LockCorruptError(
            f"{path} is not UTF-8 text", hint=_KEEP_HINT.format(name=path.name)
        ) from exc
    except OSError as exc:
        raise LockError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return parse_lock(text, source=str(path))


def lock_digest(path: Path) -> str:
    """A digest of the lock file's bytes (``ABSENT_DIGEST`` when absent): saved plans keep it
    and refuse to run once the lock changed."""
    try:
        return sha256_hex(path.read_bytes())
    except FileNotFoundError:
        return ABSENT_DIGEST
    except OSError as exc:
        raise LockError(f"cannot read {path}: {exc.strerror or exc}") from exc


class LockStore:
    """Exclusive, read-modify-write access to one lock file for the length of an ``apply``.

    Entering takes a non-blocking file lock on ``<lock>.lck`` (the kernel releases it when
    the process dies, so a crash never leaves a stale lock) and reads the lock. Every
    ``update``/``write`` rewrites the file atomically, and only when the content changed.
    """

    def __init__(self, path: Path, *, spec_path: Path | None = None) -> None:
        self.path = path
        self._spec_label = str(spec_path) if spec_path is not None else str(path)
        self._file_lock = FileLock(str(path) + ".lck", timeout=0)
        self._guard = threading.Lock()
        self._lock: Lock | None = None
        self._written: str | None = None
        self._open = False

    def __enter__(self) -> LockStore:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file_lock.acquire()
        except Timeout:
            raise LockBusyError(
                f"another parafraim-build apply is running on {self._spec_label} "
                f"(it holds {self.path.name}.lck)",
                hint="wait for it to finish; the lock is released as soon as that process ends",
            ) from None
        except OSError as exc:
            raise LockError(f"cannot lock {self.path}: {exc.strerror or exc}") from exc
        try:
            self._lock = read_lock(self.path)
            self._written = dump_lock(self._lock) if self._lock is not None else None
        except BaseException:
            self._file_lock.release()
            raise
        self._open = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._open = False
        self._file_lock.release()

    @property
    def lock(self) -> Lock | None:
        """The current lock (None while a new lock has not been started)."""
        return self._lock

    def check_owner(self, base_url: str, account_id: str) -> Lock:
        """The lock, checked to belong to that service and account (a new one if absent)."""
        self._require_open()
        if self._lock is None:
            self._lock = Lock.new(base_url, account_id)
            return self._lock
        check_owner(self._lock, base_url, account_id, source=self.path.name)
        return self._lock

    def update(self, change: Callable[[Lock], Lock]) -> Lock:
        """Apply a pure change to the current lock and write the result atomically."""
        with self._guard:
            self._require_open()
            if self._lock is None:
                raise LockError("the lock's owner was not checked before the first update")
            new = change(self._lock)
            self._write_locked(new)
            return new

    def write(self, lock: Lock) -> None:
        """Write ``lock`` as the new content (atomically; nothing happens if unchanged)."""
        with self._guard:
            self._require_open()
            self._write_locked(lock)

    def _write_locked(self, lock: Lock) -> None:
        text = dump_lock(lock)
        if text != self._written:
            try:
                atomic_write_text(self.path, text)
            except OSError as exc:
                raise LockError(f"cannot write {self.path}: {exc.strerror or exc}") from exc
            self._written = text
        self._lock = lock

    def _require_open(self) -> None:
        if not self._open:
            raise LockError(f"{self.path} is not held: use LockStore as a context manager")


def check_owner(lock: Lock, base_url: str, account_id: str, *, source: str = "the lock") -> None:
    """``LockMismatchError`` unless the lock was written for this base URL and account."""
    if lock.baseUrl.rstrip("/") != base_url.rstrip("/"):
        raise LockMismatchError(
            f"{source} belongs to {lock.baseUrl}, not {base_url}",
            hint="set PARAFRAIM_BASE_URL to the service the lock was built with, "
            "or move the lock away to build everything again there",
        )
    if lock.accountId != account_id and lock.baseUrl.rstrip("/") == LOCAL_IDENTITY:
        # The built-in engine has no keys to choose from: its state was deleted or replaced
        # (a new account) while the local lock was kept.
        raise LockMismatchError(
            f"{LOCAL_LOCK} belongs to another local engine account ({lock.accountId}, not "
            f"{account_id}): the engine's state ({LOCAL_ENGINE_DIR}/) was deleted or replaced, "
            "and the local lock was kept",
            hint=f"delete {LOCAL_DIR}/ to start over locally (the local lock and the engine's "
            "state go together); parafraim.lock is not affected",
        )
    if lock.accountId != account_id:
        raise LockMismatchError(
            f"{source} belongs to another Parafraim account ({lock.accountId}, not {account_id})",
            hint="use the API key of the account the lock was built with, "
            "or move the lock away to build everything again in this account",
        )

"""The run cache: what earlier runs learned, kept to reuse work (``design.md`` §4).

It holds compositions by sha256, the applied history of every project seen (so that an undo
or a branch switch can reuse a project instead of paying again), outputs by service and render
key (so that an identical composition and config is copied, not rendered), the costs observed
(for estimates), composition durations, template look-ups and the stat memo of output checksums.

One folder may serve several services (the real one, a proxy, ``--local``'s engine), accounts
and locks, so every entry is scoped by what makes it true, and by nothing more:

* **histories** per service, account and lock (``scope``): a project id only means something
  on its service and to its account, and one spec must never be handed another spec's project;
* **costs** per service and account: prices and plans differ between them;
* **template look-ups** per service: a template id is the service's;
* **outputs** per service (the normalised base URL, ``--local``'s ``local://engine`` apart
  from the real service): a render key is the same wherever the composition was rendered, but
  a file and its job id are that service's render. The local engine's storyboard is not the
  service's video, and its job id means nothing to the service, so it must never land in a
  service's lock. They are not per account: a file the service rendered is that service's
  output of that composition and config, whoever paid for it. Its job id is the paying
  account's, though: another account cannot fetch it and must not find it in its committed
  lock, so a copy handed to another account comes without one;
* **compositions and durations** globally: they are content-addressed (keyed by the
  composition's sha256), so the same key is the same fact everywhere;
* **checksums** (the stat memo) by absolute path: a fact about this machine's disk.

Nothing in it is the only copy of anything: deleting the folder loses reuse and speed, never an
output or lock state. ``RunCache`` is the impure object (diskcache, two SQLite databases under
the cache folder: ``meta`` never evicts, ``outputs`` is size-limited and evicts the least
recently used file); ``RunCache.view`` takes the frozen ``CacheView`` the pure planner reads.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import diskcache
from pydantic import TypeAdapter, ValidationError

from parafraim_build.api.models import RenderConfig
from parafraim_build.digest import composition_hash, source_key
from parafraim_build.errors import BuildError
from parafraim_build.fsutil import copy_hashing, replace_into
from parafraim_build.lock_model import (
    BlankSource,
    Lock,
    Source,
    StepRecord,
    TemplateSource,
    VideoLock,
)
from parafraim_build.outputs import FileStamp
from parafraim_build.pricing_estimate import ObservedCosts, ObservedRenderCost

CACHE_DIR_ENV = "PARAFRAIM_CACHE_DIR"
DEFAULT_OUTPUT_LIMIT = 8 * 1024**3
"""Output copies beyond this many bytes are evicted, least recently used first."""

MAX_OBSERVED = 200
"""Observed costs kept per kind and account: recent prices matter, old ones fade out."""

_SOURCE = TypeAdapter(Source)


def resolve_cache_dir(
    spec_path: Path, option: Path | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """``--cache-dir``, else ``PARAFRAIM_CACHE_DIR``, else ``.parafraim/cache`` beside the spec."""
    if option is not None:
        return option
    env = os.environ if environ is None else environ
    if env.get(CACHE_DIR_ENV):
        return Path(env[CACHE_DIR_ENV])
    return spec_path.parent / ".parafraim" / "cache"


_LAYOUT_KEY = ("layout",)
# The layout of output entries: 2 = keyed by (service, render key).
_OUTPUTS_BY_SERVICE = 2


def _norm_url(base_url: str) -> str:
    """The service identity entries are scoped by: a base URL without its trailing slash."""
    return base_url.rstrip("/")


def _output_key(service: str, render_key: str) -> tuple[str, str]:
    """The key of an output copy (and, behind ``"output"``, of its metadata)."""
    return (_norm_url(service), render_key)


@dataclass(frozen=True)
class ProjectHistory:
    """What a project on the service is known to contain.

    ``in_flight`` means a message may have reached it without its outcome being recorded:
    its real history is unknown, so it is never reused. ``pending_key`` is that message's
    chain key (None in records of older versions): once the lock records the step, a cache
    that has not heard yet still tells a consistent story.
    """

    project_id: str
    scope: str | None
    video: str | None
    source: TemplateSource | BlankSource
    name: str
    description: str | None
    initial_composition_sha256: str
    steps: tuple[StepRecord, ...]
    in_flight: bool = False
    pending_key: str | None = None

    @property
    def root(self) -> str:
        """The chain root of the project's source."""
        return source_key(self.source.key_dict())

    @property
    def chain(self) -> tuple[str, ...]:
        """The chain keys of its applied steps."""
        return tuple(step.key for step in self.steps)

    @property
    def composition_sha256(self) -> str:
        """The sha256 of its current HTML."""
        return self.steps[-1].compositionSha256 if self.steps else self.initial_composition_sha256


@dataclass(frozen=True)
class CachedOutput:
    """An output file kept in the cache under its render key, for one service.

    ``job_id`` is the job of that service that made the file, when the account asking is the
    one that paid for it; None for another account (see the module's note on scopes).
    """

    key: str
    sha256: str
    size: int
    format: str
    job_id: str | None = None


@dataclass(frozen=True)
class CacheView:
    """A frozen snapshot of the cache for one service and account: the planner's input.

    ``outputs`` are that service's, keyed by render key.
    """

    histories: tuple[ProjectHistory, ...] = ()
    outputs: Mapping[str, CachedOutput] = field(default_factory=dict)
    durations: Mapping[str, float] = field(default_factory=dict)
    costs: ObservedCosts = field(default_factory=ObservedCosts)
    templates: Mapping[str, str] = field(default_factory=dict)


class RunCache:
    """The run cache folder. Methods translate storage failures into ``BuildError``."""

    def __init__(self, directory: Path, *, output_size_limit: int = DEFAULT_OUTPUT_LIMIT) -> None:
        self.directory = directory
        with self._guard("open"):
            directory.mkdir(parents=True, exist_ok=True)
            self._meta = diskcache.Cache(str(directory / "meta"), eviction_policy="none")
            self._outputs = diskcache.Cache(
                str(directory / "outputs"),
                size_limit=output_size_limit,
                eviction_policy="least-recently-used",
            )
            self._drop_unscoped_outputs()

    def __enter__(self) -> RunCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the databases (the object cannot be used afterwards)."""
        self._meta.close()
        self._outputs.close()

    @contextlib.contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        try:
            yield
        except (OSError, sqlite3.Error, diskcache.Timeout) as exc:
            raise BuildError(
                f"the run cache at {self.directory} failed to {action}: {exc}",
                hint="delete that folder (it only holds copies that speed builds up) "
                "or move it with --cache-dir / PARAFRAIM_CACHE_DIR",
            ) from exc

    def _update(
        self, key: tuple[Any, ...], change: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> None:
        # One read-modify-write as a transaction: other processes may share the folder.
        with self._guard("update"), self._meta.transact():
            current = self._meta.get(key)
            self._meta.set(key, change(current if isinstance(current, dict) else {}))

    # ----------------------------------------------------------------- compositions

    def store_composition(self, html: str) -> str:
        """Keep a composition's HTML; returns its sha256."""
        digest = composition_hash(html)
        with self._guard("store a composition"):
            self._meta.add(("composition", digest), html)
        return digest

    def composition(self, sha256: str) -> str | None:
        """A composition's HTML by sha256, if it was seen."""
        with self._guard("read a composition"):
            value = self._meta.get(("composition", sha256))
        return value if isinstance(value, str) else None

    def record_duration(self, composition_sha256: str, seconds: float) -> None:
        """How long a composition plays: render estimates scale with it."""
        self._update(("durations",), lambda known: {**known, composition_sha256: seconds})

    # -------------------------------------------------------------------- histories

    def remember_project(
        self, base_url: str, account_id: str, video: str, entry: VideoLock, *, scope: str
    ) -> None:
        """Remember what a project contains, from the video's lock entry.

        ``scope`` names the lock the project belongs to (its resolved path): a cache folder
        shared by several specs must never hand one spec's project to another.
        Call it with the entry *before* writing a lock that adds a pending task (so a crash
        can never leave a project that may hold an unrecorded message marked as reusable),
        and again after each recorded step.
        """
        record = self._history_record(video, entry, scope)
        key = ("histories", _norm_url(base_url), account_id)
        self._update(key, lambda known: {**known, entry.projectId: record})

    def remember_lock(self, base_url: str, account_id: str, lock: Lock, *, scope: str) -> int:
        """Write back what the lock knows of its projects; how many records were written.

        Deleting the cache must not lose reuse for good: the lock still knows every current
        project. A project is written only when the cache does not know it, or knows a mere
        beginning of the lock's history with nothing in flight (a crash between the two
        writes); never when the cache knows more or something else, which is the evidence
        that another branch or run changed it (``plan`` relies on that), and never for an
        entry with a message in flight.
        """
        fresh = {
            entry.projectId: self._history_record(video, entry, scope)
            for video, entry in lock.videos.items()
            if entry.pending_task is None
        }
        written = 0

        def merge(known: dict[str, Any]) -> dict[str, Any]:
            nonlocal written
            merged = dict(known)
            for project_id, record in fresh.items():
                current = _history(project_id, known[project_id]) if project_id in known else None
                chain = [step["key"] for step in record["steps"]]
                lagging = (
                    current is not None
                    and not current.in_flight
                    and current.scope == scope
                    and list(current.chain) == chain[: len(current.chain)]
                    and len(current.chain) < len(chain)
                )
                if project_id not in known or lagging:
                    merged[project_id] = record
                    written += 1
            return merged

        self._update(("histories", _norm_url(base_url), account_id), merge)
        return written

    @staticmethod
    def _history_record(video: str, entry: VideoLock, scope: str) -> dict[str, Any]:
        return {
            "scope": scope,
            "video": video,
            "source": entry.source.model_dump(mode="json"),
            "name": entry.name,
            "description": entry.description,
            "initial": entry.initialCompositionSha256,
            "steps": [step.model_dump(mode="json") for step in entry.steps],
            "inFlight": entry.pending_task is not None,
            "pendingKey": entry.pending_task.key if entry.pending_task is not None else None,
        }

    # ---------------------------------------------------------------------- outputs

    def store_output(
        self,
        render_key: str,
        path: Path,
        *,
        service: str,
        account: str,
        sha256: str,
        size: int,
        format: str,
        job_id: str | None,
    ) -> None:
        """Keep a copy of a verified output of ``service`` (its base URL) under its render key,
        with ``account``'s job that made it (or fetched it), beside other accounts' jobs.

        Per service, not per account: the same render key on another service (``--local``'s
        engine and the real one) is another file, kept apart and never offered to it.
        """
        key = _output_key(service, render_key)
        with self._guard("store an output"):
            known = self._meta.get(("output", *key))
            same_file = (
                isinstance(known, dict)
                and known.get("sha256") == sha256
                and known.get("size") == size
                and key in self._outputs
            )
            # Every account that made (or was handed) this file keeps its own job: another
            # account storing the same render must not take it away.
            jobs = _jobs_of(known) if same_file else {}
            if job_id is not None:
                jobs[account] = job_id
            meta = {"sha256": sha256, "size": size, "format": format, "jobs": jobs}
            if same_file and known == meta:
                return
            if not same_file:
                with path.open("rb") as handle:
                    self._outputs.set(key, handle, read=True)
            self._meta.set(("output", *key), meta)

    def restore_output(
        self, render_key: str, destination: Path, *, service: str, account: str
    ) -> CachedOutput | None:
        """Copy ``service``'s cached output to ``destination`` (atomically), verified by sha256.

        None when the cache does not have it for that service (another service's copy of the
        same render key is never used) or its copy is damaged (then it is dropped). Its job
        id is None unless ``account`` paid for it.
        A failure to write ``destination`` (a read-only folder, a folder in the file's place)
        is a ``LocalWriteError`` naming it: the disk must be fixed, and deleting the cache
        would only cost a download or a render. Only a failure of the cache itself is the
        cache's ``BuildError``.
        """
        key = _output_key(service, render_key)
        with self._guard("restore an output"):
            cached = self._cached_output(key, account)
            handle = self._outputs.get(key, read=True) if cached else None
            if cached is None or handle is None:
                return None
            with handle:
                temp, digest, size = copy_hashing(handle, destination)
            if digest != cached.sha256 or size != cached.size:
                with contextlib.suppress(OSError):
                    temp.unlink()
                self._outputs.delete(key)
                self._meta.delete(("output", *key))
                return None
        replace_into(temp, destination)
        return cached

    def _cached_output(self, key: tuple[str, str], account: str | None) -> CachedOutput | None:
        meta = self._meta.get(("output", *key))
        if not isinstance(meta, dict):
            return None
        return CachedOutput(
            key=key[1],
            sha256=meta["sha256"],
            size=meta["size"],
            format=meta["format"],
            job_id=_jobs_of(meta).get(account) if account is not None else None,
        )

    def _service_outputs(self, service: str, account: str | None) -> dict[str, CachedOutput]:
        """The outputs kept for ``service``, by render key."""
        outputs: dict[str, CachedOutput] = {}
        for key in self._outputs.iterkeys():
            if (
                isinstance(key, tuple)
                and len(key) == 2
                and key[0] == service
                and isinstance(key[1], str)
                and (cached := self._cached_output(key, account)) is not None
            ):
                outputs[key[1]] = cached
        return outputs

    def _drop_unscoped_outputs(self) -> None:
        """Once per cache folder: drop the outputs of versions before outputs were scoped.

        They were kept under the bare render key: which service made such a file is unknown
        (perhaps ``--local``'s engine), so it may never be offered to any lock. Their records
        go too, also those whose file was already evicted.
        """
        if self._meta.get(_LAYOUT_KEY) == _OUTPUTS_BY_SERVICE:
            return
        for key in list(self._outputs.iterkeys()):
            if isinstance(key, str):
                self._outputs.delete(key)
        for key in list(self._meta.iterkeys()):
            if isinstance(key, tuple) and len(key) == 2 and key[0] == "output":
                self._meta.delete(key)
        self._meta.set(_LAYOUT_KEY, _OUTPUTS_BY_SERVICE)

    # ------------------------------------------------------------------------ costs

    def record_message_cost(self, base_url: str, account_id: str, credits: float) -> None:
        """What one message was charged."""
        self._update(
            ("costs", _norm_url(base_url), account_id),
            lambda costs: {
                **costs,
                "messages": [*costs.get("messages", []), credits][-MAX_OBSERVED:],
            },
        )

    def record_render_cost(
        self,
        base_url: str,
        account_id: str,
        config: RenderConfig,
        duration_seconds: float | None,
        credits: float,
    ) -> None:
        """What one render was charged (net of refunds), with its config and duration."""
        seen = {
            "config": config.model_dump(mode="json"),
            "duration": duration_seconds,
            "credits": credits,
        }
        self._update(
            ("costs", _norm_url(base_url), account_id),
            lambda costs: {**costs, "renders": [*costs.get("renders", []), seen][-MAX_OBSERVED:]},
        )

    # -------------------------------------------------------------------- templates

    def remember_template(self, base_url: str, name: str, template_id: str) -> None:
        """A template name resolved to this id on that service."""
        key = ("templates", _norm_url(base_url))
        self._update(key, lambda known: {**known, name: template_id})

    # -------------------------------------------------------------------- hash memo

    def hash_memo(self) -> CacheHashMemo:
        """The stat memo ``outputs.observe_outputs`` uses to skip re-hashing big files."""
        return CacheHashMemo(self)

    def _get_stamp(self, path: str) -> FileStamp | None:
        with self._guard("read a checksum"):
            value = self._meta.get(("stamp", path))
        if isinstance(value, tuple) and len(value) == 4:
            return FileStamp(*value)
        return None

    def _set_stamp(self, path: str, stamp: FileStamp) -> None:
        with self._guard("store a checksum"):
            self._meta.set(("stamp", path), (stamp.inode, stamp.size, stamp.mtime_ns, stamp.sha256))

    # ------------------------------------------------------------------------- view

    def view(self, base_url: str, account_id: str | None, *, scope: str | None = None) -> CacheView:
        """A frozen snapshot for one service and account.

        Histories and costs are per account: with ``account_id`` None (before the first API
        call of a new lock) there are none. With ``scope``, only the histories of projects
        made for that lock are included (pass it: see ``remember_project``). Outputs and
        template look-ups are the service's (whatever the account); compositions' durations
        are everyone's. The module's docstring says why.
        """
        url = _norm_url(base_url)
        with self._guard("read"):
            histories = self._meta.get(("histories", url, account_id), {}) if account_id else {}
            costs = self._meta.get(("costs", url, account_id), {}) if account_id else {}
            outputs = self._service_outputs(url, account_id)
            durations = self._meta.get(("durations",), {})
            templates = self._meta.get(("templates", url), {})
        return CacheView(
            histories=tuple(
                history
                for project_id in sorted(histories)
                if (history := _history(project_id, histories[project_id])) is not None
                and (scope is None or history.scope == scope)
            ),
            outputs=outputs,
            durations=dict(durations),
            costs=_observed_costs(costs),
            templates=dict(templates),
        )


class CacheHashMemo:
    """``outputs.HashMemo`` stored in the run cache."""

    def __init__(self, cache: RunCache) -> None:
        self._cache = cache

    def get_stamp(self, path: str) -> FileStamp | None:
        """The stamp remembered for ``path``."""
        return self._cache._get_stamp(path)

    def set_stamp(self, path: str, stamp: FileStamp) -> None:
        """Remember ``stamp`` for ``path``."""
        self._cache._set_stamp(path, stamp)


def _jobs_of(meta: Any) -> dict[str, str]:
    """The job of each account that has an output's file, from its cache record.

    A record written before jobs were kept per account names one (``accountId``/``jobId``),
    or none: then no account is known to own the job, and a copy comes without one.
    """
    if not isinstance(meta, dict):
        return {}
    jobs = meta.get("jobs")
    if isinstance(jobs, dict):
        return {str(a): str(j) for a, j in jobs.items() if isinstance(j, str)}
    account, job = meta.get("accountId"), meta.get("jobId")
    return {account: job} if isinstance(account, str) and isinstance(job, str) else {}


def _history(project_id: str, record: Any) -> ProjectHistory | None:
    # A record this version cannot read is skipped: the cache only ever enables reuse.
    try:
        return ProjectHistory(
            project_id=project_id,
            scope=record.get("scope"),
            video=record.get("video"),
            source=_SOURCE.validate_python(record["source"]),
            name=record["name"],
            description=record.get("description"),
            initial_composition_sha256=record["initial"],
            steps=tuple(StepRecord.model_validate(step) for step in record["steps"]),
            in_flight=bool(record.get("inFlight", True)),
            pending_key=record.get("pendingKey"),
        )
    except (KeyError, TypeError, AttributeError, ValidationError):
        return None


def _observed_costs(costs: Any) -> ObservedCosts:
    messages: list[float] = []
    renders: list[ObservedRenderCost] = []
    if isinstance(costs, dict):
        messages = [float(c) for c in costs.get("messages", []) if isinstance(c, int | float)]
        for seen in costs.get("renders", []):
            try:
                renders.append(
                    ObservedRenderCost(
                        config=RenderConfig.model_validate(seen["config"]),
                        duration_seconds=seen.get("duration"),
                        credits=float(seen["credits"]),
                    )
                )
            except (KeyError, TypeError, ValueError, ValidationError):
                continue
    return ObservedCosts(messages=tuple(messages), renders=tuple(renders))

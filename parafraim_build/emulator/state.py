"""The engine's model: the account, projects, tasks, render jobs and the credit ledger.

Records are plain dataclasses that turn into JSON and back (``to_json`` / ``from_json``);
``store.py`` writes each one atomically to its own file. Everything that can be derived is
derived instead of stored, so that one mutation writes one record and state cannot disagree
with itself after a crash: the balance and the transactions come from the charges and refunds
kept on tasks and jobs, the template usage counts from the projects made by ``use``, and the
admin ledger from the request bodies kept on every record, in sequence order.

Credits follow one monthly rule: ``credits`` (the allowance) renews every calendar month (UTC);
``used`` is what this month's operations cost net of their refunds, and the balance is the
allowance minus ``used``. A refund is booked on the day (and so the month) of the charge it
refunds, whenever it happens, so no day or month ever shows a negative usage.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from pydantic import TypeAdapter, ValidationError

STATE_VERSION = 1
RECENT_TRANSACTIONS = 20

R = TypeVar("R", bound="Record")


def iso(timestamp: float) -> str:
    """A UTC timestamp as ISO 8601 with milliseconds and a ``Z``."""
    moment = dt.datetime.fromtimestamp(timestamp, dt.timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_uuid() -> str:
    """A random uuid4 as a string: the id of a project, job, account or message."""
    return str(uuid.uuid4())


def new_token(prefix: str) -> str:
    """A random opaque id with a readable prefix (tasks, workspaces, traces, transactions)."""
    return f"{prefix}_{uuid.uuid4().hex}"


class RecordError(ValueError):
    """Saved JSON does not have the shape of the record it should be; the message says where."""


@functools.cache
def _adapter(cls: Any) -> TypeAdapter[Any]:
    return TypeAdapter(cls)


class Record:
    """A dataclass that is saved as one JSON object."""

    def to_json(self) -> dict[str, Any]:
        """The record as JSON-ready values.

        Shallow on purpose: request bodies and events are shared with the record, not copied
        (a deep copy recurses once per level of a client's nested JSON), so the result must be
        serialised before the record changes again, as ``Store.save`` does at once.
        """
        return {
            item.name: _plain(getattr(self, item.name))
            for item in dataclasses.fields(cast(Any, self))
        }

    @classmethod
    def from_json(cls: type[R], data: Any) -> R:
        """The record from ``to_json``'s output; unknown keys (a newer engine's) are ignored.

        Raises ``RecordError`` when ``data`` is not such an object: a missing field or a value
        of the wrong type.
        """
        try:
            return cast(R, _adapter(cast(Any, cls)).validate_python(data))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "the record"
            more = exc.error_count() - 1
            tail = f" (and {more} more problems)" if more else ""
            raise RecordError(f"{where}: {first['msg'].lower()}{tail}") from exc


def _plain(value: Any) -> Any:
    return value.to_json() if isinstance(value, Record) else value


@dataclass
class Account(Record):
    """The one account of an engine; written once, when the state is created.

    The allowance is not part of it: it is ``EngineConfig.credits`` of the running engine, so
    restarting with another ``--credits`` changes the balance by the difference.
    """

    id: str
    email: str
    plan: str
    created_at: str


@dataclass
class Transaction(Record):
    """A charge or a refund; kept on the task or job it belongs to."""

    id: str
    seq: int
    type: str  # "charge" | "refund"
    amount: float
    description: str
    created_at: str
    project_id: str
    task_id: str | None = None
    job_id: str | None = None

    @property
    def net(self) -> float:
        """What the transaction took from the balance (a refund is negative)."""
        return self.amount if self.type == "charge" else -self.amount

    @property
    def operation(self) -> str | None:
        """The task or job the transaction belongs to (a refund shares its charge's)."""
        return self.task_id or self.job_id

    def to_api(self) -> dict[str, Any]:
        """The transaction as ``/credits.recent`` shows it."""
        data: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "amount": self.amount,
            "description": self.description,
            "createdAt": self.created_at,
            "projectId": self.project_id,
        }
        if self.task_id is not None:
            data["taskId"] = self.task_id
        if self.job_id is not None:
            data["jobId"] = self.job_id
        return data


@dataclass
class Project(Record):
    """A project and its current composition (its message history is its tasks)."""

    id: str
    seq: int
    name: str
    description: str | None
    aspect_ratio: str
    origin: str  # "blank" | "template" (POST /projects) | "template-use" (POST .../use)
    template_id: str | None
    composition_html: str
    created_at: str
    updated_at: str
    route: str
    request_body: dict[str, Any]
    has_preview: bool = False


@dataclass
class Task(Record):
    """A message task. ``events`` is planned when the task is accepted, so that a task that
    was running when the engine stopped is replayed identically after a restart."""

    id: str
    seq: int
    project_id: str
    request_body: dict[str, Any]
    workspace_id: str
    trace_id: str
    status: str  # "running" | "completed" | "error"
    events: list[dict[str, Any]]  # {"event": name, "data": payload}; ids are index + 1
    final_html: str
    assistant_text: str
    assistant_message_id: str
    will_fail: bool
    charge: Transaction
    created_at: str
    updated_at: str
    emitted: int = 0
    error: dict[str, str] | None = None
    refund: Transaction | None = None

    @property
    def running(self) -> bool:
        """Still publishing events (not completed or failed yet)."""
        return self.status == "running"


@dataclass
class RenderJob(Record):
    """A render job; ``html`` is the composition as it was when the render was asked for."""

    id: str
    seq: int
    project_id: str
    request_body: dict[str, Any]
    config: dict[str, Any]
    html: str
    duration: float
    trace_id: str
    status: str  # pending | generating | rendering | uploading | complete | failed
    progress: int
    charge: Transaction
    created_at: str
    updated_at: str
    error: str | None = None
    file_name: str | None = None
    file_size: int | None = None
    refund: Transaction | None = None

    @property
    def terminal(self) -> bool:
        """Complete or failed: the job will not change any more."""
        return self.status in ("complete", "failed")


class EngineState:
    """Everything the engine knows, in memory, with cheap derived views.

    Not thread-safe: it is only touched from the server's event loop.
    """

    def __init__(self, account: Account, monthly_allowance: float) -> None:
        self.account = account
        self.monthly_allowance = monthly_allowance
        self.projects: dict[str, Project] = {}
        self.tasks: dict[str, Task] = {}
        self.jobs: dict[str, RenderJob] = {}
        self.template_uses: Counter[str] = Counter()
        self._transactions: list[Transaction] = []
        self._net_by_day: dict[str, float] = {}
        # The day each task's or job's charge was booked on: its refund is booked there too.
        self._charge_days: dict[str, str] = {}
        self._running_by_project: dict[str, str] = {}
        self._last_seq = 0

    # ---------------------------------------------------------------- building up

    def next_seq(self) -> int:
        """The next number of the one sequence shared by every record and transaction."""
        self._last_seq += 1
        return self._last_seq

    def add_project(self, project: Project) -> None:
        """Add a new or loaded project; a project made by ``use`` counts a template use."""
        self.projects[project.id] = project
        self._last_seq = max(self._last_seq, project.seq)
        if project.origin == "template-use" and project.template_id:
            self.template_uses[project.template_id] += 1

    def add_task(self, task: Task) -> None:
        """Add a new or loaded task with its charge (and refund); a running one blocks its
        project."""
        self.tasks[task.id] = task
        self._last_seq = max(self._last_seq, task.seq)
        self.add_transaction(task.charge)
        if task.refund is not None:
            self.add_transaction(task.refund)
        if task.running:
            self._running_by_project[task.project_id] = task.id

    def add_job(self, job: RenderJob) -> None:
        """Add a new or loaded render job with its charge (and refund)."""
        self.jobs[job.id] = job
        self._last_seq = max(self._last_seq, job.seq)
        self.add_transaction(job.charge)
        if job.refund is not None:
            self.add_transaction(job.refund)

    def add_transaction(self, transaction: Transaction) -> None:
        """Book a charge or refund (records loaded from disk come in any order).

        A refund counts on the day of the charge of the same task or job: refunding at 00:00
        a charge made at 23:59 must not make the new day's (or month's) usage negative.
        """
        self._last_seq = max(self._last_seq, transaction.seq)
        if self._transactions and self._transactions[-1].seq > transaction.seq:
            self._transactions.append(transaction)
            self._transactions.sort(key=lambda item: item.seq)
        else:
            self._transactions.append(transaction)
        day = transaction.created_at[:10]
        operation = transaction.operation
        if operation is not None:
            if transaction.type == "charge":
                self._charge_days[operation] = day
            else:
                day = self._charge_days.get(operation, day)
        self._book(day, transaction.net)

    def refund(self, charge: Transaction, description: str, now: str) -> Transaction:
        """Refund ``charge`` in full, now; returns the booked refund for its task or job."""
        refund = Transaction(
            id=new_token("txn"),
            seq=self.next_seq(),
            type="refund",
            amount=charge.amount,
            description=description,
            created_at=now,
            project_id=charge.project_id,
            task_id=charge.task_id,
            job_id=charge.job_id,
        )
        self.add_transaction(refund)
        return refund

    def _book(self, day: str, net: float) -> None:
        self._net_by_day[day] = round(self._net_by_day.get(day, 0.0) + net, 2)

    def remove_task(self, task: Task) -> None:
        """Undo ``add_task`` of a task that could not be accepted after all."""
        self.tasks.pop(task.id, None)
        self._transactions = [t for t in self._transactions if t is not task.charge]
        self._book(task.charge.created_at[:10], -task.charge.net)
        self._charge_days.pop(task.id, None)
        if self._running_by_project.get(task.project_id) == task.id:
            del self._running_by_project[task.project_id]

    def task_finished(self, task: Task) -> None:
        """Forget ``task`` as its project's running task."""
        if self._running_by_project.get(task.project_id) == task.id:
            del self._running_by_project[task.project_id]

    # ------------------------------------------------------------------ queries

    def balance(self, month: str) -> float:
        """What is left of the allowance in ``month`` (``YYYY-MM``): allowance minus used."""
        return round(self.monthly_allowance - self.used_since(month), 2)

    def used_since(self, day_prefix: str) -> float:
        """Credits spent (net of refunds) on days whose ISO date starts with ``day_prefix``.

        Refunds count on their charge's day, so the result is never negative.
        """
        total = sum(net for day, net in self._net_by_day.items() if day.startswith(day_prefix))
        return round(total, 2)

    def recent_transactions(self, limit: int = RECENT_TRANSACTIONS) -> list[Transaction]:
        """The newest ``limit`` transactions, newest first."""
        return list(reversed(self._transactions[-limit:]))

    def running_task(self, project_id: str) -> Task | None:
        """The task running on ``project_id``, if any (one at most: TASK_RUNNING)."""
        task_id = self._running_by_project.get(project_id)
        return self.tasks.get(task_id) if task_id else None

    @property
    def running_task_count(self) -> int:
        """Tasks running account-wide (CONCURRENCY_LIMIT counts these)."""
        return len(self._running_by_project)

    def latest_job_after(self, project_id: str, seq: int) -> RenderJob | None:
        """The newest render job of a project asked for after sequence number ``seq``."""
        latest: RenderJob | None = None
        for job in self.jobs.values():
            if (
                job.project_id == project_id
                and job.seq > seq
                and (latest is None or job.seq > latest.seq)
            ):
                latest = job
        return latest

    def ledger(self) -> list[dict[str, Any]]:
        """Every accepted charge-bearing operation, in the order it was accepted."""
        entries: list[tuple[int, dict[str, Any]]] = []
        for project in self.projects.values():
            entry: dict[str, Any] = {"kind": "project", "projectId": project.id}
            entry["route"] = project.route
            entry |= {"body": project.request_body, "at": project.created_at}
            entries.append((project.seq, entry))
        for task in self.tasks.values():
            entry = {"kind": "message", "projectId": task.project_id, "taskId": task.id}
            entry |= {"body": task.request_body, "at": task.created_at}
            entries.append((task.seq, entry))
        for job in self.jobs.values():
            entry = {"kind": "render", "projectId": job.project_id, "jobId": job.id}
            entry |= {"body": job.request_body, "at": job.created_at}
            entries.append((job.seq, entry))
        return [entry for _, entry in sorted(entries, key=lambda item: item[0])]

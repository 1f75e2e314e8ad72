"""Every failure the tool expects, under one root.

The CLI's single handler maps any ``BuildError`` to exit code 1 and prints its message and
hint; anything else is a bug. Library exceptions (httpx, pydantic, yaml) are translated into
these at the module that calls the library, and never leak further.

    BuildError                      root; .hint says what to do next
    ├── SpecError                   parafraim.yaml is wrong (carries every SpecProblem)
    ├── InitError                   `init` cannot write the starter (spec.starter)
    ├── ConfigError                 environment or options are wrong (missing key, bad URL)
    ├── LockError                   parafraim.lock cannot be used
    │   ├── LockBusyError           another apply holds the lock
    │   ├── LockMismatchError       the lock belongs to another account or base URL
    │   ├── LockVersionError        the lock was written by a newer parafraim-build
    │   ├── LockCorruptError        the lock cannot be parsed
    │   └── StalePlanError          a saved plan no longer matches the lock
    ├── BudgetError                 a plan would spend more than allowed or available
    ├── DownloadError               an output could not be fetched or verified
    │   └── LocalWriteError         an output could not be written here (disk, folder)
    ├── ApplyError                  one or more videos failed during apply
    └── ApiError                    the Parafraim API said no (decided on error.code)
        ├── UnauthorizedError       UNAUTHORIZED
        ├── InsufficientCreditsError INSUFFICIENT_CREDITS
        ├── TaskRunningError        TASK_RUNNING
        ├── NoPreviewError          NO_PREVIEW
        ├── ApiValidationError      VALIDATION
        ├── ProjectLimitError       PROJECT_LIMIT
        ├── ConcurrencyLimitError   CONCURRENCY_LIMIT
        ├── NotFoundError           NOT_FOUND (not documented; the local engine uses it)
        ├── UnknownApiError         any other error.code: never crashes, shows the code
        ├── TaskFailedError         a task ended in error or was cancelled
        ├── RenderFailedError       a render job ended in failed
        ├── TransientError          5xx, an HTML error page, a timeout, a dropped connection
        └── OutcomeUnknownError     a POST may have been processed; not retried
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


class BuildError(Exception):
    """Root of every expected failure. ``str(err)`` is the message; ``hint`` what to do."""

    default_hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class SpecProblem:
    """One mistake in a spec, located as precisely as we can."""

    file: str
    line: int | None
    column: int | None
    message: str
    key_path: str = ""
    source_line: str | None = None

    def location(self) -> str:
        """``FILE:LINE:COLUMN`` (or fewer parts when the position is unknown)."""
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def render(self) -> str:
        """The problem as shown to the user: location, message, key path, the YAML line.

        A problem without a file (a command-line option) is its message alone. A source line
        longer than 100 characters is cut to a window around the column, marked with ``...``,
        so the caret still points at the spot without flooding the terminal.
        """
        head = f"{self.location()}: {self.message}" if self.file else self.message
        if self.key_path:
            head += f" (at {self.key_path})"
        if self.source_line is not None:
            text, width = self.source_line.rstrip(), 100
            caret = max(self.column - 1, 0) if self.column is not None else None
            if len(text) > width:
                start = max(0, min((caret or 0) - width // 2, len(text) - width))
                prefix = "..." if start > 0 else ""
                suffix = "..." if start + width < len(text) else ""
                text = prefix + text[start : start + width] + suffix
                if caret is not None:
                    caret += len(prefix) - start
            pointer = "" if caret is None else "\n    " + " " * caret + "^"
            head += f"\n    {text}{pointer}"
        return head


class SpecError(BuildError):
    """The spec has one or more problems; all of them are in ``problems``."""

    def __init__(self, problems: Sequence[SpecProblem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        summary = "\n".join(problem.render() for problem in self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(
            f"{summary}\n{count} {noun} found",
            hint="fix the spec and run `parafraim-build validate` again",
        )


class ConfigError(BuildError):
    """The environment or the command-line options cannot be used."""


class LockError(BuildError):
    """The lockfile cannot be used as it is."""


class LockBusyError(LockError):
    """Another ``apply`` holds the lock of this spec."""


class LockMismatchError(LockError):
    """The lock was written for another account or API base URL."""


class LockVersionError(LockError):
    """The lock was written by a newer version of parafraim-build."""


class LockCorruptError(LockError):
    """The lock cannot be parsed or does not match its schema."""


class StalePlanError(LockError):
    """A saved plan was made against a lock that has changed since."""


class BudgetError(BuildError):
    """A plan would spend more credits than the balance or ``--max-credits`` allows."""


class DownloadError(BuildError):
    """An output could not be downloaded or failed verification."""


class LocalWriteError(DownloadError):
    """An output could not be written here: a read-only folder, a full disk, a folder where
    the file should go. Rendering again would not help: the disk must be fixed. Raised for
    downloads, run-cache restores and outputs moved to a new ``outDir`` alike."""

    def __init__(self, dest: Path, exc: OSError, *, hint: str | None = None) -> None:
        super().__init__(
            f"cannot write {dest}: {exc.strerror or exc}",
            hint=hint
            or "make the output folder writable (and remove anything in the file's place), "
            "then run the command again: nothing is rendered again for it",
        )
        self.dest = dest


class ApplyError(BuildError):
    """One or more videos failed; the others finished and are recorded."""


class ApiError(BuildError):
    """The Parafraim API answered with an error, decided on ``error.code``."""

    code: str = "UNKNOWN"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        if code is not None:
            self.code = code
        self.status = status


class UnauthorizedError(ApiError):
    code = "UNAUTHORIZED"
    default_hint = "set PARAFRAIM_API_KEY to a valid key (Settings -> API keys; starts with pfk_)"


class InsufficientCreditsError(ApiError):
    code = "INSUFFICIENT_CREDITS"
    default_hint = "top up credits or build less (`parafraim-build credits` shows the balance)"


class TaskRunningError(ApiError):
    code = "TASK_RUNNING"
    default_hint = "wait for the project's running task to finish, then retry"


class NoPreviewError(ApiError):
    code = "NO_PREVIEW"
    default_hint = "add a step that creates the composition before rendering this video"


class ApiValidationError(ApiError):
    code = "VALIDATION"
    default_hint = "the request was refused as invalid: check the spec value it came from"


class ProjectLimitError(ApiError):
    code = "PROJECT_LIMIT"
    default_hint = "the plan allows no more projects: upgrade the plan or build fewer videos"


class ConcurrencyLimitError(ApiError):
    code = "CONCURRENCY_LIMIT"
    default_hint = "the account runs too many tasks at once: lower --parallelism or retry later"


class NotFoundError(ApiError):
    code = "NOT_FOUND"
    default_hint = (
        "check that the id exists in this account, and that PARAFRAIM_BASE_URL points at the "
        "Parafraim API (https://parafraim.com unless you use a proxy or a local engine)"
    )


class UnknownApiError(ApiError):
    """An ``error.code`` this version does not know; shown as is, never a crash."""


class TaskFailedError(ApiError):
    """A message task ended in ``error`` or ``cancelled``."""

    code = "TASK_FAILED"


class RenderFailedError(ApiError):
    """A render job ended in ``failed``."""

    code = "RENDER_FAILED"


class TransientError(ApiError):
    """A failure that says nothing was decided: 5xx, an HTML page, a timeout, a reset."""

    code = "TRANSIENT"
    default_hint = "the service or the network failed; retry later"


class OutcomeUnknownError(ApiError):
    """A POST may or may not have been processed; retrying could pay twice."""

    code = "OUTCOME_UNKNOWN"


ERRORS_BY_CODE: dict[str, type[ApiError]] = {
    cls.code: cls
    for cls in (
        UnauthorizedError,
        InsufficientCreditsError,
        TaskRunningError,
        NoPreviewError,
        ApiValidationError,
        ProjectLimitError,
        ConcurrencyLimitError,
        NotFoundError,
    )
}

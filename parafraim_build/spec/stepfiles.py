"""Step files: message text read from a file next to the spec, never from outside its folder.

A spec from a pull request must not be able to send ``../../.ssh/id_rsa`` (or a symlink to
it) to a remote API, so a step file path is refused when it is absolute, when it climbs out
of the spec's folder, or when it resolves (through symbolic links) to anything outside it.
Inside the folder, hidden files and folders (``.git``, ``.env``, ``.parafraim``) are refused
too, since that is where a checkout keeps its credentials, and so is a file whose text looks
like it holds one (``credentials``). Each file is read and decoded once however many videos
use it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from parafraim_build.spec.credentials import find_credential
from parafraim_build.spec.problems import ProblemCollector
from parafraim_build.spec.source import SourceText
from parafraim_build.spec.yamlsource import decode_text

# A message is at most 10,000 characters; a prompt file a hundred times that is a mistake.
MAX_STEP_FILE_BYTES = 1024 * 1024
# The longest file name common file systems allow.
MAX_NAME_BYTES = 255

_HIDDEN_RULE = (
    "hidden files and folders (.git, .env, .parafraim, ...) are refused, because that is where "
    "a checkout keeps credentials and local state"
)


@dataclass(frozen=True)
class StepFile:
    """A readable step file: its path relative to the spec's folder and its text."""

    relative: str
    source: SourceText
    text: str


def check_relative_path(name: str, what: str) -> str | None:
    """Why ``name`` cannot be a path inside the spec's folder, or ``None`` when it can.

    This is the lexical check (absolute, ``~``, ``..``, a part starting with ``.``);
    ``check_resolved_path`` checks the same on disk, after symbolic links.
    """
    if not name.strip():
        return f"the {what} path is empty"
    if any(ord(char) < 0x20 or char == "\x7f" for char in name):
        return f"the {what} path {name!r} contains a control character"
    if "\\" in name:
        return f"use / in {what} paths, not \\ ({name!r})"
    if PurePosixPath(name).is_absolute() or PureWindowsPath(name).drive:
        return (
            f"absolute {what} paths are refused ({name!r}): give a path relative to the "
            "spec, inside its folder"
        )
    if name.startswith("~"):
        return f"{what} paths are relative to the spec's folder; ~ is not expanded ({name!r})"
    normalized = posixpath.normpath(name)
    if any(len(part.encode("utf-8")) > MAX_NAME_BYTES for part in normalized.split("/")):
        return f"a part of the {what} path is longer than {MAX_NAME_BYTES} bytes"
    if normalized == ".." or normalized.startswith("../"):
        return f"the {what} path {name!r} leaves the spec's folder, which is refused"
    hidden = _hidden_part(normalized.split("/"))
    if hidden is not None:
        return f"the {what} path {name!r} goes through {hidden!r}: {_HIDDEN_RULE}"
    return None


def check_resolved_path(name: str, resolved: Path, root: Path, what: str) -> str | None:
    """Why ``name``, resolved on disk to ``resolved``, cannot be used below ``root``.

    The lexical check has passed; this catches symbolic links that lead out of the folder,
    or into a hidden part of it.
    """
    if not resolved.is_relative_to(root):
        return (
            f"{what} {name!r} resolves through a symbolic link to {resolved}, outside the "
            "spec's folder, which is refused"
        )
    hidden = _hidden_part(resolved.relative_to(root).parts)
    if hidden is not None:
        return f"{what} {name!r} resolves through a symbolic link into {hidden!r}: {_HIDDEN_RULE}"
    return None


def _hidden_part(parts: Sequence[str]) -> str | None:
    return next((part for part in parts if part.startswith(".") and part != "."), None)


class StepFiles:
    """Reads step files below ``root`` (the spec's folder), each once."""

    def __init__(self, root: Path, display_dir: str, problems: ProblemCollector) -> None:
        self._root = root.resolve()
        self._display_dir = display_dir
        self._problems = problems
        self._cache: dict[str, StepFile | str | None] = {}

    def read(self, name: str) -> StepFile | str | None:
        """The step file ``name`` (relative to the spec's folder).

        Returns a reason (text) when the path is refused or the file is missing, to be
        reported where the spec names it; ``None`` when the file exists but is not text,
        which has already been reported at the offending byte of the file itself.
        """
        if name not in self._cache:
            self._cache[name] = self._load(name)
        return self._cache[name]

    def _load(self, name: str) -> StepFile | str | None:
        refused = check_relative_path(name, "step file")
        if refused is not None:
            return refused
        relative = posixpath.normpath(name)
        full = self._root / relative
        try:
            resolved = full.resolve()
        except (OSError, RuntimeError) as exc:
            return f"step file {name!r} cannot be resolved: {exc}"
        refused = check_resolved_path(name, resolved, self._root, "step file")
        if refused is not None:
            return refused
        display = posixpath.join(self._display_dir, relative) if self._display_dir else relative
        try:
            if not resolved.exists():
                return f"step file {name!r} does not exist (looked for {full})"
            if not resolved.is_file():
                return f"step file {name!r} is not a regular file"
            size = resolved.stat().st_size
            if size > MAX_STEP_FILE_BYTES:
                return f"step file {name!r} is {size} bytes; at most {MAX_STEP_FILE_BYTES}"
            raw = resolved.read_bytes()
        except OSError as exc:
            return f"step file {name!r} cannot be read: {exc.strerror or exc}"
        text = decode_text(raw, display, self._problems, "step file")
        if text is None:
            return None
        secret = find_credential(text)
        if secret is not None:
            return (
                f"step file {name!r} looks like it holds {secret.kind} (line {secret.line}): "
                "it is refused so that the secret is never sent to the API; take it out of "
                "the file"
            )
        return StepFile(relative, SourceText.from_text(display, text), text)

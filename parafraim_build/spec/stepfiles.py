"""Step files: message text read from a file next to the spec, never from outside its folder.

A spec from a pull request must not be able to send ``../../.ssh/id_rsa`` (or a symlink to
it) to a remote API, so a step file path is refused when it is absolute, when it climbs out
of the spec's folder, or when it resolves (through symbolic links) to anything outside it.
Each file is read and decoded once however many videos use it.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from parafraim_build.spec.problems import ProblemCollector
from parafraim_build.spec.source import SourceText
from parafraim_build.spec.yamlsource import decode_text

# A message is at most 10,000 characters; a prompt file a hundred times that is a mistake.
MAX_STEP_FILE_BYTES = 1024 * 1024
# The longest file name common file systems allow.
MAX_NAME_BYTES = 255


@dataclass(frozen=True)
class StepFile:
    """A readable step file: its path relative to the spec's folder and its text."""

    relative: str
    source: SourceText
    text: str


def check_relative_path(name: str, what: str) -> str | None:
    """Why ``name`` cannot be a path inside the spec's folder, or ``None`` when it can.

    This is the lexical check (absolute, ``~``, ``..``); symbolic links are checked on disk.
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
    return None


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
        if not resolved.is_relative_to(self._root):
            return (
                f"step file {name!r} resolves through a symbolic link to {resolved}, outside "
                "the spec's folder, which is refused"
            )
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
        return StepFile(relative, SourceText.from_text(display, text), text)

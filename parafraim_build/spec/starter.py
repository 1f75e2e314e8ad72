"""``init``: a commented starter spec, a prompt file and ``.gitignore`` lines.

The starter is package data (``starter_files/``) so it is the same file the tests validate.
Nothing is ever overwritten: an existing spec or prompt file stops ``init`` before anything
is written, and ``.gitignore`` only gains the lines it lacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from parafraim_build.errors import BuildError

STARTER_FILES = ("parafraim.yaml", "prompts/outro.md")
# Local state, build outputs, and the file lock apply leaves beside parafraim.lock.
GITIGNORE_LINES = (".parafraim/", "out/", "parafraim.lock.lck")
_GITIGNORE_HEADER = "# parafraim-build: local state and build outputs"


class InitError(BuildError):
    """``init`` cannot write the starter: a file is in the way, or the folder is not writable."""


@dataclass(frozen=True)
class InitResult:
    """What ``init_project`` wrote: new files, and the lines added to ``.gitignore``."""

    directory: Path
    created: tuple[Path, ...]
    gitignore: Path
    gitignore_added: tuple[str, ...]


def starter_text(name: str) -> str:
    """The text of starter file ``name`` (one of ``STARTER_FILES``)."""
    folder = resources.files("parafraim_build.spec") / "starter_files"
    for part in name.split("/"):
        folder = folder / part
    return folder.read_text(encoding="utf-8")


def init_project(directory: Path) -> InitResult:
    """Write the starter into ``directory`` (created if needed); never overwrite a file.

    Raises ``InitError`` naming the first file that already exists.
    """
    if directory.exists() and not directory.is_dir():
        raise InitError(f"{directory} exists and is not a folder")
    for name in STARTER_FILES:
        target = directory / name
        if target.exists() or target.is_symlink():
            raise InitError(
                f"{target} already exists; init never overwrites a file",
                hint="edit the existing spec, or run `parafraim-build init DIR` in a new folder",
            )
    gitignore = directory / ".gitignore"
    if gitignore.exists() and not gitignore.is_file():
        raise InitError(f"{gitignore} exists and is not a file")
    created: list[Path] = []
    try:
        for name in STARTER_FILES:
            target = directory / name
            target.parent.mkdir(parents=True, exist_ok=True)
            # "x" refuses to overwrite even if the file appeared since the check above.
            with target.open("x", encoding="utf-8") as handle:
                handle.write(starter_text(name))
            created.append(target)
        added = _extend_gitignore(gitignore)
    except FileExistsError as exc:
        raise InitError(f"{exc.filename} already exists; init never overwrites a file") from exc
    except OSError as exc:
        raise InitError(f"cannot write the starter into {directory}: {exc}") from exc
    return InitResult(directory, tuple(created), gitignore, added)


def _extend_gitignore(gitignore: Path) -> tuple[str, ...]:
    existing = gitignore.read_text(encoding="utf-8") if gitignore.exists() else ""
    present = {line.strip() for line in existing.splitlines()}
    missing = tuple(line for line in GITIGNORE_LINES if line not in present)
    if not missing:
        return ()
    prefix = "" if not existing or existing.endswith("\n") else "\n"
    block = "\n".join((_GITIGNORE_HEADER, *missing)) + "\n"
    if existing:
        block = "\n" + block
    with gitignore.open("a", encoding="utf-8") as handle:
        handle.write(prefix + block)
    return missing

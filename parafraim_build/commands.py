"""The ``parafraim-build`` command lines that messages and saved plans tell the user to run.

A hint such as "fix the spec and run `parafraim-build validate -f site/videos.yaml` again" or
"apply it with `parafraim-build apply --local plan.json`" must run as printed and act on the
same spec, service, run cache and variables as the command that printed it. Both are built
here, with one rule for when ``-f`` is needed, so that they never disagree. This module
imports nothing of the CLI or the spec loader: both import it.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable, Mapping, Sequence

from parafraim_build.logs import redact

PROGRAM = "parafraim-build"
"""The name of the command line program, as the user types it."""

DEFAULT_SPEC = "parafraim.yaml"
"""The spec every command reads when ``-f`` is not given (in the working directory)."""


def is_default_spec(spec_file: str | os.PathLike[str]) -> bool:
    """Whether ``spec_file``, as typed or shown, is the spec read without ``-f``.

    The one rule: the path, normalised (``./parafraim.yaml``, ``a/../parafraim.yaml``), is
    ``parafraim.yaml``. A spec named so in another folder needs ``-f``.
    """
    return os.path.normpath(os.fspath(spec_file)) == DEFAULT_SPEC


def command_words(
    subcommand: str,
    *,
    spec_file: str | os.PathLike[str],
    variables: Mapping[str, str] | Iterable[str] = (),
    local: bool = False,
    cache_dir: str | os.PathLike[str] | None = None,
    extra: Sequence[str] = (),
) -> list[str]:
    """The argv of ``parafraim-build SUBCOMMAND`` for this spec, service, cache and variables.

    ``-f`` only when the spec is not the default one (``is_default_spec``), then
    ``--local``, ``--cache-dir`` and one ``--var`` per variable, then ``extra`` (arguments
    such as a plan file). ``variables`` is either the parsed overrides (``{"month": "May"}``)
    or the ``KEY=VALUE`` pairs as typed. Paths are kept as given: the command works from the
    folder the user ran the first one in.
    """
    words = [PROGRAM, subcommand]
    if not is_default_spec(spec_file):
        words += ["-f", os.fspath(spec_file)]
    if local:
        words.append("--local")
    if cache_dir is not None:
        words += ["--cache-dir", os.fspath(cache_dir)]
    pairs = (
        [f"{key}={value}" for key, value in variables.items()]
        if isinstance(variables, Mapping)
        else list(variables)
    )
    for pair in pairs:
        words += ["--var", pair]
    words += extra
    return words


def command_line(
    subcommand: str,
    *,
    spec_file: str | os.PathLike[str],
    variables: Mapping[str, str] | Iterable[str] = (),
    local: bool = False,
    cache_dir: str | os.PathLike[str] | None = None,
    extra: Sequence[str] = (),
) -> str:
    """``command_words`` as one line to print: quoted for a POSIX shell, so that it runs as
    shown, and redacted, since a ``--var`` value may hold an API key."""
    words = command_words(
        subcommand,
        spec_file=spec_file,
        variables=variables,
        local=local,
        cache_dir=cache_dir,
        extra=extra,
    )
    return printable(words)


def printable(words: Sequence[str]) -> str:
    """A command's words as one line to print: quoted for a POSIX shell, so that it runs as
    shown, and redacted, since a ``--var`` value may hold an API key."""
    return redact(shlex.join(words))

"""Shared fixtures. Tests never touch the developer's machine: the environment, the cache
directory and the working directory are isolated for every test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_LEAKY_VARIABLES = (
    "PARAFRAIM_API_KEY",
    "PARAFRAIM_BASE_URL",
    "PARAFRAIM_CACHE_DIR",
    "PARAFRAIM_ENGINE_API_KEY",
    "CI",
)


@pytest.fixture(autouse=True)
def isolated_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No real key, no real base URL, a private cache dir, HOME in a temp folder."""
    for name in _LEAKY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PARAFRAIM_CACHE_DIR", str(home / "parafraim-cache"))
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture
def project_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder that is also the working directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = REPO_ROOT / "examples"


def pytest_report_header() -> str:
    return f"parafraim-build tests; repo {REPO_ROOT}; cpu count {os.cpu_count()}"

"""Atomic writes and loading of the engine's state directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parafraim_build.emulator.store import (
    DirectoryStore,
    MemoryStore,
    SnapshotStore,
    StateBusyError,
    write_atomically,
)
from parafraim_build.errors import ConfigError


def test_an_atomic_write_replaces_the_file_and_leaves_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "record.json"
    target.write_text("old")
    write_atomically(target, b'{"new": true}')
    assert json.loads(target.read_text()) == {"new": True}
    assert [path.name for path in tmp_path.iterdir()] == ["record.json"]


def test_saves_land_in_order_and_load_back(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    futures = [store.save("projects", "p1", {"seq": 1, "version": n}) for n in range(50)]
    store.save_account({"id": "a"}).result()
    for future in futures:
        future.result()
    store.close()
    reopened = DirectoryStore(tmp_path)
    loaded = reopened.load()
    reopened.close()
    [record] = loaded.records["projects"]
    assert record.data == {"seq": 1, "version": 49}
    assert record.path == tmp_path / "projects" / "p1.json"
    assert loaded.account == {"id": "a"}
    assert loaded.account_path == tmp_path / "engine.json"


def test_a_record_is_serialised_when_saved_not_when_written(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    record = {"seq": 1, "name": "before"}
    future = store.save("tasks", "t1", record)
    record["name"] = "after"
    future.result()
    store.close()
    assert json.loads((tmp_path / "tasks" / "t1.json").read_text())["name"] == "before"


def test_loading_removes_leftovers_of_interrupted_writes(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    store.save("jobs", "j1", {"seq": 1}).result()
    store.close()
    (tmp_path / "jobs" / ".tmp-j2.json.abc").write_text("{half")
    (tmp_path / "files" / ".j3.mp4.xyz.part").write_bytes(b"partial video")
    (tmp_path / "files" / "j1.mp4").write_bytes(b"video")
    reopened = DirectoryStore(tmp_path)
    loaded = reopened.load()
    reopened.close()
    assert [record.data for record in loaded.records["jobs"]] == [{"seq": 1}]
    assert sorted(path.name for path in (tmp_path / "jobs").iterdir()) == ["j1.json"]
    assert sorted(path.name for path in (tmp_path / "files").iterdir()) == ["j1.mp4"]


def test_stats_are_saved_beside_the_records(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    store.save_stats({"requests": {"total": 3, "byRoute": {"GET /api/v1/me": 3}}}).result()
    store.close()
    reopened = DirectoryStore(tmp_path)
    assert reopened.load().stats == {"requests": {"total": 3, "byRoute": {"GET /api/v1/me": 3}}}
    reopened.close()


def test_the_memory_store_writes_nothing_and_cleans_its_files() -> None:
    store = MemoryStore()
    assert store.save("projects", "p", {"seq": 1}).result() is None
    assert store.load().records == {"projects": [], "tasks": [], "jobs": []}
    (store.files_dir / "x.mp4").write_bytes(b"v")
    store.close()
    assert not store.files_dir.exists()


def test_one_directory_serves_one_store_at_a_time(tmp_path: Path) -> None:
    first = DirectoryStore(tmp_path)
    with pytest.raises(ConfigError, match="another engine uses the state directory") as caught:
        DirectoryStore(tmp_path)
    assert caught.value.hint is not None
    assert "--state-dir" in caught.value.hint
    first.close()
    second = DirectoryStore(tmp_path)  # released on close: the directory can be used again
    second.close()
    assert (tmp_path / "engine.lock").exists()  # a leftover lock file blocks nothing
    DirectoryStore(tmp_path).close()


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes() for path in root.rglob("*") if path.is_file()
    }


def test_a_snapshot_reads_a_held_directory_and_changes_nothing(tmp_path: Path) -> None:
    owner = DirectoryStore(tmp_path)  # an engine is using the directory
    owner.save("projects", "p1", {"seq": 1}).result()
    owner.save("jobs", "j1", {"seq": 2}).result()
    owner.save_stats({"requests": {"total": 1}}).result()
    (tmp_path / "jobs" / ".tmp-j2.json.abc").write_text("{half")
    (tmp_path / "files" / ".j1.mp4.xyz.part").write_bytes(b"partial video")
    before = _tree(tmp_path)
    snapshot = SnapshotStore(tmp_path)
    loaded = snapshot.load()
    snapshot.save("projects", "p2", {"seq": 3}).result()
    snapshot.save_stats({"requests": {"total": 9}}).result()
    snapshot.close()
    assert [record.data for record in loaded.records["jobs"]] == [{"seq": 2}]
    assert [record.data for record in loaded.records["projects"]] == [{"seq": 1}]
    assert loaded.stats == {"requests": {"total": 1}}
    assert _tree(tmp_path) == before  # leftovers kept: they belong to the owner
    assert not snapshot.files_dir.exists()  # its own temporary folder, not the state's
    owner.close()


def test_a_snapshot_of_a_folder_without_records_is_empty(tmp_path: Path) -> None:
    snapshot = SnapshotStore(tmp_path / "nothing-yet")
    loaded = snapshot.load()
    snapshot.close()
    assert loaded.records == {"projects": [], "tasks": [], "jobs": []}
    assert loaded.account_path is None
    assert not (tmp_path / "nothing-yet").exists()


def test_a_held_directory_is_refused_with_its_own_error(tmp_path: Path) -> None:
    owner = DirectoryStore(tmp_path)
    with pytest.raises(StateBusyError, match="another engine uses the state directory"):
        DirectoryStore(tmp_path)
    owner.close()
    DirectoryStore(tmp_path).close()  # released with the owner

"""The lock file: parsing, reading, errors that never overwrite, the guarded atomic store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_fsutil import ordinary_mode
from test_lock_model import ACCOUNT, BASE, EXPECTED_YAML, sample_lock

from parafraim_build.errors import (
    LockBusyError,
    LockCorruptError,
    LockError,
    LockMismatchError,
    LockVersionError,
)
from parafraim_build.lock_model import LOCK_HEADER, BlankSource, Lock, dump_lock
from parafraim_build.lockfile import (
    ABSENT_DIGEST,
    LOCAL_LOCK_HEADER,
    LockStore,
    lock_digest,
    parse_lock,
    read_lock,
)
from parafraim_build.workspace import LOCAL_LOCK, workspace_for


def test_parse_round_trips() -> None:
    lock = sample_lock()
    assert parse_lock(dump_lock(lock)) == lock


def test_multiline_and_unicode_values_survive_the_block_indentation() -> None:
    lock = sample_lock().record_project(
        "launch",
        project_id="p-3",
        source=BlankSource(aspectRatio="1:1"),
        name="Fête: ünïcode",
        description="line one\n  indented two\n\nafter a blank line\n",
        initial_composition_sha256="x",
    )
    assert parse_lock(dump_lock(lock)) == lock


def test_a_lock_with_a_url_field_is_corrupt_not_trimmed() -> None:
    text = EXPECTED_YAML.replace("jobId: j-1", "jobId: j-1\n        videoUrl: https://x/y")
    with pytest.raises(LockCorruptError, match="videoUrl"):
        parse_lock(text)


def test_read_lock_of_a_missing_file_is_none(tmp_path: Path) -> None:
    assert read_lock(tmp_path / "parafraim.lock") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("videos: [unclosed", "not valid YAML"),
        ("- a list\n", "is not a parafraim-build lock"),
        ("baseUrl: x\naccountId: y\n", "no valid lockVersion"),
        ("lockVersion: yes\nbaseUrl: x\naccountId: y\n", "no valid lockVersion"),
        ("lockVersion: 1\nbaseUrl: x\n", "accountId"),
        ("lockVersion: 1\nbaseUrl: x\naccountId: y\nvideos: {v: {projectId: 1}}\n", "videos.v"),
    ],
)
def test_a_corrupt_lock_is_an_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "parafraim.lock"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LockCorruptError, match=message) as info:
        read_lock(path)
    assert "never overwritten" in (info.value.hint or "")


def test_a_check_of_the_whole_lock_names_its_place_once() -> None:
    text = dump_lock(sample_lock()).replace("out/launch/hd.mp4", "out/other/hd.mp4")
    with pytest.raises(LockCorruptError) as info:
        parse_lock(text)
    assert info.value.message == (
        "parafraim.lock does not match the lock format: videos.launch.renders.hd: output "
        "path 'out/other/hd.mp4' is not <outDir>/launch/hd.mp4"
    )


def test_a_lock_that_is_not_utf8_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "parafraim.lock"
    path.write_bytes(b"\xff\xfe lockVersion")
    with pytest.raises(LockCorruptError, match="UTF-8"):
        read_lock(path)


def test_a_newer_lock_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "parafraim.lock"
    path.write_text("lockVersion: 2\nbaseUrl: x\naccountId: y\nfuture: {}\n", encoding="utf-8")
    with pytest.raises(LockVersionError, match="newer parafraim-build") as info:
        read_lock(path)
    assert "upgrade" in (info.value.hint or "")


def test_lock_digest_follows_the_bytes(tmp_path: Path) -> None:
    path = tmp_path / "parafraim.lock"
    assert lock_digest(path) == ABSENT_DIGEST
    path.write_text(dump_lock(sample_lock()), encoding="utf-8")
    first = lock_digest(path)
    assert first == lock_digest(path)
    path.write_text(dump_lock(sample_lock().drop_video("blank")), encoding="utf-8")
    assert lock_digest(path) != first


def test_a_new_lock_is_started_and_written_on_the_first_update(tmp_path: Path) -> None:
    path = tmp_path / "parafraim.lock"
    with LockStore(path) as store:
        assert store.lock is None
        lock = store.check_owner(BASE, ACCOUNT)
        assert lock == Lock.new(BASE, ACCOUNT)
        assert not path.exists()  # nothing recorded, nothing written
        store.update(lambda lock: lock.with_template("Intro", "tpl-2"))
    assert read_lock(path) == Lock.new(BASE, ACCOUNT).with_template("Intro", "tpl-2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["parafraim.lock", "parafraim.lock.lck"]
    # Committed and read by everyone: the mode of an ordinary new file, not owner-only.
    assert path.stat().st_mode & 0o777 == ordinary_mode(tmp_path)


def test_updates_are_written_at_once_and_only_when_something_changed(tmp_path: Path) -> None:
    path = tmp_path / "parafraim.lock"
    path.write_text(dump_lock(sample_lock()), encoding="utf-8")
    with LockStore(path) as store:
        store.check_owner(BASE, ACCOUNT)
        inode = path.stat().st_ino
        store.update(lambda lock: lock)  # the same content: the file is not rewritten
        assert path.stat().st_ino == inode
        new = store.update(lambda lock: lock.remove_render("launch", "hd"))
        assert read_lock(path) == new  # visible before the store closes: crash-safe
        assert path.stat().st_ino != inode  # replaced by rename, never written in place
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_the_local_lock_says_it_is_a_throwaway_and_the_real_one_asks_to_be_committed(
    tmp_path: Path,
) -> None:
    spec = tmp_path / "parafraim.yaml"
    written = {}
    for local in (False, True):
        workspace = workspace_for(spec, local=local)
        path = workspace.lock_path
        with LockStore(path, local=workspace.local) as store:
            store.check_owner(BASE, ACCOUNT)
            store.update(lambda lock: lock.with_template("Intro", "tpl-2"))
        written[local] = path.read_text(encoding="utf-8")
        assert read_lock(path) == Lock.new(BASE, ACCOUNT).with_template("Intro", "tpl-2")
    assert written[False].startswith(LOCK_HEADER)
    assert "Commit it" in written[False]
    local_text = written[True]
    assert local_text.startswith(LOCAL_LOCK_HEADER)
    assert "Commit it" not in local_text
    assert "Do not commit it" in local_text
    assert "delete .parafraim/local/" in local_text
    # Only the header differs: the content is the same lock.
    assert local_text.removeprefix(LOCAL_LOCK_HEADER) == written[False].removeprefix(LOCK_HEADER)


def test_a_local_lock_with_the_old_header_gets_the_new_one_at_its_next_change(
    tmp_path: Path,
) -> None:
    path = tmp_path / LOCAL_LOCK
    path.parent.mkdir(parents=True)
    path.write_text(dump_lock(sample_lock()), encoding="utf-8")
    with LockStore(path, local=True) as store:
        store.check_owner(BASE, ACCOUNT)
        store.update(lambda lock: lock.remove_render("launch", "hd"))
    assert path.read_text(encoding="utf-8").startswith(LOCAL_LOCK_HEADER)


def test_the_store_is_told_which_lock_is_local_and_does_not_guess_from_the_path(
    tmp_path: Path,
) -> None:
    # A lock in the local lock's place but not said to be local keeps the committed header,
    # and one said to be local gets the throwaway header wherever it lives.
    cases = {tmp_path / LOCAL_LOCK: False, tmp_path / "elsewhere" / "my.lock": True}
    for path, local in cases.items():
        with LockStore(path, local=local) as store:
            store.check_owner(BASE, ACCOUNT)
            store.update(lambda lock: lock.with_template("Intro", "tpl-2"))
        header = LOCAL_LOCK_HEADER if local else LOCK_HEADER
        assert path.read_text(encoding="utf-8").startswith(header)


@pytest.mark.parametrize(
    ("base_url", "account", "message"),
    [
        ("https://staging.parafraim.com", ACCOUNT, "belongs to https://parafraim.com"),
        (BASE, "acc-2", "another Parafraim account"),
    ],
)
def test_a_lock_of_another_owner_is_refused(
    tmp_path: Path, base_url: str, account: str, message: str
) -> None:
    path = tmp_path / "parafraim.lock"
    path.write_text(dump_lock(sample_lock()), encoding="utf-8")
    with LockStore(path) as store, pytest.raises(LockMismatchError, match=message):
        store.check_owner(base_url, account)


def test_the_owner_check_ignores_a_trailing_slash(tmp_path: Path) -> None:
    path = tmp_path / "parafraim.lock"
    path.write_text(dump_lock(sample_lock()), encoding="utf-8")
    with LockStore(path) as store:
        assert store.check_owner(BASE + "/", ACCOUNT) == sample_lock()


def test_a_corrupt_lock_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "parafraim.lock"
    path.write_text("lockVersion: [broken\n", encoding="utf-8")
    with pytest.raises(LockCorruptError), LockStore(path):
        pass
    assert path.read_text(encoding="utf-8") == "lockVersion: [broken\n"
    with LockStore(tmp_path / "other.lock"):
        pass  # the failed attempt released its file lock: others still work


def test_updates_need_an_owner_check_and_an_open_store(tmp_path: Path) -> None:
    store = LockStore(tmp_path / "parafraim.lock")
    with pytest.raises(LockError, match="context manager"):
        store.check_owner(BASE, ACCOUNT)
    with store, pytest.raises(LockError, match="owner was not checked"):
        store.update(lambda lock: lock)
    with pytest.raises(LockError, match="context manager"):
        store.write(Lock.new(BASE, ACCOUNT))


def test_a_second_store_on_the_same_lock_fails_at_once(tmp_path: Path) -> None:
    path = tmp_path / "parafraim.lock"
    spec = tmp_path / "parafraim.yaml"
    busy = "another parafraim-build apply is running on"
    with LockStore(path, spec_path=spec), pytest.raises(LockBusyError, match=busy):
        LockStore(path, spec_path=spec).__enter__()
    with LockStore(path, spec_path=spec):
        pass  # released on exit


def test_a_store_held_by_another_process_is_busy(tmp_path: Path) -> None:
    path = tmp_path / "parafraim.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, pathlib\n"
            "from parafraim_build.lockfile import LockStore\n"
            "with LockStore(pathlib.Path(sys.argv[1])):\n"
            "    print('held', flush=True)\n"
            "    sys.stdin.readline()\n",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(LockBusyError, match=r"parafraim\.lock\.lck"):
            LockStore(path).__enter__()
    finally:
        holder.communicate("\n", timeout=30)
    with LockStore(path):
        pass  # the holder exited: the lock is free again

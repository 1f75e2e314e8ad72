"""The run cache's outputs are per service, end to end over real sockets.

A render key is the same on every service (composition hash + config), and the engines here
all run the same deterministic editor, so the same steps give the same composition: the run
cache holds a file of exactly the key another service wants. It must still never be copied
into that service's lock: the file is not that service's render, and its job id means
nothing there. Each test first proves the keys are the same (else it would prove nothing),
then that the second service renders for itself and its lock records its own job.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import diskcache
import pytest
from apply_support import SMALL_GIF, Builder, Ledger, actions, check_outputs, video, write_spec
from engine_client import EngineFactory

from parafraim_build.lock_model import Lock
from parafraim_build.lockfile import read_lock

pytest_plugins = ("engine_fixtures",)

STEP = "Open with our new product."
CLIP_ONLY = {"launch": video(STEP, renders={"clip": {}})}
CLIP_AND_TEASER = {"launch": video(STEP, renders={"clip": {}, "teaser": SMALL_GIF})}


def rendered_jobs(ledger: Ledger) -> set[str]:
    """The job ids of every render the engine was asked for."""
    return {render.job_id for render in ledger.renders()}


def assert_made_here(builder: Builder, lock: Lock, others: Lock) -> None:
    """Every output of ``lock`` is on disk, and was rendered by ``builder``'s own engine for
    the same key ``others`` holds under another job (so the cache had a copy to offer)."""
    assert check_outputs(builder.root, lock) == len(lock.videos["launch"].renders)
    jobs = rendered_jobs(builder.ledger())
    for name, record in lock.videos["launch"].renders.items():
        theirs = others.videos["launch"].renders[name]
        assert record.key == theirs.key  # the same render key: the cache held a copy of it
        assert record.jobId in jobs, f"{name}: job {record.jobId} is not this engine's"
        assert record.jobId != theirs.jobId


def test_another_services_output_is_rendered_again_not_copied(
    make_engine: EngineFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = Builder(make_engine(), tmp_path / "one", monkeypatch)
    first.write(CLIP_AND_TEASER)
    first.apply()
    theirs = first.lock()
    # The same spec elsewhere, built against another service, with the same run cache.
    second = Builder(make_engine(), tmp_path / "two", monkeypatch)
    assert second.engine.base_url != first.engine.base_url
    second.write(CLIP_ONLY)
    assert actions(second.plan(), "launch") == [
        ("create_project", None),
        ("send_message", 1),
        ("render", "clip"),
    ]
    # The composition is only known once the step ran: the executor looks the cache up then.
    second.apply()
    assert_made_here(second, second.lock(), theirs)
    assert second.ledger().kinds()["render"] == 1
    # Now the composition is known at plan time: the teaser's key is in the cache, but only
    # as the first service's file.
    second.write(CLIP_AND_TEASER)
    plan = second.plan()
    assert actions(plan, "launch") == [("render", "teaser")]
    assert plan["estimatedCredits"] > 0
    second.apply()
    assert_made_here(second, second.lock(), theirs)
    assert second.ledger().kinds()["render"] == 2
    # On its own service the copy is still offered: a lost output comes back from the cache.
    (second.root / second.lock().videos["launch"].renders["teaser"].path).unlink()
    assert actions(second.plan(), "launch") == [("copy_cached", "teaser")]


def test_a_local_storyboard_never_lands_in_the_services_lock(
    make_engine: EngineFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local_root = tmp_path / "local-site"
    write_spec(local_root, CLIP_ONLY)
    local = Builder.local(local_root)
    assert local.run("apply", "--local", "--yes").exit_code == 0
    local_lock = read_lock(local_root / ".parafraim" / "local" / "parafraim.lock")
    assert local_lock is not None
    service = Builder(make_engine(), tmp_path / "site", monkeypatch)
    service.write(CLIP_ONLY)
    assert actions(service.plan(), "launch")[-1] == ("render", "clip")
    service.apply()
    assert_made_here(service, service.lock(), local_lock)
    # And back: the local run keeps its own copy, and a lost local output is copied from it.
    (local_root / local_lock.videos["launch"].renders["clip"].path).unlink()
    plan = local.plan("--local")
    assert actions(plan, "launch") == [("copy_cached", "clip")]


def test_a_copy_for_another_account_on_the_same_service_records_no_job_id(
    make_engine: EngineFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two accounts of one service: an engine, then another on the same address.
    first = Builder(make_engine(), tmp_path / "one", monkeypatch)
    first.write(CLIP_ONLY)
    first.apply()
    theirs = first.lock()
    first.engine.stop()
    port = urlsplit(first.engine.base_url).port
    assert port is not None
    second = Builder(make_engine(port=port), tmp_path / "two", monkeypatch)
    assert second.engine.base_url == first.engine.base_url
    second.write(CLIP_ONLY)
    second.apply()
    # Outputs are the service's, whoever paid: the file is copied, but not the other
    # account's job id, which this account cannot fetch and its committed lock must not show.
    ours = second.lock()
    assert ours.accountId != theirs.accountId
    clip = ours.videos["launch"].renders["clip"]
    assert theirs.videos["launch"].renders["clip"].jobId is not None
    assert clip.jobId is None
    assert clip.sha256 == theirs.videos["launch"].renders["clip"].sha256
    assert second.ledger().kinds()["render"] == 0
    # Without the file and the cache there is no job to download it from: it is rendered
    # again (and recorded with this account's job).
    (second.root / clip.path).unlink()
    shutil.rmtree(os.environ["PARAFRAIM_CACHE_DIR"])
    assert actions(second.plan(), "launch") == [("render", "clip")]
    second.apply()
    again = second.lock().videos["launch"].renders["clip"]
    assert again.jobId in rendered_jobs(second.ledger())
    assert second.ledger().kinds()["render"] == 1
    assert check_outputs(second.root, second.lock()) == 1


def test_a_copy_from_a_cache_that_knows_no_job_keeps_the_job_the_lock_records(
    make_engine: EngineFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builder = Builder(make_engine(), tmp_path / "site", monkeypatch)
    builder.write(CLIP_ONLY)
    builder.apply()
    clip = builder.lock().videos["launch"].renders["clip"]
    assert clip.jobId is not None
    # The cache's record names no account's job (as an older version wrote it, or another
    # account's only): a copy from it comes without one.
    folder = Path(os.environ["PARAFRAIM_CACHE_DIR"]) / "meta"
    with diskcache.Cache(str(folder)) as meta:
        (output_key,) = [key for key in meta.iterkeys() if key[0] == "output"]
        meta.set(output_key, {**meta[output_key], "jobs": {"someone-else": "job-x"}})
    (builder.root / clip.path).unlink()
    assert actions(builder.plan(), "launch") == [("copy_cached", "clip")]
    builder.apply()
    again = builder.lock().videos["launch"].renders["clip"]
    assert again.jobId == clip.jobId  # this account's own job, not lost and not another's
    assert again.sha256 == clip.sha256
    assert builder.ledger().kinds()["render"] == 1

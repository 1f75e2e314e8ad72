"""The run cache: where it lives, what it keeps, the frozen view the planner reads."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import diskcache
import pytest
from test_fsutil import ordinary_mode

from parafraim_build.api.models import RenderConfig
from parafraim_build.cache import (
    MAX_OBSERVED,
    CachedOutput,
    CacheView,
    RunCache,
    resolve_cache_dir,
)
from parafraim_build.digest import composition_hash, source_key
from parafraim_build.errors import BuildError, LocalWriteError
from parafraim_build.lock_model import (
    BlankSource,
    Lock,
    PendingTask,
    StepRecord,
    TemplateSource,
)
from parafraim_build.outputs import observe_file
from parafraim_build.pricing_estimate import ObservedCosts, ObservedRenderCost

BASE = "https://parafraim.com"
SCOPE = "/work/site/parafraim.lock"
LOCAL = "local://engine"


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[RunCache]:
    with RunCache(tmp_path / "cache") as run_cache:
        yield run_cache


def a_lock() -> Lock:
    lock = Lock.new(BASE, "acc").record_project(
        "launch",
        project_id="p-1",
        source=TemplateSource(templateId="tpl", templateName="Launch"),
        name="Launch",
        description="d",
        initial_composition_sha256="c0",
    )
    return lock.record_step("launch", StepRecord(key="k1", compositionSha256="c1", taskId="t1"))


def keep(
    cache: RunCache,
    render_key: str,
    source: Path,
    *,
    service: str = BASE,
    account: str = "acc",
    format: str = "mp4",
    sha256: str | None = None,
    size: int | None = None,
    job_id: str | None = None,
) -> None:
    """``cache.store_output`` of ``source``, its checksum and size read from the file unless
    given (a wrong one makes a damaged copy)."""
    data = source.read_bytes()
    cache.store_output(
        render_key,
        source,
        service=service,
        account=account,
        sha256=sha256 if sha256 is not None else hashlib.sha256(data).hexdigest(),
        size=size if size is not None else len(data),
        format=format,
        job_id=job_id,
    )


def test_the_folder_comes_from_the_option_then_the_environment_then_the_spec(
    tmp_path: Path,
) -> None:
    spec = tmp_path / "site" / "parafraim.yaml"
    env = {"PARAFRAIM_CACHE_DIR": "/env/cache"}
    assert resolve_cache_dir(spec, Path("/opt/c"), env) == Path("/opt/c")
    assert resolve_cache_dir(spec, None, env) == Path("/env/cache")
    assert resolve_cache_dir(spec, None, {}) == tmp_path / "site" / ".parafraim" / "cache"
    assert resolve_cache_dir(spec, None, {"PARAFRAIM_CACHE_DIR": ""}).name == "cache"


def test_the_default_environment_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARAFRAIM_CACHE_DIR", str(tmp_path / "from-env"))
    assert resolve_cache_dir(tmp_path / "parafraim.yaml") == tmp_path / "from-env"


def test_compositions_are_kept_by_hash(cache: RunCache) -> None:
    digest = cache.store_composition("<main>hello</main>")
    assert digest == composition_hash("<main>hello</main>")
    assert cache.composition(digest) == "<main>hello</main>"
    assert cache.composition("0" * 64) is None


def test_histories_come_from_lock_entries_per_account_and_scope(cache: RunCache) -> None:
    entry = a_lock().videos["launch"]
    cache.remember_project(BASE + "/", "acc", "launch", entry, scope=SCOPE)
    cache.remember_project(BASE, "other-acc", "launch", entry, scope=SCOPE)
    (history,) = cache.view(BASE, "acc", scope=SCOPE).histories
    assert history.project_id == "p-1"
    assert history.video == "launch"
    assert history.scope == SCOPE
    assert history.source == TemplateSource(templateId="tpl", templateName="Launch")
    assert history.name == "Launch"
    assert history.description == "d"
    assert history.chain == ("k1",)
    assert history.composition_sha256 == "c1"
    assert history.root == source_key({"kind": "template", "templateId": "tpl"})
    assert not history.in_flight
    assert cache.view(BASE, "acc", scope="/elsewhere/parafraim.lock").histories == ()
    assert len(cache.view(BASE, "acc").histories) == 1  # no scope: every lock's projects
    assert cache.view("https://staging.parafraim.com", "acc").histories == ()
    assert cache.view(BASE, None).histories == ()


def test_a_project_with_a_message_in_flight_is_marked(cache: RunCache) -> None:
    lock = a_lock().add_pending(
        "launch", PendingTask(step=2, key="k2", startedAt="2025-01-01T00:00:00Z")
    )
    cache.remember_project(BASE, "acc", "launch", lock.videos["launch"], scope=SCOPE)
    assert cache.view(BASE, "acc").histories[0].in_flight
    resolved = lock.record_step("launch", StepRecord(key="k2", compositionSha256="c2"))
    cache.remember_project(BASE, "acc", "launch", resolved.videos["launch"], scope=SCOPE)
    history = cache.view(BASE, "acc").histories[0]
    assert not history.in_flight
    assert history.chain == ("k1", "k2")


def test_histories_survive_reopening(tmp_path: Path) -> None:
    with RunCache(tmp_path / "c") as first:
        blank = Lock.new(BASE, "acc").record_project(
            "v",
            project_id="p-9",
            source=BlankSource(aspectRatio="1:1"),
            name="v",
            description=None,
            initial_composition_sha256="e",
        )
        first.remember_project(BASE, "acc", "v", blank.videos["v"], scope=SCOPE)
    with RunCache(tmp_path / "c") as second:
        (history,) = second.view(BASE, "acc").histories
    assert history.source == BlankSource(aspectRatio="1:1")
    assert history.steps == ()


def test_outputs_are_stored_and_restored_verified(cache: RunCache, tmp_path: Path) -> None:
    data = b"\x00mp4 data" * 5000
    source = tmp_path / "hd.mp4"
    source.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    keep(cache, "rk", source, job_id="j-1")
    expected = CachedOutput(key="rk", sha256=digest, size=len(data), format="mp4", job_id="j-1")
    assert cache.view(BASE, "acc").outputs == {"rk": expected}
    source.unlink()  # the cache has its own copy
    target = tmp_path / "out" / "v" / "hd.mp4"
    assert cache.restore_output("rk", target, service=BASE, account="acc") == expected
    assert target.read_bytes() == data
    assert [p.name for p in target.parent.iterdir()] == ["hd.mp4"]  # no temporary left
    assert cache.restore_output("unknown", tmp_path / "x.mp4", service=BASE, account="acc") is None
    # Readable like a downloaded output (an ordinary new file), not only by its owner.
    assert target.stat().st_mode & 0o777 == ordinary_mode(tmp_path)


def test_outputs_are_kept_per_service(cache: RunCache, tmp_path: Path) -> None:
    # The same render key on --local's engine and on the real service: two renders, two files.
    local, real = b"GIF89a local storyboard", b"\x00\x00\x00\x18ftyp the service's render"
    for service, data, job in ((LOCAL, local, "local-job"), (BASE + "/", real, "real-job")):
        source = tmp_path / f"{job}.mp4"
        source.write_bytes(data)
        keep(cache, "rk", source, service=service, job_id=job)
    assert cache.view(LOCAL, "acc").outputs["rk"].job_id == "local-job"
    assert cache.view(BASE, "acc").outputs["rk"].job_id == "real-job"  # trailing "/" is one URL
    # Not per account: another account is offered the file, but not the job it cannot fetch.
    assert (
        cache.view(BASE, "another-account").outputs["rk"].sha256 == hashlib.sha256(real).hexdigest()
    )
    assert cache.view(BASE, "another-account").outputs["rk"].job_id is None
    theirs = cache.restore_output("rk", tmp_path / "theirs.mp4", service=BASE, account="another")
    assert theirs is not None
    assert theirs.job_id is None
    assert (tmp_path / "theirs.mp4").read_bytes() == real
    assert cache.view("https://staging.parafraim.com", "acc").outputs == {}
    to_real, to_local = tmp_path / "real" / "rk.mp4", tmp_path / "local" / "rk.mp4"
    restored = cache.restore_output("rk", to_real, service=BASE, account="acc")
    assert restored is not None
    assert restored.job_id == "real-job"
    assert to_real.read_bytes() == real
    restored = cache.restore_output("rk", to_local, service=LOCAL + "/", account="acc")
    assert restored is not None
    assert restored.job_id == "local-job"
    assert to_local.read_bytes() == local
    elsewhere = tmp_path / "staging" / "rk.mp4"
    assert (
        cache.restore_output(
            "rk", elsewhere, service="https://staging.parafraim.com", account="acc"
        )
        is None
    )
    assert not elsewhere.exists()


def test_a_damaged_copy_of_one_service_leaves_the_others(cache: RunCache, tmp_path: Path) -> None:
    source = tmp_path / "hd.mp4"
    source.write_bytes(b"good bytes")
    keep(cache, "rk", source, job_id="a")
    keep(cache, "rk", source, service=LOCAL, sha256="f" * 64, size=10, job_id="b")
    assert cache.restore_output("rk", tmp_path / "l.mp4", service=LOCAL, account="acc") is None
    assert cache.view(LOCAL, None).outputs == {}
    assert cache.restore_output("rk", tmp_path / "r.mp4", service=BASE, account="acc") is not None


def test_an_output_kept_before_outputs_were_scoped_is_never_offered(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    data = b"\x00\x00\x00\x18ftyp made by an older version"
    source = tmp_path / "old.mp4"
    source.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    # What an older version wrote: the copy under the bare render key, its metadata beside,
    # and the metadata of another whose file was evicted since.
    with (
        diskcache.Cache(str(folder / "outputs")) as outputs,
        diskcache.Cache(str(folder / "meta")) as meta,
    ):
        with source.open("rb") as handle:
            outputs.set("rk", handle, read=True)
        meta.set(("output", "rk"), {"sha256": digest, "size": len(data), "format": "mp4"})
        meta.set(("output", "evicted"), {"sha256": digest, "size": len(data), "format": "mp4"})
    with RunCache(folder) as cache:
        keep(cache, "kept", source, job_id="j")
        for service in (BASE, LOCAL):
            assert "rk" not in cache.view(service, "acc").outputs
            target = tmp_path / "out" / "rk.mp4"
            assert cache.restore_output("rk", target, service=service, account="acc") is None
            assert not target.exists()
        assert set(cache.view(BASE, "acc").outputs) == {"kept"}
    with (
        diskcache.Cache(str(folder / "outputs")) as outputs,
        diskcache.Cache(str(folder / "meta")) as meta,
    ):
        assert "rk" not in outputs  # dropped when the cache opens: it frees its space at once
        assert ("output", "rk") not in meta
        assert ("output", "evicted") not in meta
        assert (BASE, "kept") in outputs
    with RunCache(folder) as cache:  # once only: the new layout's entries stay
        assert set(cache.view(BASE, "acc").outputs) == {"kept"}


def test_a_damaged_cached_output_is_dropped_not_restored(cache: RunCache, tmp_path: Path) -> None:
    source = tmp_path / "hd.mp4"
    source.write_bytes(b"actual bytes")
    keep(cache, "rk", source, sha256="f" * 64, size=12)
    target = tmp_path / "out" / "hd.mp4"
    assert cache.restore_output("rk", target, service=BASE, account="acc") is None
    assert not target.exists()
    assert list(target.parent.iterdir()) == []
    assert cache.view(BASE, "acc").outputs == {}


@pytest.mark.parametrize("blocked", ["folder-in-place", "file-as-folder"])
def test_a_destination_that_cannot_be_written_is_not_a_cache_failure(
    cache: RunCache, tmp_path: Path, blocked: str
) -> None:
    source = tmp_path / "hd.mp4"
    source.write_bytes(b"mp4 bytes")
    keep(cache, "rk", source, job_id="j-1")
    out = tmp_path / "out"
    if blocked == "folder-in-place":
        target = out / "v" / "hd.mp4"
        (target / "inside").mkdir(parents=True)  # a folder stands where the file goes
    else:
        out.write_bytes(b"a file where the output folder goes")
        target = out / "v" / "hd.mp4"
    with pytest.raises(LocalWriteError, match=r"cannot write .*out/v/hd\.mp4") as info:
        cache.restore_output("rk", target, service=BASE, account="acc")
    # The disk is at fault, not the cache: its hint never says to delete the cache.
    assert "run cache" not in info.value.message
    assert "delete that folder" not in (info.value.hint or "")
    if blocked == "folder-in-place":
        assert sorted(p.name for p in target.parent.iterdir()) == ["hd.mp4"]  # no temporary
    assert "rk" in cache.view(BASE, "acc").outputs  # the copy is kept for the next try


def test_outputs_beyond_the_size_limit_are_evicted(tmp_path: Path) -> None:
    with RunCache(tmp_path / "c", output_size_limit=100_000) as small:
        for index in range(30):
            path = tmp_path / f"{index}.mp4"
            path.write_bytes(bytes([index]) * 10_000)
            keep(small, f"k{index}", path, sha256=f"s{index}", size=10_000)
        kept = small.view(BASE, "acc").outputs
    assert 0 < len(kept) < 30
    assert "k29" in kept  # the newest stays


def test_observed_costs_feed_the_view_and_fade_out(cache: RunCache) -> None:
    config = RenderConfig(fps=60)
    cache.record_render_cost(BASE, "acc", config, 12.5, 30.0)
    for index in range(MAX_OBSERVED + 5):
        cache.record_message_cost(BASE, "acc", float(index))
    costs = cache.view(BASE, "acc").costs
    assert costs.renders == (ObservedRenderCost(config=config, duration_seconds=12.5, credits=30),)
    assert len(costs.messages) == MAX_OBSERVED
    assert costs.messages[0] == 5.0  # the oldest went first
    assert cache.view(BASE, "other").costs == ObservedCosts()


def test_templates_and_durations(cache: RunCache) -> None:
    cache.remember_template(BASE, "Product launch", "tpl-1")
    cache.record_duration("c1", 12.0)
    view = cache.view(BASE, "acc")
    assert view.templates == {"Product launch": "tpl-1"}
    assert view.durations == {"c1": 12.0}
    assert cache.view("https://other", "acc").templates == {}


def test_the_hash_memo_persists_checksums(cache: RunCache, tmp_path: Path) -> None:
    path = tmp_path / "out" / "a.mp4"
    path.parent.mkdir()
    path.write_bytes(b"abc")
    mtime = path.stat().st_mtime_ns
    memo = cache.hash_memo()
    observe_file(tmp_path, "out/a.mp4", memo=memo, clock=lambda: mtime + 10**10)
    stamp = memo.get_stamp(str(path.resolve()))
    assert stamp is not None
    assert stamp.sha256 == hashlib.sha256(b"abc").hexdigest()
    assert memo.get_stamp(str(tmp_path / "nothing")) is None


def test_deleting_the_folder_loses_only_reuse(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    with RunCache(folder) as first:
        first.remember_project(BASE, "acc", "launch", a_lock().videos["launch"], scope=SCOPE)
    shutil.rmtree(folder)
    with RunCache(folder) as fresh:
        assert fresh.view(BASE, "acc") == CacheView()


def test_an_unusable_folder_is_a_build_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(BuildError, match="run cache") as info:
        RunCache(blocker / "cache")
    assert "delete that folder" in (info.value.hint or "")


def test_the_lock_is_written_back_only_where_the_cache_knows_less(cache: RunCache) -> None:
    lock = a_lock()
    longer = lock.record_step("launch", StepRecord(key="k2", compositionSha256="c2"))
    assert cache.remember_lock(BASE, "acc", lock, scope="s") == 1  # unknown: written
    assert cache.remember_lock(BASE, "acc", lock, scope="s") == 0  # known: nothing to do
    (history,) = cache.view(BASE, "acc", scope="s").histories
    assert (history.project_id, history.chain, history.in_flight) == ("p-1", ("k1",), False)
    assert cache.remember_lock(BASE, "acc", longer, scope="s") == 1  # the cache lagged
    assert cache.view(BASE, "acc", scope="s").histories[0].chain == ("k1", "k2")
    # The cache knowing more (another branch's run) is evidence: never overwritten.
    assert cache.remember_lock(BASE, "acc", lock, scope="s") == 0
    assert cache.view(BASE, "acc", scope="s").histories[0].chain == ("k1", "k2")


def test_an_entry_with_a_message_in_flight_is_not_written_back(cache: RunCache) -> None:
    intent = PendingTask(step=2, key="k2", startedAt="2025-01-31T09:30:00Z")
    assert cache.remember_lock(BASE, "acc", a_lock().add_pending("launch", intent), scope="s") == 0
    assert cache.view(BASE, "acc", scope="s").histories == ()


def test_each_account_keeps_its_own_job_for_one_output(cache: RunCache, tmp_path: Path) -> None:
    data = b"\x00\x00\x00\x18ftyp one render"
    source = tmp_path / "hd.mp4"
    source.write_bytes(data)
    for account, job in (("a", "job-a"), ("b", "job-b"), ("a", None)):
        keep(cache, "rk", source, account=account, job_id=job)
    # B storing the same file takes nothing from A, and A storing a copy (no job) neither.
    assert cache.view(BASE, "a").outputs["rk"].job_id == "job-a"
    assert cache.view(BASE, "b").outputs["rk"].job_id == "job-b"
    assert cache.view(BASE, "c").outputs["rk"].job_id is None
    restored = cache.restore_output("rk", tmp_path / "b.mp4", service=BASE, account="b")
    assert restored is not None
    assert restored.job_id == "job-b"


def test_a_record_naming_one_account_still_gives_that_account_its_job(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    data = b"\x00\x00\x00\x18ftyp"
    source = tmp_path / "hd.mp4"
    source.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    with RunCache(folder) as cache:
        keep(cache, "rk", source, account="a", job_id="job-a")
    with diskcache.Cache(str(folder / "meta")) as meta:
        key = ("output", BASE, "rk")
        old = {"sha256": digest, "size": len(data), "format": "mp4"}
        meta.set(key, {**old, "jobId": "job-a", "accountId": "a"})
    with RunCache(folder) as cache:
        assert cache.view(BASE, "a").outputs["rk"].job_id == "job-a"
        assert cache.view(BASE, "b").outputs["rk"].job_id is None
    with diskcache.Cache(str(folder / "meta")) as meta:
        meta.set(key, {**old, "jobId": "job-a"})  # no account named: nobody's job
    with RunCache(folder) as cache:
        assert cache.view(BASE, "a").outputs["rk"].job_id is None

"""Where a spec's state lives (``workspace.py``): the lock for each kind of run, and the sweep
of temporary files a killed run leaves behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from apply_support import video, write_spec

from parafraim_build.lock_model import BlankSource, Lock, PendingRender, RenderRecord
from parafraim_build.spec import load_spec
from parafraim_build.workspace import LOCAL_IDENTITY, sweep_interrupted_writes, workspace_for


def test_local_runs_have_their_own_lock_and_engine_state(tmp_path: Path) -> None:
    spec = tmp_path / "parafraim.yaml"
    real = workspace_for(spec, local=False, cache_dir=tmp_path / "cache")
    local = workspace_for(spec, local=True, cache_dir=tmp_path / "cache")
    assert real.lock_path == tmp_path / "parafraim.lock"
    assert local.lock_path == tmp_path / ".parafraim" / "local" / "parafraim.lock"
    assert local.engine_state_dir == tmp_path / ".parafraim" / "local" / "engine"
    assert real.scope != local.scope
    assert LOCAL_IDENTITY == "local://engine"


def test_the_cache_dir_defaults_beside_the_spec(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PARAFRAIM_CACHE_DIR")
    spec = tmp_path / "parafraim.yaml"
    assert workspace_for(spec, local=False).cache_dir == tmp_path / ".parafraim" / "cache"
    assert workspace_for(spec, local=False, cache_dir=tmp_path / "c").cache_dir == tmp_path / "c"


def test_only_temporaries_of_the_lock_and_of_outputs_are_swept(tmp_path: Path) -> None:
    spec_path = write_spec(tmp_path, {"v": video("Open.", renders={"clip": {}})})
    spec = load_spec(spec_path)
    workspace = workspace_for(spec.path, local=False, cache_dir=tmp_path / "cache")
    out = tmp_path / "out"
    (out / "v").mkdir(parents=True)
    (out / "gone").mkdir()
    leftovers = [
        tmp_path / ".parafraim.lock.k2j4_x9a.tmp",  # an interrupted lock write
        out / "v" / ".clip.mp4.1a2b3c4d.part",  # an interrupted download
        out / "v" / ".clip.mp4.q8w7e6r5.tmp",  # an interrupted copy from the run cache
        out / "gone" / ".hd.mp4.0f0f0f0f.part",  # of an output only the lock still knows
        tmp_path / "old" / "gone" / ".zoom.gif.77aa88bb.part",  # of a pending render's path
        out / "v" / ".pfb-9e8d7c6b.part",  # a download whose usual temporary name was too long
    ]
    kept = [
        tmp_path / "parafraim.lock.tmp",
        tmp_path / ".other.lock.abc.tmp",
        out / "v" / "clip.mp4",
        out / "v" / ".clip.mp4",
        out / "v" / ".notes.md.1234.tmp",
        out / "v" / ".teaser.gif.1234.part",  # not an output of this spec or lock
        tmp_path / ".pfb-9e8d7c6b.part",  # not in an output folder
    ]
    (tmp_path / "old" / "gone").mkdir(parents=True)
    for path in leftovers + kept:
        path.write_bytes(b"x")
    # The lock still knows out/gone/hd.mp4 (a video since removed from the spec).
    record = RenderRecord(key="k", path="out/gone/hd.mp4", sha256="s", size=1)
    lock = (
        Lock.new("https://parafraim.com", "acct")
        .record_project(
            "gone",
            project_id="p",
            source=BlankSource(aspectRatio="16:9"),
            name="gone",
            description=None,
            initial_composition_sha256="h",
        )
        .record_render("gone", "hd", record)
        .add_pending(
            "gone",
            PendingRender(render="zoom", key="z", startedAt="t", path="old/gone/zoom.gif"),
        )
    )
    removed = sweep_interrupted_writes(workspace, spec, lock)
    assert sorted(removed) == sorted(leftovers)
    assert not any(path.exists() for path in leftovers)
    assert all(path.exists() for path in kept)
    assert sweep_interrupted_writes(workspace, spec, None) == []

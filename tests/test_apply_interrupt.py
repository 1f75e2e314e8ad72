"""^C during ``apply`` (a real SIGINT to a real process): no new work starts, what runs is
finished and recorded, the exit code is 130, and the next apply finishes without resending."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from apply_support import Builder, check_outputs, video
from engine_client import EngineFactory

pytest_plugins = ("engine_fixtures",)

APPLY = (sys.executable, "-m", "parafraim_build", "apply")
SPEC = {
    "a": video("Open with our new product.", "Make the headline bigger.", renders={"clip": {}}),
    "b": video("Show the price on its own scene.", "Add a closing card.", renders={"clip": {}}),
    "c": video("Open on a customer quote.", "End on the logo.", renders={"clip": {}}),
}


def test_one_sigint_stops_new_work_records_what_ran_and_exits_130(
    make_engine: EngineFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builder = Builder(make_engine(task_seconds=1.0), tmp_path / "site", monkeypatch)
    builder.write(SPEC)
    process = subprocess.Popen(
        [*APPLY, "--yes", "--json", "--parallelism", "1", "-f", str(builder.spec)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    seen = []
    for line in process.stderr:  # progress lines, one per event
        seen.append(line)
        if line.rstrip().endswith("a: step 1/2 ..."):
            break
    time.sleep(0.2)  # the message is on its way: its task now runs on the engine
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, "".join(seen) + stderr
    assert "stopping: no new work starts" in stderr
    result = json.loads(stdout)
    assert result["interrupted"] is True
    assert result["ok"] is False
    statuses = {v["video"]: v["status"] for v in result["videos"]}
    assert statuses == {"a": "interrupted", "b": "interrupted", "c": "interrupted"}
    # The step that was running finished and is recorded; nothing after it started.
    lock = builder.lock()
    assert [len(lock.videos[key].steps) for key in ("a",)] == [1]
    assert set(lock.videos) == {"a"}
    assert not lock.videos["a"].pending
    ledger = builder.ledger()
    assert ledger.kinds() == {"project": 1, "message": 1}

    before = builder.ledger()
    builder.apply()
    new = builder.ledger().since(before)
    assert new.messages(lock.videos["a"].projectId) == ["Make the headline bigger."]
    assert new.kinds() == {"project": 2, "message": 5, "render": 3}
    builder.ledger().assert_nothing_sent_twice()
    check_outputs(builder.root, builder.lock())
    assert builder.plan()["changes"] is False

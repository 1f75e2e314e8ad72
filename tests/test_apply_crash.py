"""Crash safety: ``apply`` killed with SIGKILL at 20 seeded-random moments, each time run to
the end.

One engine runs in this process for the whole test; ``apply`` runs as a subprocess against
it and is killed while it works, then runs again to the end at once. The spec changes between
rounds (new steps, an edited step, a changed render, a removed and an added video, an undo)
so that every kill lands in real work.
Each kill is aimed at a phase (project creation, the write-ahead and send of a message, a
task's stream, a render, a download, or anywhere) by waiting for the progress line that
starts it, plus a seeded-random delay.

After every round, the engine's ledger must show that no message reached the same project
twice and no render was asked twice for the same (project, composition, config); every output
must exist and match the lock; a ``plan`` must show no changes; and the messages the round
sent must stay within what a clean run planned, plus a whole video again only where a message
may have reached its project with no way to know (never where the service charged for it).
"""

from __future__ import annotations

import os
import queue
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest
from apply_support import SMALL_GIF, Builder, Ledger, check_outputs, video
from engine_client import EngineFactory

from parafraim_build.cache import RunCache
from parafraim_build.lockfile import read_lock

pytest_plugins = ("engine_fixtures",)
pytestmark = pytest.mark.slow

SEED = 20250131
KILLS = 20

# What each phase waits for on apply's progress lines (stderr, one per event), and the
# window after it in which the kill lands (seconds, drawn uniformly).
TRIGGERS: dict[str, tuple[re.Pattern[str], tuple[float, float]]] = {
    "project": (re.compile(r": (create project|use template|replace project) \.\.\.$"), (0, 0.02)),
    "send": (re.compile(r": step \d+/\d+ \.\.\.$"), (0, 0.03)),
    "stream": (re.compile(r": step \d+/\d+ \.\.\.$"), (0.05, 0.25)),
    "render": (re.compile(r": render \w+: (pending|generating|rendering)"), (0, 0.2)),
    "download": (re.compile(r": render \w+: complete 100%$"), (0, 0.03)),
    "anywhere": (re.compile(r": started \("), (0, 2.0)),
}


def versions() -> list[dict[str, dict[str, Any]]]:
    """The spec as it changes between kills: each version has new work for apply to do."""
    teaser = {"clip": {}, "teaser": SMALL_GIF}
    a = ["Open with our new product.", "Make the headline bigger."]
    b = ["Show the price on its own scene.", "Add the team photo."]
    c = ["Open on a customer quote.", "Add a closing card."]
    d = ["Announce the autumn offer.", "End on the logo."]
    e = ["Replace the product name with Flow.", "Use our brand colours."]
    v1 = {"a": video(*a, renders=teaser), "b": video(*b, renders=teaser), "c": video(*c)}
    v2 = {
        "a": video(*a, "Add a call to action.", renders=teaser),
        "b": video(*b, "Add a call to action.", renders=teaser),
        "c": video(*c, "Add a call to action."),
        "d": video(*d, renders=teaser),
    }
    edited_b = ["Show the price in large type.", *b[1:], "Add a call to action."]
    v3 = {
        **v2,
        "b": video(*edited_b, renders=teaser),
        "c": video(*c, "Add a call to action.", renders={"clip": {"fps": 25}}),
    }
    v4 = {
        "a": video(*a, "Add a call to action.", renders={"clip": {}}),
        "b": v3["b"],
        "c": v3["c"],
        "e": video(*e, template="Product launch", renders=teaser),
    }
    v5 = {**v4, "b": v2["b"], "c": video(*c, "Add a call to action.", "Slow the ending down.")}
    f = ["Open with a question.", "Answer it in one line.", "Show the website address."]
    v6 = {**v5, "a": v2["a"], "f": video(*f, aspectRatio="9:16", renders=teaser)}
    later = "Make every scene a little shorter."
    v7 = {
        key: video(*[*entry["steps"], later], renders=entry["renders"], **extra(entry))
        for key, entry in v6.items()
    }
    v8 = {
        **v7,
        "d": v2["d"],
        "e": video(
            "Replace the product name with Glide.",
            *e[1:],
            later,
            template="Product launch",
            renders=teaser,
        ),
    }
    return [v1, v2, v3, v4, v5, v6, v7, v8]


def version(number: int) -> dict[str, dict[str, Any]]:
    """Spec version ``number`` (from 0): the hand-made ones, then one more step per video
    each time, so that apply always has work to be killed in."""
    made = versions()
    if number < len(made):
        return made[number]
    rounds = number - len(made) + 1
    return {
        key: video(
            *entry["steps"],
            *(f"Tighten scene {n} a little." for n in range(1, rounds + 1)),
            renders=entry["renders"],
            **extra(entry),
        )
        for key, entry in made[-1].items()
    }


def extra(entry: dict[str, Any]) -> dict[str, Any]:
    """A video's settings other than its steps and renders."""
    return {k: v for k, v in entry.items() if k not in ("steps", "renders")}


@dataclass
class Kill:
    """One killed apply: the phase aimed at, what it was doing, what it left behind, and the
    projects it left with a message whose task id was never recorded."""

    aimed: str
    last_line: str
    landed: set[str]
    seconds: float
    unknown: dict[tuple[str, str], int]


def unrecorded_messages(root: Path, ledger: Ledger) -> dict[tuple[str, str], int]:
    """For every message intent the lock holds without a task id, ``(video, project)`` and
    how many messages that project had received when apply was killed."""
    lock = read_lock(root / "parafraim.lock")
    return {
        (key, entry.projectId): len(ledger.messages(entry.projectId))
        for key, entry in (lock.videos.items() if lock else ())
        if entry.pending_task is not None and entry.pending_task.taskId is None
    }


class Apply:
    """``python -m parafraim_build apply --yes`` as a subprocess, its progress read live."""

    def __init__(self, spec: Path) -> None:
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "parafraim_build", "apply", "--yes", "-f", str(spec)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        assert self.process.stderr is not None
        threading.Thread(target=self._read, args=(self.process.stderr,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        with stream:
            for line in stream:
                self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for(self, pattern: re.Pattern[str], timeout: float) -> bool:
        """True once a progress line matches; False when apply ended or time ran out first."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                return False
            if line is None:
                return False
            self.seen.append(line)
            if pattern.search(line):
                return True
        return False

    def kill(self) -> bool:
        """SIGKILL it; False when it had already ended by itself."""
        if self.process.poll() is not None:
            return False
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        return self.process.returncode == -signal.SIGKILL

    def finish(self) -> int:
        """Let it run to the end; its exit code."""
        code = self.process.wait(timeout=120)
        self.wait_for(re.compile("$^"), timeout=1)  # drain the progress lines
        return code


def landed_in(root: Path, apply: Apply, ledger_before: Ledger, ledger_after: Ledger) -> set[str]:
    """What the killed apply was caught doing, from what it left behind."""
    phases: set[str] = set()
    lock_path = root / "parafraim.lock"
    if list(root.glob(".parafraim.lock.*.tmp")):
        phases.add("lock write")
    lock = read_lock(lock_path)  # never corrupt, whatever the moment of the kill
    known = {entry.projectId for entry in lock.videos.values()} if lock else set()
    new = ledger_after.since(ledger_before)
    if any(project not in known for project in new.projects()):
        phases.add("project creation (created, not yet recorded)")
    for entry in lock.videos.values() if lock else ():
        for op in entry.pending:
            if op.kind == "task" and op.taskId is None:
                # Was the message accepted before the kill (its answer lost), or not sent?
                sent = len(new.messages(entry.projectId)) > 0
                phases.add(f"message intent without id ({'sent' if sent else 'not sent'})")
            elif op.kind == "task":
                phases.add("streaming")
            elif op.jobId is None:
                phases.add("render requested, id not recorded")
            else:
                phases.add("rendering or downloading")
    if list(root.glob("out/*/.*.part")):
        phases.add("downloading")
    last = apply.seen[-1] if apply.seen else ""
    if not phases:
        phases.add(f"between records ({last.split(': ', 1)[-1][:40]})" if last else "startup")
    return phases


def unsettled_in_cache(builder: Builder) -> set[str]:
    """Videos whose project the run cache marks with a message in flight while the lock has
    no intent for it: killed between the two writes ahead of a send. The next plan must move
    such a video (the cache cannot tell this from another branch's unrecorded message)."""
    lock = builder.lock_if_any()
    if lock is None:
        return set()
    with RunCache(Path(os.environ["PARAFRAIM_CACHE_DIR"])) as cache:
        view = cache.view(lock.baseUrl, lock.accountId)
    in_flight = {h.project_id for h in view.histories if h.in_flight}
    return {
        key
        for key, entry in lock.videos.items()
        if entry.projectId in in_flight and entry.pending_task is None
    }


@dataclass
class Round:
    """One round's message accounting: what a clean run would send, what was sent."""

    planned: int
    accepted_replays: int
    sent: int


def accepted_replays(
    builder: Builder, current: dict[str, dict[str, Any]], killed_run: Ledger
) -> int:
    """Messages the run after a kill may send beyond the plan: a whole video again, for each
    video whose message may have reached its project without any way to know (its intent has
    no task id and no message reached the project, so no charge can name it; or the kill
    fell between the cache's and the lock's write ahead). A message that did reach the
    service is found by its charge and never paid again: that is not a replay accepted here.
    """
    lock = builder.lock_if_any()
    unknown = set()
    for key, entry in lock.videos.items() if lock else ():
        task = entry.pending_task
        if task is not None and task.taskId is None and not killed_run.messages(entry.projectId):
            unknown.add(key)
    unknown |= unsettled_in_cache(builder)
    return sum(len(current[key]["steps"]) for key in unknown if key in current)


def check_converged(builder: Builder, current: dict[str, dict[str, Any]]) -> None:
    """Everything the spec declares is built, recorded, verified, and sent once."""
    lock = builder.lock()
    outputs = check_outputs(builder.root, lock)
    assert set(lock.videos) == set(current)
    assert outputs == sum(len(v["renders"]) for v in current.values())
    ledger = builder.ledger()
    ledger.assert_nothing_sent_twice()
    for key, entry in lock.videos.items():
        assert ledger.messages(entry.projectId) == list(current[key]["steps"]), key
    assert not list(builder.root.rglob("*.part"))
    assert not list(builder.root.glob(".parafraim.lock.*.tmp"))
    assert builder.plan()["changes"] is False


@pytest.fixture
def crash_site(
    make_engine: EngineFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Builder:
    """One engine for all the rounds, fast enough that 20 of them fit in about two minutes."""
    engine = make_engine(task_seconds=0.3, render_seconds=0.2, keepalive_seconds=1.0)
    return Builder(engine, tmp_path / "site", monkeypatch)


def test_apply_killed_at_twenty_moments_never_sends_twice(crash_site: Builder) -> None:
    builder = crash_site
    rng = random.Random(SEED)
    kills: list[Kill] = []
    rounds: list[Round] = []
    finished_runs = 0
    started = time.monotonic()
    number = 0
    while len(kills) < KILLS:
        assert number < 2 * KILLS, "apply keeps finishing before it can be killed"
        current = version(number)
        number += 1
        builder.write(current)
        planned = builder.plan()["summary"]["send_message"]
        aimed = rng.choice(sorted(TRIGGERS))
        pattern, (low, high) = TRIGGERS[aimed]
        delay = rng.uniform(low, high)
        before = builder.ledger()
        apply = Apply(builder.spec)
        if not apply.wait_for(pattern, timeout=30):
            aimed = "anywhere"  # that kind of work was already done: kill it wherever it is
        time.sleep(delay)
        if not apply.kill():
            # It ended by itself: the next version is the next chance.
            assert apply.finish() == 0, "\n".join(apply.seen)
            finished_runs += 1
            check_converged(builder, current)
            continue
        seconds = time.monotonic() - apply.started
        time.sleep(0.2)  # a request whose body was all sent is still answered: let it land
        after = builder.ledger()
        killed_run = after.since(before)
        landed = landed_in(builder.root, apply, before, after)
        last = apply.seen[-1] if apply.seen else ""
        kills.append(Kill(aimed, last, landed, seconds, unrecorded_messages(builder.root, after)))
        replays = accepted_replays(builder, current, killed_run)
        # Run to the end, at once: it resumes what the kill left and finishes the version.
        result = builder.run("apply", "--yes")
        assert result.exit_code == 0, result.output
        try:
            check_converged(builder, current)
        except AssertionError:
            print(f"after kill {len(kills)} (version {number - 1}): {kills[-1]}")
            print("the killed run said:", *apply.seen[-15:], sep="\n  ")
            print("the run to the end said:", result.stderr[-4000:])
            raise
        sent = len(builder.ledger().since(before).message_entries())
        rounds.append(Round(planned, replays, sent))
        assert sent <= planned + replays, (aimed, landed, rounds[-1])
    elapsed = time.monotonic() - started

    aimed_at = Counter(kill.aimed for kill in kills)
    landed = Counter(phase for kill in kills for phase in kill.landed)
    ledger = builder.ledger()
    planned_total = sum(r.planned for r in rounds)
    print(
        f"\n{KILLS} kills, each run to the end, in {elapsed:.1f} s over {number} spec versions; "
        f"{finished_runs} runs ended before their kill"
    )
    print("aimed at:", dict(sorted(aimed_at.items())))
    print("landed in:", dict(sorted(landed.items())))
    print(
        f"messages in killed rounds: {sum(r.sent for r in rounds)} sent, {planned_total} "
        f"planned, {sum(r.accepted_replays for r in rounds)} replays accepted"
    )
    print("ledger:", dict(ledger.kinds()))
    for kill, done in zip(kills, rounds, strict=True):
        if done.sent > done.planned:
            print(f"  {kill.aimed}: {sorted(kill.landed)} -> {done}")
    assert len(aimed_at) >= 5

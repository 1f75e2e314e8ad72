"""The examples and the starter do on the local engine what their words say.

Each example is copied to a temporary folder (the repository's examples stay clean) and the
starter is written there by ``init``; ``apply --local`` builds it on the embedded engine with
real renders, and the test reads back the composition each step made (its task's stream,
replayed by the engine on the state ``--local`` left) and the rendered files. What each spec
promises in words is asserted: the product launch is a 30 second explainer, the starter a 20
second teaser in three scenes, the recap exists in every language, and every step with
selected elements changes those elements.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from conftest import EXAMPLES

from parafraim_build.cli import main
from parafraim_build.connection import LOCAL_API_KEY
from parafraim_build.emulator import EngineConfig, start_engine
from parafraim_build.emulator.composition import Composition, parse_composition
from parafraim_build.emulator.render import probe_media
from parafraim_build.lockfile import read_lock

# A render's length may differ from the composition's by a frame per scene.
LENGTH_TOLERANCE = 1.0
# Words of a prompt's stage directions: on a card they would read as instructions, not as
# a video's text (docs/editor.md, "What is not on screen").
STAGE_WORDS = re.compile(
    r"\b(?:background|logo|scenes?|outro|intro|hook|fade|beneath|underneath|"
    r"screen|centred|popping|animation|swipe|type|frame)\b",
    re.IGNORECASE,
)


def assert_reads_like_a_video(composition: Composition) -> None:
    """Every scene's heading and body is text a video shows, not a prompt's instructions."""
    for scene in composition.scenes:
        for text in (scene.heading, scene.body):
            assert text, f"{scene.id} has an empty text"
            assert not STAGE_WORDS.search(text), f"{scene.id} shows {text!r}"


def apply_local(root: Path, spec: str = "parafraim.yaml") -> None:
    """``parafraim-build apply --local --yes`` in ``root``, as a user runs it."""
    result = CliRunner().invoke(
        main, ["apply", "--local", "--yes", "-f", str(root / spec)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output


def copy_example(name: str, tmp_path: Path) -> Path:
    root = tmp_path / name
    shutil.copytree(EXAMPLES / name, root, ignore=shutil.ignore_patterns(".parafraim", "out"))
    return root


def history(root: Path) -> dict[str, list[Composition]]:
    """Every video's composition after each of its steps (the last is the project's), read
    through the engine's API on the state ``--local`` left behind."""
    lock = read_lock(root / ".parafraim" / "local" / "parafraim.lock")
    assert lock is not None
    state = root / ".parafraim" / "local" / "engine"
    found: dict[str, list[Composition]] = {}
    with start_engine(EngineConfig(api_key=LOCAL_API_KEY, state_dir=state)) as engine:
        headers = {"Authorization": f"Bearer {engine.api_key}"}
        with httpx.Client(base_url=f"{engine.base_url}/api/v1", headers=headers) as client:
            for key, entry in lock.videos.items():
                found[key] = [
                    _task_composition(client, entry.projectId, step.taskId) for step in entry.steps
                ]
    return found


def _task_composition(client: httpx.Client, project_id: str, task_id: str | None) -> Composition:
    """The composition one task made: the last ``html_update`` of its replayed stream
    (``GET /tasks/{id}`` shows the project as it is now, after every later step)."""
    assert task_id is not None
    response = client.get(f"/projects/{project_id}/tasks/{task_id}/stream", params={"from": 0})
    response.raise_for_status()
    updates: list[str] = []
    event = ""
    for line in response.text.splitlines():
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: ") and event == "html_update":
            updates.append(json.loads(line.removeprefix("data: "))["html"])
    assert updates, f"task {task_id} streamed no html_update"
    composition = parse_composition(updates[-1])
    assert composition is not None
    return composition


def rendered(root: Path, video: str, render: str, extension: str) -> tuple[int, int, float]:
    info = probe_media(root / "out" / video / f"{render}.{extension}")
    return info.width, info.height, info.duration


def test_product_launch_is_a_30_second_explainer(tmp_path: Path) -> None:
    root = copy_example("product-launch", tmp_path)
    apply_local(root)
    steps = history(root)["flow-launch"]
    final = steps[-1]
    assert final.duration == pytest.approx(30.0)
    width, height, seconds = rendered(root, "flow-launch", "web", "mp4")
    assert (width, height) == (1280, 720)
    assert seconds == pytest.approx(30.0, abs=LENGTH_TOLERANCE)
    assert rendered(root, "flow-launch", "teaser", "gif")[2] == pytest.approx(30.0, abs=1.0)
    headings = [scene.heading for scene in final.scenes]
    # The tagline opens, one scene per benefit, and the call to action closes.
    assert headings[1:4] == ["Plan the week in minutes", "Fewer meetings", "Nothing gets lost"]
    assert headings[-1] == "Northwind Flow launches 14 October"
    assert {scene.background for scene in final.scenes} == {"#1B2A4A"}
    # Step 2 selects the opening's headline: it changes, nothing else does.
    before, after = steps[0], steps[1]
    assert after.scenes[0].heading != before.scenes[0].heading
    assert after.scenes[1:] == before.scenes[1:]
    assert_reads_like_a_video(final)


def test_the_starter_is_a_20_second_teaser_in_three_scenes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "starter"
    root.mkdir()
    monkeypatch.chdir(root)
    result = CliRunner().invoke(main, ["init"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    apply_local(root)
    steps = history(root)["teaser"]
    final = steps[-1]
    assert len(final.scenes) == 3
    assert final.duration == pytest.approx(20.0)
    width, height, seconds = rendered(root, "teaser", "hd", "mp4")
    assert (width, height) == (1920, 1080)
    assert seconds == pytest.approx(20.0, abs=LENGTH_TOLERANCE)
    # Step 2 selects the first scene's headline and makes it bolder.
    assert steps[1].scenes[0].heading == steps[0].scenes[0].heading + "!"
    assert steps[1].scenes[1:] == steps[0].scenes[1:]
    # The outro is the last of the three scenes and lasts the five seconds asked for.
    outro = final.scenes[-1]
    assert (outro.heading, outro.duration) == ("Rocket is here.", 5.0)
    # Three light scenes, the outro dark: the colours asked for are not written as text.
    assert [scene.background for scene in final.scenes] == ["#EEF1F5", "#EEF1F5", "#1B1F2A"]
    assert_reads_like_a_video(final)


def test_social_clip_is_a_15_second_vertical_clip_in_its_three_scenes(tmp_path: Path) -> None:
    root = copy_example("social-clip", tmp_path)
    apply_local(root)
    final = history(root)["autumn-offer"][-1]
    assert [(scene.heading, scene.duration) for scene in final.scenes] == [
        ("Still paying monthly?", 3.0),
        ("30% off annual plans", 6.0),
        ("Link in bio", 6.0),
    ]
    assert final.scenes[1].body == "Ends Sunday."
    assert_reads_like_a_video(final)
    width, height, seconds = rendered(root, "autumn-offer", "story", "mp4")
    assert (width, height) == (720, 1280)
    assert seconds == pytest.approx(15.0, abs=LENGTH_TOLERANCE)


def test_localised_recap_is_built_in_every_language(tmp_path: Path) -> None:
    root = copy_example("localised-recap", tmp_path)
    apply_local(root)
    videos = history(root)
    assert sorted(videos) == ["recap-de", "recap-en", "recap-ja"]
    # The same steps on the same template: the project's name does not change the lengths.
    lengths = {tuple(s.duration for s in videos[key][-1].scenes) for key in sorted(videos)}
    assert len(lengths) == 1
    english = [(s.heading, s.body) for s in videos["recap-en"][-1].scenes]
    for language in ("en", "de", "ja"):
        steps = videos[f"recap-{language}"]
        # The storyboard is English: translating it to English changes nothing.
        marker = "" if language == "en" else f"[{language.upper()}] "
        final = steps[-1]
        # Each number on its own scene, every text marked as translated (English: unmarked).
        assert {"12,400", "99.98%"} <= {s.heading.removeprefix(marker) for s in final.scenes}
        assert all(scene.heading.startswith(marker) for scene in final.scenes)
        assert not any(scene.heading.startswith("[EN]") for scene in final.scenes)
        # Every heading fits on one line and still reads as a heading: the marker is on
        # screen too, so a twelve character limit cut "[JA] This week" to "[JA] This".
        assert all(len(scene.heading) <= 20 for scene in final.scenes)
        for scene, (heading, _) in zip(final.scenes, english, strict=True):
            shown = scene.heading.removeprefix(marker)
            # Cut at a word if at all, never to one word ("[JA] This"): numbers stay whole.
            assert len(shown.split()) >= 2 or shown == heading, (language, shown)
        assert_reads_like_a_video(final)
        for render, size in (("hd", (1280, 720)), ("square", (720, 720))):
            width, height, seconds = rendered(root, f"recap-{language}", render, "mp4")
            assert (width, height) == size
            assert seconds == pytest.approx(final.duration, abs=LENGTH_TOLERANCE)
    assert [heading for heading, _ in english] == [
        "This week in review",
        "Top headlines",
        "12,400",
        "99.98%",
        "Next week",
    ]

"""The scripted editor of the local engine: a message in, a changed composition out.

It is no AI. :mod:`~parafraim_build.emulator.phrases` reads the message into documented
intents (title, remove, durations, translate, colour, plain text); this module applies them to
the parsed composition, one after the other, and writes the new HTML, the intermediate
previews to stream as ``html_update`` events and the assistant's reply.

Deterministic: with ``nondeterministic=False`` the outcome depends only on the seed and the
inputs, because every choice (a colour, a duration, a wording) comes from a ``random.Random``
seeded with a hash of all of them. With ``nondeterministic=True`` the last scene it touched
also gets a random background, so the same message on the same HTML gives different HTML,
like the real service, whose page never promises that an edit repeats.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from parafraim_build.api.models import ASPECT_RATIOS, NAME_MAX
from parafraim_build.emulator.composition import (
    DEFAULT_TITLE,
    PALETTE,
    Composition,
    Scene,
    clean_text,
    format_seconds,
    parse_composition,
    render_composition_html,
    text_colour,
)
from parafraim_build.emulator.phrases import (
    KEEP_CLAUSE,
    LANGUAGE_NAMES,
    Intent,
    Note,
    Plain,
    RemoveScenes,
    ScaleDuration,
    SceneCount,
    SceneList,
    SetBackground,
    SetDuration,
    SetLength,
    SetTitle,
    ShortenHeadings,
    Target,
    Translate,
    missing_kind,
    parse_message,
)
from parafraim_build.emulator.wording import (
    body_variant,
    restyle,
    stock_body,
    translate,
    unmarked,
    variants,
    with_mention,
)

# Durations stay sane so that renders stay short (docs/editor.md).
MIN_SCENE_SECONDS = 1.0
MAX_SCENE_SECONDS = 10.0
MAX_TOTAL_SECONDS = 60.0
MAX_SCENES = 12
SHORTEN_FACTOR = 0.75
LENGTHEN_FACTOR = 1.25
WORDS_PER_CHUNK = 4

# Headings of the scenes "three scenes" adds to a video that has fewer; the seed picks.
STOCK_HEADINGS = (
    "Why it matters",
    "How it works",
    "See it in action",
    "Made for you",
    "What you get",
    "Coming soon",
    "Ready when you are",
)
# Selectors (their last part) that the editor reads as "the heading / body / card of every
# scene": a template of the real service may use any of these for what ours calls h2 and p.
_HEADING_SELECTORS = frozenset(
    {"h1", "h2", "h3", "h4", "h5", "h6", ".scene-heading", ".headline", ".heading", ".title"}
    | {".scene-title", "header"}
)
_BODY_SELECTORS = frozenset({"p", ".scene-body", ".body", ".text", ".subtitle", ".copy"})
_CARD_SELECTORS = frozenset({"section", ".scene", ".card", ".slide", "section.scene"})
_STYLE_WORDS = {"tight": "tighter and more direct", "bold": "bolder", "calm": "calmer"}
_ALREADY = {"tight": "short and direct", "bold": "bold", "calm": "calm"}
# What the reply says a storyboard of still cards lacks, by what a clause asked for.
_LACKS = {
    "motion": "this editor's storyboard has no motion (each scene is a still card).",
    "font": "this editor's storyboard has one font.",
    "sound": "this editor's storyboard has no sound (a render's includeAudio adds a quiet chord).",
}
_CSS_KEYS = frozenset({"selector", "css", "cssSelector", "querySelector", "query"})
_INDEX_KEYS = frozenset({"index", "sceneIndex", "scene_index", "sceneNumber", "position"})
_SCENE_ID = re.compile(r"(?<![\w-])(scene-\d+)(?![\w-])")


@dataclass(frozen=True)
class EditOutcome:
    """What one message did: the final HTML, the previews to stream and the reply."""

    html: str
    html_updates: tuple[str, ...]
    text_chunks: tuple[str, ...]

    @property
    def message(self) -> str:
        """The assistant's whole reply."""
        return "".join(self.text_chunks)


def _seconds(value: float) -> str:
    return format_seconds(round(value, 2))


def _clamp(seconds: float) -> float:
    """A scene duration within the sane range, rounded to a tenth of a second."""
    if not math.isfinite(seconds):
        seconds = MAX_SCENE_SECONDS
    return round(min(MAX_SCENE_SECONDS, max(MIN_SCENE_SECONDS, seconds)), 1)


def _quote(text: str) -> str:
    return f"“{text}”" if text else "(no heading)"


def _scene_list(positions: Sequence[int]) -> str:
    numbers = [str(position + 1) for position in positions]
    if len(numbers) == 1:
        return f"scene {numbers[0]}"
    return "scenes " + ", ".join(numbers[:-1]) + " and " + numbers[-1]


@dataclass
class _Session:
    """The working copy of one edit: scenes with stable keys, notes and preview states."""

    title: str
    aspect_ratio: str
    rng: random.Random
    target: float | None = None
    scenes: list[Scene] = field(default_factory=list)
    keys: list[int] = field(default_factory=list)
    selected: list[int] = field(default_factory=list)  # keys, in selection order
    # Elements were selected but none is a scene: "it" then names no scene, not every scene.
    selection_missed: bool = False
    # "heading" or "body" when every selected element is that part of a scene (``h1``): what a
    # restyle of the selection changes.
    selected_part: str | None = None
    # Scenes before the latest clause's own text was written: what a scene count finds.
    clause_start: int = 0
    touched: list[int] = field(default_factory=list)  # keys changed by the latest intent
    # Keys the latest clause that changed any scene changed: what "it" means without a
    # selection ("Add a scene about pricing and make it blue").
    previous: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # A new storyboard: where the reply says so, and the key of its opening scene.
    opening: tuple[int, int] | None = None
    states: list[str] = field(default_factory=list)
    next_key: int = 0

    # ------------------------------------------------------------------ bookkeeping

    def add(self, scene: Scene, position: int | None = None) -> int:
        key = self.next_key
        self.next_key += 1
        index = len(self.scenes) if position is None else position
        self.scenes.insert(index, scene)
        self.keys.insert(index, key)
        return key

    def composition(self) -> Composition:
        scenes = tuple(
            replace(scene, id=f"scene-{number}") for number, scene in enumerate(self.scenes, 1)
        )
        return Composition(
            title=self.title, aspect_ratio=self.aspect_ratio, scenes=scenes, target=self.target
        )

    def snapshot(self, composition: Composition | None = None) -> None:
        html = render_composition_html(composition or self.composition())
        if not self.states or self.states[-1] != html:
            self.states.append(html)

    def draft(self, positions: Sequence[int]) -> None:
        """A preview in which the changed scenes show their heading only (text "typing")."""
        if not any(self.scenes[position].body for position in positions):
            return
        composition = self.composition()
        scenes = list(composition.scenes)
        for position in positions:
            scenes[position] = replace(scenes[position], body="")
        self.snapshot(replace(composition, scenes=tuple(scenes)))

    def positions_of(self, keys: Sequence[int]) -> list[int]:
        return [self.keys.index(key) for key in keys if key in self.keys]

    def resolve(self, target: Target | None) -> list[int] | None:
        """Scene positions a target names; ``None`` when it leaves the choice to the caller."""
        if target is None:
            return None
        count = len(self.scenes)
        if target.kind in ("each", "whole"):
            return list(range(count))
        if target.kind == "last":
            return [count - 1] if count else []
        if target.kind == "selected":
            if self.selection_missed:
                self.notes.append(
                    "“It” names the selected elements, none of which is a scene, so that "
                    "clause changed nothing."
                )
                return []
            chosen = self.positions_of(self.selected) or self.positions_of(self.previous)
            return chosen or None
        if target.kind == "named":
            wanted = target.name.casefold()
            named = [i for i, scene in enumerate(self.scenes) if scene.heading.casefold() == wanted]
            if not named:
                self.notes.append(f"No scene is called {_quote(target.name)}.")
            return named
        valid = [number - 1 for number in target.numbers if 1 <= number <= count]
        missing = [number for number in target.numbers if not 1 <= number <= count]
        if missing:
            noun = "scene" if count == 1 else "scenes"
            names = ", ".join(str(number) for number in missing)
            self.notes.append(f"There is no scene {names} (the video has {count} {noun}).")
        return valid

    def default_positions(self, target: Target | None) -> list[int]:
        """The target's scenes, else the selection, else every scene."""
        positions = self.resolve(target)
        if positions is not None:
            return positions
        return self.positions_of(self.selected) or list(range(len(self.scenes)))

    def new_background(self, position: int) -> str:
        neighbours = {
            self.scenes[index].background
            for index in (position - 1, position)
            if 0 <= index < len(self.scenes)
        }
        return self.rng.choice([colour for colour in PALETTE if colour not in neighbours])

    def new_duration(self, heading: str, body: str) -> float:
        words = len(f"{heading} {body}".split())
        seconds = 2.0 + 0.2 * words + self.rng.choice((-0.5, 0.0, 0.5))
        return round(min(6.0, max(2.0, seconds)) * 2) / 2

    # --------------------------------------------------------------------- intents

    def apply(self, intent: Intent) -> None:
        if self.touched:
            self.previous = self.touched
        self.touched = []
        if not isinstance(intent, (SceneCount, SetLength)):
            # A clause's count follows its text: "Add three scenes about X" counts X's scene.
            self.clause_start = len(self.scenes)
        if isinstance(intent, SetTitle):
            self.set_title(intent)
        elif isinstance(intent, RemoveScenes):
            self.remove(intent)
        elif isinstance(intent, SetDuration):
            self.set_duration(intent)
        elif isinstance(intent, ScaleDuration):
            self.scale_duration(intent)
        elif isinstance(intent, Translate):
            self.translate(intent)
        elif isinstance(intent, SetBackground):
            self.set_background(intent)
        elif isinstance(intent, SetLength):
            self.set_length(intent)
        elif isinstance(intent, SceneCount):
            self.scene_count(intent)
        elif isinstance(intent, ShortenHeadings):
            self.shorten_headings(intent)
        elif isinstance(intent, Note):
            self.note(intent)
        elif isinstance(intent, SceneList):
            self.scene_list(intent)
        else:
            self.plain(intent)
        self.snapshot()

    def set_title(self, intent: SetTitle) -> None:
        title = intent.title[:NAME_MAX].strip() or DEFAULT_TITLE
        if title == self.title:
            self.notes.append(f"The title already is {_quote(title)}.")
            return
        if self.scenes and self.scenes[0].heading == self.title:
            # The opening card shows the title: keep them together.
            self.scenes[0] = replace(self.scenes[0], heading=title)
            self.touched = [self.keys[0]]
        self.notes.append(f"Changed the title from {_quote(self.title)} to {_quote(title)}.")
        self.title = title

    def remove(self, intent: RemoveScenes) -> None:
        positions = self.resolve(intent.target)
        if positions is None:
            self.notes.append("Nothing is selected, so no scene was removed.")
            return
        positions = sorted(set(positions))
        if not positions:
            self.notes.append("No scene was removed.")
            return
        if len(positions) >= len(self.scenes):
            kept = positions.pop(0)
            self.notes.append(f"A video needs at least one scene, so scene {kept + 1} stays.")
            if not positions:
                return
        removed = [
            f"{position + 1} {_quote(self.scenes[position].heading)}" for position in positions
        ]
        for position in reversed(positions):
            del self.scenes[position]
            del self.keys[position]
        noun = "scene" if len(removed) == 1 else "scenes"
        self.notes.append(f"Removed {noun} " + ", ".join(removed) + ".")

    def set_duration(self, intent: SetDuration) -> None:
        if not self.scenes:
            return
        if intent.target is not None and intent.target.kind == "whole":
            self.scale_total(intent.seconds)
            return
        positions = self.default_positions(intent.target)
        if not positions:
            return
        seconds = _clamp(intent.seconds)
        for position in positions:
            self.scenes[position] = replace(self.scenes[position], duration=seconds, fixed=True)
        self.touched = [self.keys[position] for position in positions]
        limit = "" if seconds == intent.seconds else " (a scene lasts 1 to 10 s)"
        if intent.target is not None and intent.target.kind == "each":
            self.notes.append(f"Every scene now lasts {_seconds(seconds)} s{limit}.")
        else:
            subject = _scene_list(positions)
            verb = "lasts" if len(positions) == 1 else "last"
            self.notes.append(
                f"{subject[:1].upper()}{subject[1:]} now {verb} {_seconds(seconds)} s{limit}."
            )

    def scale_total(self, seconds: float) -> None:
        """Scale every scene so that the video lasts ``seconds`` (within the limits); later
        edits keep that length."""
        current = math.fsum(scene.duration for scene in self.scenes)
        self.target = _target(seconds)
        self._distribute(list(range(len(self.scenes))), self.target)
        total = math.fsum(scene.duration for scene in self.scenes)
        self.touched = list(self.keys)
        self.notes.append(
            f"Scaled every scene so the video lasts {_seconds(total)} s "
            f"(it lasted {_seconds(current)} s)."
        )

    def _distribute(self, positions: Sequence[int], total: float) -> None:
        """Scale the scenes at ``positions`` so that together they last ``total`` seconds, as
        near as the 1 to 10 s range per scene allows."""
        count = len(positions)
        if not count:
            return
        total = min(max(total, count * MIN_SCENE_SECONDS), count * MAX_SCENE_SECONDS)
        current = math.fsum(self.scenes[position].duration for position in positions)
        factor = total / current
        durations = [_clamp(self.scenes[position].duration * factor) for position in positions]
        # Rounding to tenths leaves a residue: give it to the scenes that can take it.
        residue = round(total - math.fsum(durations), 1)
        for index in sorted(range(count), key=lambda i: -durations[i]):
            if abs(residue) < 0.05:
                break
            adjusted = _clamp(durations[index] + residue)
            residue = round(residue - (adjusted - durations[index]), 1)
            durations[index] = adjusted
        for position, duration in zip(positions, durations, strict=True):
            self.scenes[position] = replace(self.scenes[position], duration=duration)

    def set_length(self, intent: SetLength) -> None:
        """Remember the length asked for; :meth:`keep_target` reaches it after the message."""
        self.target = _target(intent.seconds)
        limit = "" if self.target == intent.seconds else " (a video lasts at most 60 s)"
        self.notes.append(f"The video will last {_seconds(self.target)} s in all{limit}.")

    def keep_target(self) -> None:
        """Bring the video to its target length by rescaling the scenes whose length nobody
        asked for; a length asked for ("a three second hook") is kept, so a video whose other
        scenes cannot take up the difference (1 to 10 s each) stays off its target."""
        if self.target is None or not self.scenes:
            return
        current = math.fsum(scene.duration for scene in self.scenes)
        if abs(current - self.target) < 0.05:
            return
        free = [i for i, scene in enumerate(self.scenes) if not scene.fixed]
        pinned = math.fsum(scene.duration for scene in self.scenes if scene.fixed)
        self._distribute(free, self.target - pinned)
        total = math.fsum(scene.duration for scene in self.scenes)
        if abs(total - current) < 0.05:
            self.notes.append(
                f"The video lasts {_seconds(total)} s, not the {_seconds(self.target)} s asked "
                "for: the scenes given a length keep it."
            )
            return
        reached = "" if abs(total - self.target) < 0.05 else " (as near as the scenes allow)"
        self.notes.append(
            f"Kept the video at the {_seconds(self.target)} s asked for{reached}: the scenes "
            f"were rescaled from {_seconds(current)} s to {_seconds(total)} s."
        )

    def scene_count(self, intent: SceneCount) -> None:
        """Add scenes until the video has ``count`` (never removes any)."""
        count = min(intent.count, MAX_SCENES)
        if len(self.scenes) >= count:
            if self.clause_start >= count:
                noun = "scene" if self.clause_start == 1 else "scenes"
                self.notes.append(
                    f"The video already has {self.clause_start} {noun}, so no scene was "
                    f"added to make {intent.count}."
                )
            else:
                self.notes.append(f"That makes the {count} scenes asked for.")
            return
        added: list[int] = []
        used = {scene.heading for scene in self.scenes}
        bodies = {scene.body for scene in self.scenes}
        subject = intent.subject or self.title
        while len(self.scenes) < count:
            heading = self.rng.choice([h for h in STOCK_HEADINGS if h not in used] or ["Scene"])
            used.add(heading)
            body = body_variant(subject, self.rng)
            if body in bodies:
                # Two scenes with the same line read as a mistake: another variant if any.
                fresh = [b for b in variants(subject) if b not in bodies]
                body = self.rng.choice(fresh) if fresh else body
            bodies.add(body)
            position = len(self.scenes)
            background = self.scenes[-1].background if self.scenes else self.new_background(0)
            scene = Scene(
                id="",
                heading=heading,
                body=body,
                duration=self.new_duration(heading, body),
                background=background if self.light(background) else self.new_background(position),
            )
            added.append(self.add(scene))
        self.touched = added
        positions = self.positions_of(added)
        self.notes.append(f"Added {_scene_list(positions)} to make {count} scenes.")

    @staticmethod
    def light(colour: str) -> bool:
        """A light background asked for on purpose is shared by the scenes added with it."""
        return text_colour(colour) != "#FFFFFF"

    def shorten_headings(self, intent: ShortenHeadings) -> None:
        positions = self.default_positions(intent.target)
        if not positions:
            return
        changed: list[int] = []
        for position in positions:
            scene = self.scenes[position]
            if len(scene.heading) <= intent.limit:
                continue
            self.scenes[position] = replace(scene, heading=fit_heading(scene.heading, intent.limit))
            changed.append(position)
        self.touched = [self.keys[position] for position in changed]
        if changed:
            self.notes.append(
                f"Shortened the headings of {_scene_list(changed)} to at most "
                f"{intent.limit} characters."
            )
        else:
            self.notes.append(f"Every heading already has at most {intent.limit} characters.")

    def note(self, intent: Note) -> None:
        if intent.reason == "keep":
            self.notes.append(_kept(intent.clause))
        elif intent.reason == "staging":
            self.notes.append(
                f"Nothing changed for {_quote(intent.clause.rstrip('.'))}: it says how a scene "
                "looks, and a scene of this storyboard shows its heading and body in one style."
            )
        else:
            self.notes.append(
                f"Nothing changed for {_quote(intent.clause.rstrip('.'))}: "
                + _LACKS[missing_kind(intent.clause)]
            )

    def scene_list(self, intent: SceneList) -> None:
        """Each item is a scene: it rewrites the next scene of the target, or, past the
        target's last scene (or without a target), is inserted after it."""
        positions = self.resolve(intent.target) if intent.target is not None else []
        positions = sorted(set(positions or []))
        keys = [self.keys[position] for position in positions]
        insert_at = (positions[-1] + 1) if positions else len(self.scenes)
        touched: list[int] = []
        for index, item in enumerate(intent.items):
            if index < len(keys):
                position = self.keys.index(keys[index])
                scene = self.scenes[position]
                heading, body = self._text_for(item, scene.body)
                self.scenes[position] = replace(
                    scene,
                    heading=heading,
                    body=body,
                    background=item.background or scene.background,
                    **self._timing(item, scene),
                )
                touched.append(keys[index])
                insert_at = position + 1
            elif len(self.scenes) < MAX_SCENES:
                heading, body = self._text_for(item)
                scene = Scene(
                    id="",
                    heading=heading,
                    body=body,
                    duration=self.new_duration(heading, body),
                    background=item.background or self.new_background(insert_at),
                )
                scene = replace(scene, **self._timing(item, scene))
                touched.append(self.add(scene, insert_at))
                insert_at += 1
        self.touched = touched
        if touched:
            done = self.positions_of(touched)
            self.notes.append(
                f"Wrote {_scene_list(done)} from the list: "
                + ", ".join(_quote(self.scenes[position].heading) for position in done)
                + "."
            )

    @staticmethod
    def _timing(intent: Plain, scene: Scene) -> dict[str, Any]:
        """A scene length the clause asked for ("a three second hook") pins the scene."""
        if intent.seconds is None:
            return {"duration": scene.duration, "fixed": scene.fixed}
        return {"duration": _clamp(intent.seconds), "fixed": True}

    def scale_duration(self, intent: ScaleDuration) -> None:
        positions = self.default_positions(intent.target)
        if not positions:
            return
        before = [self.scenes[position].duration for position in positions]
        for position in positions:
            duration = self.scenes[position].duration
            if intent.seconds is not None:
                duration += intent.seconds if intent.longer else -intent.seconds
            else:
                duration *= LENGTHEN_FACTOR if intent.longer else SHORTEN_FACTOR
            self.scenes[position] = replace(
                self.scenes[position], duration=_clamp(duration), fixed=True
            )
        after = [self.scenes[position].duration for position in positions]
        self.touched = [self.keys[position] for position in positions]
        verb = "Lengthened" if intent.longer else "Shortened"
        if before == after:
            bound = "long" if intent.longer else "short"
            self.notes.append(
                f"{_scene_list(positions).capitalize()}: already as {bound} as allowed."
            )
        elif len(positions) == 1:
            asked = (
                before[0] + (intent.seconds if intent.longer else -intent.seconds)
                if (intent.seconds is not None)
                else before[0] * (LENGTHEN_FACTOR if intent.longer else SHORTEN_FACTOR)
            )
            capped = ""
            if abs(round(asked, 1) - after[0]) >= 0.05:
                bound = f"{MAX_SCENE_SECONDS:g} s" if intent.longer else f"{MIN_SCENE_SECONDS:g} s"
                capped = f" ({_seconds(asked)} s asked for, capped at the {bound} scene limit)"
            self.notes.append(
                f"{verb} scene {positions[0] + 1} from {_seconds(before[0])} s "
                f"to {_seconds(after[0])} s{capped}."
            )
        else:
            self.notes.append(
                f"{verb} {_scene_list(positions)}: {_seconds(math.fsum(before))} s "
                f"became {_seconds(math.fsum(after))} s."
            )

    def translate(self, intent: Translate) -> None:
        whole = intent.target is None and not self.positions_of(self.selected)
        positions = self.default_positions(intent.target)
        if intent.language.split("-")[0] == "en":
            self.to_english(positions, whole=whole)
            return
        for position in positions:
            scene = self.scenes[position]
            self.scenes[position] = replace(
                scene,
                heading=translate(scene.heading, intent.language),
                body=translate(scene.body, intent.language),
            )
        self.touched = [self.keys[position] for position in positions]
        name = LANGUAGE_NAMES.get(intent.language, intent.language)
        what = _scene_list(positions) if positions else "no scene"
        if whole:
            self.title = translate(self.title, intent.language)[:NAME_MAX]
            what += " and the title"
        self.notes.append(
            f"Translated {what} to {name}, marked [{intent.language.upper()}] "
            "(a scripted marker and a small glossary, not a real translation)."
        )

    def to_english(self, positions: Sequence[int], *, whole: bool) -> None:
        """Translating to English: the storyboard's own language (this editor writes English),
        so only a marker of an earlier translation goes ([DE]); the glossary's words stay."""
        changed: list[int] = []
        for position in positions:
            scene = self.scenes[position]
            heading, body = unmarked(scene.heading), unmarked(scene.body)
            if (heading, body) != (scene.heading, scene.body):
                self.scenes[position] = replace(scene, heading=heading, body=body)
                changed.append(position)
        self.touched = [self.keys[position] for position in changed]
        title = unmarked(self.title) if whole else self.title
        if changed or title != self.title:
            what = _scene_list(changed) if changed else "the title"
            if changed and title != self.title:
                what += " and the title"
            self.title = title
            self.notes.append(
                f"Took the translation marker off {what}: this editor writes English, so "
                "English needs no marker (the glossary's words are not changed back)."
            )
        else:
            self.notes.append(
                "The text is already in English (this editor writes English), so translating "
                "it to English changed nothing."
            )

    def set_background(self, intent: SetBackground) -> None:
        positions = self.default_positions(intent.target)
        for position in positions:
            self.scenes[position] = replace(self.scenes[position], background=intent.colour)
        self.touched = [self.keys[position] for position in positions]
        if positions:
            subject = _scene_list(positions).capitalize()
            self.notes.append(f"{subject}: {intent.name} background ({intent.colour}).")

    def plain(self, intent: Plain) -> None:
        count = len(self.scenes)
        if (
            intent.target is not None
            and intent.target.kind == "scenes"
            and intent.target.numbers == (count + 1,)
            and count < MAX_SCENES
        ):
            # "Second scene: ..." on a one-scene video writes the scene that comes next.
            self.add_scene(intent)
            return
        positions = self.resolve(intent.target)
        if positions is None:
            positions = self.positions_of(self.selected) or None
        if intent.style is not None:
            self.restyle(
                intent, positions if positions is not None else list(range(len(self.scenes)))
            )
        elif positions is not None:
            if positions:
                self.rewrite(intent, positions)
        elif len(self.scenes) >= MAX_SCENES:
            self.notes.append(
                f"The video already has {MAX_SCENES} scenes, the most this editor makes, "
                "so the last one was rewritten instead of adding one."
            )
            self.rewrite(intent, [len(self.scenes) - 1])
        else:
            self.add_scene(intent)

    def _text_for(self, intent: Plain, old_body: str = "") -> tuple[str, str]:
        body = intent.body
        if not body or body.rstrip(".!?…") == intent.heading.rstrip(".!?…") or body == old_body:
            body = stock_body(_stock_subject(intent), self.rng, avoid=old_body)
        return intent.heading, with_mention(body, intent.mention)

    def add_scene(self, intent: Plain) -> None:
        heading, body = self._text_for(intent)
        position = len(self.scenes)
        scene = Scene(
            id="",
            heading=heading,
            body=body,
            duration=self.new_duration(heading, body),
            background=intent.background or self.new_background(position),
        )
        scene = replace(scene, **self._timing(intent, scene))
        self.touched = [self.add(scene)]
        self.draft([position])
        self.notes.append(
            f"Added scene {position + 1} {_quote(heading)} ({_seconds(scene.duration)} s)."
        )
        self.unshown(intent)

    def rewrite(self, intent: Plain, positions: Sequence[int]) -> None:
        for position in positions:
            scene = self.scenes[position]
            heading, body = self._text_for(intent, scene.body)
            self.scenes[position] = replace(
                scene,
                heading=heading,
                body=body,
                background=intent.background or scene.background,
                **self._timing(intent, scene),
            )
        self.touched = [self.keys[position] for position in positions]
        self.draft(positions)
        self.notes.append(f"Rewrote {_scene_list(positions)}: {_quote(intent.heading)}.")
        self.unshown(intent)

    def restyle(self, intent: Plain, positions: Sequence[int]) -> None:
        """Rewrite the scenes' text in the clause's manner: only the part it names ("the
        headline of", a heading selector), else heading and body."""
        part = intent.part or self.selected_part
        changed: list[int] = []
        for position in positions:
            scene = self.scenes[position]
            heading, body = restyle(scene.heading, scene.body, intent.style or "tight")
            heading = heading if part != "body" and heading else scene.heading
            body = with_mention(body, intent.mention) if part != "heading" else scene.body
            if (heading, body) != (scene.heading, scene.body):
                self.scenes[position] = replace(scene, heading=heading, body=body)
                changed.append(position)
        self.touched = [self.keys[position] for position in changed]
        manner = _STYLE_WORDS.get(intent.style or "", "different")
        what = {"heading": "the heading of ", "body": "the text of "}.get(part or "", "")
        if changed:
            self.notes.append(f"Made {what}{_scene_list(changed)} {manner}.")
        unchanged = [position for position in positions if position not in changed]
        if unchanged:
            already = _ALREADY.get(intent.style or "", "as asked")
            was = "it was" if len(unchanged) == 1 else "they were"
            self.notes.append(f"Left {what}{_scene_list(unchanged)} as {was}: already {already}.")
        self.unshown(intent)

    def unshown(self, intent: Plain) -> None:
        """Say which of a clause's asks a storyboard of still cards cannot show."""
        for piece in intent.unshown:
            self.notes.append(f"Nothing changed for {_quote(piece)}: {_LACKS[missing_kind(piece)]}")

    # ----------------------------------------------------------------- finishing

    def cap_total(self) -> None:
        """Keep the whole video within ``MAX_TOTAL_SECONDS`` so renders stay short."""
        total = math.fsum(scene.duration for scene in self.scenes)
        if total <= MAX_TOTAL_SECONDS + 1e-9:
            return
        factor = MAX_TOTAL_SECONDS / total
        for index, scene in enumerate(self.scenes):
            # Floor to tenths so the rounded sum cannot creep over the cap.
            duration = max(MIN_SCENE_SECONDS, math.floor(scene.duration * factor * 10) / 10)
            self.scenes[index] = replace(scene, duration=duration)
        self.notes.append(
            f"Scaled all scenes down to keep the video within {MAX_TOTAL_SECONDS:g} s."
        )

    def created(self) -> None:
        """Say that the storyboard was created, with its opening scene as the message left it
        (a later clause or the target length may have changed its length, or removed it)."""
        if self.opening is None:
            return
        index, key = self.opening
        positions = self.positions_of([key])
        scene = f" of {_seconds(self.scenes[positions[0]].duration)} s" if positions else ""
        self.notes[index] = (
            f"Created {_quote(self.title)} ({self.aspect_ratio}) with an opening scene{scene}."
        )

    def recolour(self, entropy: random.Random) -> None:
        """Nondeterministic mode: the scene touched last gets a fresh random background."""
        if not self.scenes:
            return
        positions = self.positions_of(self.touched) or [0]
        position = positions[-1]
        current = self.scenes[position].background.upper()
        colour = current
        while colour == current:
            colour = f"#{entropy.randrange(1 << 24):06X}"
        self.scenes[position] = replace(self.scenes[position], background=colour)


class ScriptedEditor:
    """Turns a message into a real change of a real composition; no AI.

    Thread-safe: an edit keeps its state in locals; the only shared object is the system
    entropy source, which is safe to use from any thread.
    """

    def __init__(self, seed: int = 0, nondeterministic: bool = False) -> None:
        self.seed = seed
        self.nondeterministic = nondeterministic
        self._entropy = random.SystemRandom()

    def edit(
        self,
        html: str,
        message: str,
        *,
        selected: Sequence[Mapping[str, Any]] = (),
        aspect_ratio: str = "16:9",
        project_name: str = "",
    ) -> EditOutcome:
        """Apply ``message`` to the composition ``html``. Never raises on any message."""
        existing = parse_composition(html)
        # The project's name and aspect ratio shape only a new storyboard (a storyboard has
        # its own title and ratio), so only then do they seed the choices: the same message on
        # the same storyboard gives the same scenes in every project (docs/editor.md).
        blank = existing is None
        rng = random.Random(
            self._seed_material(
                html,
                message,
                selected,
                aspect_ratio if blank else "",
                project_name if blank else "",
            )
        )
        intents: Sequence[Intent] = parse_message(message)
        session = self._open(existing, intents, rng, aspect_ratio, project_name)
        if existing is None and html.strip():
            session.notes.insert(
                0,
                "The project HTML was not a storyboard this editor can read, "
                "so it started a new one.",
            )
        if existing is not None and existing.scenes:
            session.selected, unmatched = self._selected_keys(selected, existing, session)
            if list(selected) and not session.selected:
                session.selection_missed = True
                session.notes.append("None of the selected elements is a scene of this video.")
            else:
                session.notes.extend(unmatched)
                session.selected_part = _selected_part(selected)
        else:
            intents = self._create(session, intents)
        for intent in intents:
            session.apply(intent)
        if not intents and existing is not None and existing.scenes:
            session.notes.append("The message had no words to act on; nothing changed.")
        session.keep_target()
        session.cap_total()
        if self.nondeterministic:
            session.recolour(self._entropy)
        session.created()
        session.snapshot()
        final = session.states[-1]
        count = len(session.scenes)
        total = math.fsum(scene.duration for scene in session.scenes)
        noun = "scene" if count == 1 else "scenes"
        session.notes.append(f"The video now has {count} {noun}, {_seconds(total)} s in all.")
        return EditOutcome(
            html=final,
            html_updates=tuple(session.states),
            text_chunks=_chunks(" ".join(session.notes)),
        )

    # ------------------------------------------------------------------ helpers

    def _seed_material(
        self,
        html: str,
        message: str,
        selected: Sequence[Mapping[str, Any]],
        aspect_ratio: str,
        project_name: str,
    ) -> int:
        """An integer that changes with the seed and every input, and nothing else."""
        material = json.dumps(
            [self.seed, html, message, list(selected), aspect_ratio, project_name],
            sort_keys=True,
            default=repr,
            ensure_ascii=False,
        )
        return int.from_bytes(hashlib.sha256(material.encode("utf-8")).digest()[:16], "big")

    @staticmethod
    def _open(
        existing: Composition | None,
        intents: Sequence[Intent],
        rng: random.Random,
        aspect_ratio: str,
        project_name: str,
    ) -> _Session:
        if existing is not None:
            session = _Session(
                title=existing.title,
                aspect_ratio=existing.aspect_ratio,
                rng=rng,
                target=existing.target,
            )
            for scene in existing.scenes:
                session.add(replace(scene, duration=_clamp(scene.duration)))
            return session
        title = clean_text(project_name)[:NAME_MAX].strip()
        if not title:
            first_plain = next((i for i in intents if isinstance(i, Plain)), None)
            title = first_plain.heading if first_plain is not None else DEFAULT_TITLE
        ratio = aspect_ratio if aspect_ratio in ASPECT_RATIOS else ASPECT_RATIOS[0]
        return _Session(title=title or DEFAULT_TITLE, aspect_ratio=ratio, rng=rng)

    @staticmethod
    def _create(session: _Session, intents: Sequence[Intent]) -> Sequence[Intent]:
        """A blank project: the first plain clause becomes the opening scene (or an empty one)."""
        rest = list(intents)
        body = ""
        heading = session.title
        first = rest[0] if rest else None
        background = session.rng.choice(PALETTE)
        if isinstance(first, Plain):
            rest.pop(0)
            # Words in quotes are what the scene shows, so they replace the title card's title.
            heading = first.heading if first.quoted else session.title
            body = first.body if first.heading != session.title or first.quoted else ""
            if body and body.rstrip(".!?…") == first.heading.rstrip(".!?…"):
                # The clause gave a heading only (or stage directions): a stock sentence.
                body = stock_body(_stock_subject(first), session.rng)
            body = with_mention(body, first.mention)
            background = first.background or background
        opening = Scene(
            id="",
            heading=heading,
            body=body,
            duration=session.new_duration(heading, body),
            background=background,
        )
        if isinstance(first, Plain):
            opening = replace(opening, **_Session._timing(first, opening))
        session.touched = [session.add(opening)]
        session.draft([0])
        session.snapshot()
        # The opening scene's length is said once the message is done: later clauses and the
        # target length may change it (see _Session.created).
        session.opening = (len(session.notes), session.touched[0])
        session.notes.append("")
        if isinstance(first, Plain):
            session.unshown(first)
        return rest

    @staticmethod
    def _selected_keys(
        selected: Sequence[Mapping[str, Any]], existing: Composition, session: _Session
    ) -> tuple[list[int], list[str]]:
        """The scenes the selected elements point at, tolerating any element shape, and a
        note for each element the storyboard does not have (the reply names them)."""
        keys: list[int] = []
        unmatched: list[str] = []
        ids = [scene.id for scene in existing.scenes]
        texts = [(scene.heading.casefold(), scene.body.casefold()) for scene in existing.scenes]

        def pick(position: int) -> bool:
            if not 0 <= position < len(session.keys):
                return False
            if session.keys[position] not in keys:
                keys.append(session.keys[position])
            return True

        for element in list(selected)[:50]:
            found: list[int] = []
            missing_part = ""
            for key, value in _leaves(element):
                if isinstance(value, int) and key in _INDEX_KEYS and pick(value - 1):
                    found.append(value - 1)
                elif isinstance(value, str):
                    css = key in _CSS_KEYS
                    found.extend(p for p in _positions_for(value, ids, texts, css=css) if pick(p))
                    if css and _names_a_missing_part(value):
                        missing_part = value
            if not found:
                unmatched.append(
                    f"The selected {_quote(_describe(element))} is not part of this storyboard "
                    "(a scene has a heading and a body), so it selects nothing."
                )
            elif missing_part:
                where = _scene_list(sorted(set(found)))
                unmatched.append(
                    f"The selected {_quote(missing_part)} is not part of this storyboard (a "
                    f"scene has a heading and a body), so it was read as {where}."
                )
        return keys, unmatched


def _stock_subject(intent: Plain) -> str | None:
    """What a stock sentence for a plain clause's scene is about: the name it is for, else a
    name its stage directions mention, else its heading unless that is a line of its own or
    quoted words ("Still paying monthly?" is no topic to write "Why ... matters" about)."""
    if intent.mention or intent.subject:
        return intent.mention or intent.subject
    heading = intent.heading.strip()
    if intent.quoted or heading.endswith(("?", "!", ".", "…")):
        # Words the scene shows as written ("50% off") are no topic to write about either.
        return None
    return heading or None


def _target(seconds: float) -> float:
    """A target length within what the editor makes: 1 to 60 s, in tenths."""
    if not math.isfinite(seconds):
        return MAX_TOTAL_SECONDS
    return round(min(MAX_TOTAL_SECONDS, max(MIN_SCENE_SECONDS, seconds)), 1)


def fit_heading(heading: str, limit: int) -> str:
    """``heading`` cut at a word boundary to at most ``limit`` characters (a translation
    marker such as ``[DE]`` counts: it is on screen too); one word is cut short with ``…``."""
    words = heading.split(" ")
    kept: list[str] = []
    for word in words:
        if len(" ".join([*kept, word])) > limit:
            break
        kept.append(word)
    while len(kept) > 1 and kept[-1].lower().strip(",;:") in _TAIL_WORDS:
        kept.pop()
    text = " ".join(kept).rstrip(" ,;:-")
    if not text or re.fullmatch(r"\[[A-Z0-9-]+\]", text):
        return heading[: max(1, limit - 1)].rstrip() + "…"
    return text


_TAIL_WORDS = frozenset(
    {"a", "an", "the", "of", "and", "or", "for", "to", "with", "in", "on", "at", "by", "from"}
)


def _kept(clause: str) -> str:
    """The reply to a keep clause: what was kept ("Kept the headline font: nothing changed.")."""
    text = clause.strip().rstrip(".!")
    match = KEEP_CLAUSE.match(text)
    if match is None or not match.group("rest").strip():
        return f"Kept everything as it is for {_quote(text)}."
    rest = match.group("rest").strip()
    verb = match.group("verb").lower()
    if verb == "make sure":
        return f"Nothing needed to change to make sure {rest}: the scenes stay as they are."
    if verb in ("keep", "leave"):
        return f"{'Kept' if verb == 'keep' else 'Left'} {rest}: nothing needed to change."
    return f"Left {rest} unchanged."


def _leaves(value: Any, key: str = "", depth: int = 0) -> list[tuple[str, Any]]:
    """(key, scalar) pairs of an element of any shape, a few levels deep."""
    if depth > 3:
        return []
    if isinstance(value, Mapping):
        pairs: list[tuple[str, Any]] = []
        for name, item in list(value.items())[:50]:
            pairs.extend(_leaves(item, str(name), depth + 1))
        return pairs
    if isinstance(value, (list, tuple)):
        return [pair for item in value[:50] for pair in _leaves(item, key, depth + 1)]
    if isinstance(value, bool):
        return []
    return [(key, value)]


def _positions_for(
    value: str, ids: Sequence[str], texts: Sequence[tuple[str, str]], *, css: bool = False
) -> list[int]:
    """Scene positions a selector, id or element text refers to; ``css``: the value is a
    selector, so a part every scene has (``h1``) selects every scene."""
    found = [ids.index(match) for match in _SCENE_ID.findall(value) if match in ids]
    if found:
        return found
    bare = value.strip().lstrip("#")
    if bare in ids:
        return [ids.index(bare)]
    if css and _is_part_selector(value):
        return list(range(len(ids)))
    folded = clean_text(value).casefold()
    if len(folded) > 2:
        return [index for index, (heading, body) in enumerate(texts) if folded in (heading, body)]
    return []


def _selected_part(selected: Sequence[Mapping[str, Any]]) -> str | None:
    """``heading`` (or ``body``) when every selected element is a selector for that part of a
    scene (``h1``, ``#scene-2 .headline``): a restyle of the selection changes only it."""
    parts: set[str | None] = set()
    for element in selected:
        selectors = [v for k, v in _leaves(element) if k in _CSS_KEYS and isinstance(v, str)]
        if not selectors:
            return None
        parts.update(_part_of(selector) for selector in selectors)
    return parts.pop() if len(parts) == 1 else None


def _part_of(selector: str) -> str | None:
    """The part of a scene a selector's last compound names: ``heading``, ``body`` or None."""
    parts = re.split(r"\s*[\s>+~]\s*", selector.strip())
    last = re.sub(r"\[[^\]]*\]|::?[\w-]+(?:\([^)]*\))?", "", parts[-1] if parts else "").lower()
    match = _COMPOUND.match(last)
    if match is None or not last:
        return None
    names = {f".{name}" for name in match.group("classes").split(".") if name}
    names.add(match.group("tag") or "")
    if names & _HEADING_SELECTORS:
        return "heading"
    if names & _BODY_SELECTORS:
        return "body"
    return None


def _names_a_missing_part(selector: str) -> bool:
    """A selector for a scene's element the storyboard does not have: ``#scene-1 .eyebrow``
    reads as scene 1, but a scene has no eyebrow, so the reply says the part was not there."""
    parts = re.split(r"\s*[\s>+~]\s*", selector.strip())
    last = _SCENE_ID.sub("", parts[-1] if parts else "").replace("#", "").strip()
    last = re.sub(r"\[[^\]]*\]|::?[\w-]+(?:\([^)]*\))?", "", last)
    return bool(_SCENE_ID.search(selector)) and bool(last) and not _is_part_selector(last)


def _describe(element: Mapping[str, Any]) -> str:
    """A selected element as the reply names it: its selector, id or text, else its JSON."""
    for key, value in _leaves(element):
        if isinstance(value, str) and value.strip():
            return clean_text(value)[:60]
        if isinstance(value, int) and key in _INDEX_KEYS:
            return f"{key} {value}"
    return json.dumps(element, sort_keys=True, default=repr)[:60]


_COMPOUND = re.compile(r"^(?P<tag>[a-zA-Z][a-zA-Z0-9]*)?(?P<classes>(?:\.[\w-]+)*)$")


def _is_part_selector(value: str) -> bool:
    """A CSS selector for a part every scene has (``h1``, ``.headline``, ``p``, ``.scene``).

    Only the last compound counts ("main h1" is an ``h1``); pseudo-classes and attributes are
    ignored. Such a selector matches that part in every scene, so it selects every scene.
    """
    parts = re.split(r"\s*[\s>+~]\s*", value.strip())
    last = re.sub(r"\[[^\]]*\]|::?[\w-]+(?:\([^)]*\))?", "", parts[-1] if parts else "")
    match = _COMPOUND.match(last.lower())
    if match is None or not last:
        return False
    names = [f".{name}" for name in match.group("classes").split(".") if name]
    if match.group("tag"):
        names.append(match.group("tag"))
    known = _HEADING_SELECTORS | _BODY_SELECTORS | _CARD_SELECTORS
    return any(name in known for name in names)


def _chunks(text: str) -> tuple[str, ...]:
    """The reply cut into a few words per chunk; joined, the chunks are the reply again."""
    tokens = re.findall(r"\s*\S+\s*", text) or [text]
    return tuple(
        "".join(tokens[index : index + WORDS_PER_CHUNK])
        for index in range(0, len(tokens), WORDS_PER_CHUNK)
    )

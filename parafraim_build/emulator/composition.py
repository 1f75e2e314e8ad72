"""The local engine's composition: an HTML storyboard of scenes, each with a duration.

A composition is one standalone HTML document. Each scene is a
``<section id="scene-N" class="scene" data-duration="S" data-background="#RRGGBB">`` holding
a heading (``h1``-``h6``) and a body (``p``); the title and aspect ratio sit on the
``<main data-title=... data-aspect-ratio=...>`` element. The document shows itself as a
playing preview in a browser (CSS + a small script), and :func:`parse_composition` reads it
back, so what the editor writes, the renderer draws and the preview shows are one thing.

``parse_composition(render_composition_html(c)) == c`` for every composition whose texts are
already normalised by :func:`clean_text`.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from parafraim_build.api.models import ASPECT_RATIOS

DEFAULT_ASPECT_RATIO = "16:9"
DEFAULT_TITLE = "Untitled video"
COMPOSITION_FORMAT = "parafraim-storyboard/1"

# Scene backgrounds used when a document names none (or an invalid one): calm, dark enough
# for white text, distinct from each other.
PALETTE = (
    "#1D3557",
    "#2A9D8F",
    "#6D597A",
    "#E76F51",
    "#264653",
    "#B5838D",
    "#3D405B",
    "#81B29A",
    "#9C6644",
    "#457B9D",
    "#5F0F40",
    "#0F4C5C",
)

_HEX_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_WHITESPACE = re.compile(r"\s+")
# Control characters cannot travel through HTML text reliably; they are dropped.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


@dataclass(frozen=True)
class Scene:
    """One card of the storyboard; ``id`` is the element id, so ``#scene-2`` selects it."""

    id: str
    heading: str
    body: str
    duration: float
    background: str
    # The duration was asked for explicitly ("a three second hook"): keeping the video at its
    # target length changes the other scenes first (``data-fixed-duration``).
    fixed: bool = False


@dataclass(frozen=True)
class Composition:
    """A whole video: a title, an aspect ratio and the scenes in play order.

    ``target``: the length the video was asked to last ("a 20 second teaser"), which later
    edits keep (``data-target-duration``); ``None`` when no length was asked for.
    """

    title: str
    aspect_ratio: str
    scenes: tuple[Scene, ...]
    target: float | None = None

    @property
    def duration(self) -> float:
        """The length of the video in seconds: the sum of the scene durations."""
        return math.fsum(scene.duration for scene in self.scenes)


def clean_text(text: str) -> str:
    """``text`` as a composition stores it: no control characters, single spaces, trimmed."""
    return _WHITESPACE.sub(" ", _CONTROL.sub("", text)).strip()


def is_colour(value: str) -> bool:
    """True for a ``#RRGGBB`` colour."""
    return bool(_HEX_COLOUR.match(value))


def text_colour(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (``#RRGGBB``)."""
    if not is_colour(background):
        return "#FFFFFF"
    red, green, blue = (int(background[i : i + 2], 16) for i in (1, 3, 5))
    # Relative luminance weights (ITU-R BT.709) on the 0..255 scale.
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return "#111111" if luminance > 150 else "#FFFFFF"


def format_seconds(value: float) -> str:
    """A duration as written in ``data-duration``: ``3`` or ``2.5``, exact when read back."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


# --------------------------------------------------------------------------- parsing


class _StoryboardParser(HTMLParser):
    """Collects the title, aspect ratio and scenes of a storyboard document.

    Lenient on purpose: any ``<section>`` with an ``id`` and a ``data-duration`` is a scene,
    whatever else surrounds it, so a hand-edited or reformatted document still parses.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.recognised = False
        self.title_attr: str | None = None
        self.title_text: list[str] = []
        self.aspect_ratio: str | None = None
        self.target: float | None = None
        self.scenes: list[Scene] = []
        self._in_title = False
        self._scene: dict[str, str] | None = None
        self._section_depth = 0
        self._heading: list[str] | None = None
        self._heading_tag: str | None = None
        self._body: list[str] | None = None
        self._heading_parts: list[str] = []
        self._body_parts: list[str] = []
        self._heading_done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes: dict[str, str] = {}
        for name, value in attrs:
            attributes.setdefault(name, value or "")
        if "data-composition" in attributes or "data-title" in attributes:
            self.recognised = True
            if self.title_attr is None and "data-title" in attributes:
                self.title_attr = attributes["data-title"]
            if self.aspect_ratio is None and "data-aspect-ratio" in attributes:
                self.aspect_ratio = attributes["data-aspect-ratio"]
            if self.target is None and "data-target-duration" in attributes:
                self.target = _parse_duration(attributes["data-target-duration"])
        if tag == "title" and self._scene is None:
            self._in_title = True
            return
        if self._scene is None:
            if tag == "section" and "data-duration" in attributes and attributes.get("id"):
                self._open_scene(attributes)
            return
        if tag == "section":
            self._section_depth += 1
        elif tag in _HEADINGS and self._heading is None and not self._heading_done:
            self._heading, self._heading_tag = self._heading_parts, tag
        elif tag == "p" and self._body is None and self._heading is None:
            self._body = [] if not self._body_parts else [" "]
        elif tag == "br":
            self.handle_data(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # A self-closed ``<section/>`` holds nothing, so it is no scene; ``<br/>`` is a space.
        if tag == "section":
            return
        self.handle_starttag(tag, attrs)
        if tag != "br":
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
            return
        if self._scene is None:
            return
        if self._heading is not None and tag == self._heading_tag:
            self._heading, self._heading_tag, self._heading_done = None, None, True
        elif self._body is not None and tag == "p":
            self._body_parts.extend(self._body)
            self._body = None
        elif tag == "section":
            if self._section_depth == 0:
                self._close_scene()
            else:
                self._section_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_text.append(data)
        elif self._heading is not None:
            self._heading.append(data)
        elif self._body is not None:
            self._body.append(data)

    def close(self) -> None:
        super().close()
        if self._scene is not None:
            self._close_scene()

    def _open_scene(self, attributes: dict[str, str]) -> None:
        self._scene = attributes
        self._section_depth = 0
        self._heading = self._body = None
        self._heading_tag = None
        self._heading_parts, self._body_parts = [], []
        self._heading_done = False

    def _close_scene(self) -> None:
        attributes = self._scene or {}
        if self._body is not None:
            self._body_parts.extend(self._body)
        self._scene, self._heading, self._body = None, None, None
        duration = _parse_duration(attributes.get("data-duration", ""))
        if duration is None:
            return
        background = attributes.get("data-background", "")
        if not is_colour(background):
            background = PALETTE[len(self.scenes) % len(PALETTE)]
        self.recognised = True
        self.scenes.append(
            Scene(
                id=attributes.get("id", "").strip(),
                heading=clean_text("".join(self._heading_parts)),
                body=clean_text("".join(self._body_parts)),
                duration=duration,
                background=background,
                fixed=attributes.get("data-fixed-duration", "").strip().lower() == "true",
            )
        )


def _parse_duration(value: str) -> float | None:
    try:
        seconds = float(value.strip().removesuffix("s"))
    except ValueError:
        return None
    if not math.isfinite(seconds) or seconds <= 0:
        return None
    return seconds


def parse_composition(html_text: str) -> Composition | None:
    """Read a storyboard document back into a :class:`Composition`.

    ``None`` for an empty string or HTML that is not a storyboard (no composition marker and
    no scene). Never raises, whatever the input: HTML comes from users and other tools.
    """
    if not isinstance(html_text, str) or not html_text.strip():
        return None
    parser = _StoryboardParser()
    try:
        parser.feed(html_text)
        parser.close()
    except Exception:
        # html.parser is lenient but not guaranteed total on garbage; garbage is "not ours".
        return None
    if not parser.recognised:
        return None
    title = clean_text(parser.title_attr or "") or clean_text("".join(parser.title_text))
    aspect_ratio = (parser.aspect_ratio or "").strip()
    return Composition(
        title=title or DEFAULT_TITLE,
        aspect_ratio=aspect_ratio if aspect_ratio in ASPECT_RATIOS else DEFAULT_ASPECT_RATIO,
        scenes=tuple(parser.scenes),
        target=parser.target,
    )


def has_preview(html_text: str) -> bool:
    """True when the HTML is a storyboard with at least one scene (it can be rendered)."""
    composition = parse_composition(html_text)
    return composition is not None and len(composition.scenes) > 0


# --------------------------------------------------------------------------- rendering

_STYLE = """
:root { color-scheme: dark; font-family: system-ui, -apple-system, "Segoe UI", Roboto,
  "Helvetica Neue", Arial, sans-serif; }
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; background: #0b0d12; color: #e8eaf0;
  display: flex; justify-content: center; }
.composition { width: min(100%, 1100px); padding: 24px; }
.composition-header { display: flex; align-items: baseline; justify-content: space-between;
  gap: 16px; margin-bottom: 16px; }
.composition-title { font-size: 1.4rem; margin: 0; font-weight: 650; }
.composition-meta { margin: 0; color: #9aa3b5; font-size: .9rem; white-space: nowrap; }
.stage { display: grid; gap: 16px; }
.scene { position: relative; display: flex; flex-direction: column; justify-content: center;
  gap: 1.2em; padding: 6% 8%; border-radius: 14px; overflow: hidden; min-height: 220px;
  background: linear-gradient(135deg, var(--bg), color-mix(in srgb, var(--bg) 70%, #000));
  color: var(--fg); box-shadow: 0 10px 30px rgba(0, 0, 0, .35); }
.scene-heading { margin: 0; font-size: clamp(1.4rem, 4.2vw, 3rem); line-height: 1.15;
  font-weight: 750; letter-spacing: -.01em; }
.scene-body { margin: 0; font-size: clamp(1rem, 2.2vw, 1.5rem); line-height: 1.45;
  max-width: 46em; opacity: .92; }
.scene-counter { position: absolute; right: 4%; bottom: 5%; font-size: .85rem;
  opacity: .75; font-variant-numeric: tabular-nums; }
body.playing .stage { position: relative; display: block; aspect-ratio: var(--ratio);
  max-height: 78vh; margin: 0 auto; }
body.playing .scene { position: absolute; inset: 0; min-height: 0; opacity: 0;
  transform: scale(1.02); transition: opacity .45s ease, transform .6s ease; }
body.playing .scene.active { opacity: 1; transform: none; }
.progress { height: 4px; background: #222836; border-radius: 2px; margin-top: 12px;
  overflow: hidden; }
.progress > div { height: 100%; width: 0; background: #8ab4ff; }
.timeline { display: flex; gap: 6px; margin-top: 10px; }
.timeline button { flex: var(--share) 1 0; min-width: 0; padding: 6px 8px; border: 0;
  border-radius: 6px; background: #1a1f2b; color: #c9cfdc; font: inherit; font-size: .8rem;
  text-align: left; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
  cursor: pointer; }
.timeline button.active { background: #2d3a57; color: #fff; }
""".strip()

# Plays the scenes one after the other for their data-duration; without script the scenes
# stay stacked, which is still a readable storyboard.
_SCRIPT = """
(function () {
  var scenes = Array.prototype.slice.call(document.querySelectorAll("section.scene"));
  if (!scenes.length) { return; }
  var stage = document.querySelector(".stage");
  var bar = document.createElement("div");
  bar.className = "progress";
  bar.appendChild(document.createElement("div"));
  var timeline = document.querySelector(".timeline");
  stage.parentNode.insertBefore(bar, timeline);
  var total = 0;
  var starts = scenes.map(function (scene) {
    var start = total;
    total += parseFloat(scene.getAttribute("data-duration")) || 1;
    return start;
  });
  var buttons = scenes.map(function (scene, index) {
    var button = document.createElement("button");
    var heading = scene.querySelector("h1, h2, h3, h4, h5, h6");
    button.textContent = (index + 1) + ". " + (heading ? heading.textContent : scene.id);
    button.style.setProperty("--share", scene.getAttribute("data-duration"));
    button.addEventListener("click", function () {
      origin = performance.now() - starts[index] * 1000;
    });
    timeline.appendChild(button);
    return button;
  });
  document.body.classList.add("playing");
  var origin = performance.now();
  function frame(now) {
    var t = ((now - origin) / 1000) % total;
    var current = 0;
    for (var i = 0; i < starts.length; i++) { if (t >= starts[i]) { current = i; } }
    scenes.forEach(function (scene, i) { scene.classList.toggle("active", i === current); });
    buttons.forEach(function (button, i) { button.classList.toggle("active", i === current); });
    bar.firstChild.style.width = (100 * t / total).toFixed(2) + "%";
    requestAnimationFrame(frame);
  }
  requestAnimationFrame(frame);
})();
""".strip()


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def _scene_html(scene: Scene, index: int, count: int) -> str:
    background = scene.background if is_colour(scene.background) else PALETTE[0]
    fixed = ' data-fixed-duration="true"' if scene.fixed else ""
    return (
        f'<section id="{_attr(scene.id)}" class="scene"'
        f' data-duration="{format_seconds(scene.duration)}"'
        f' data-background="{_attr(background)}"'
        f"{fixed}"
        f' style="--bg: {background}; --fg: {text_colour(background)}">\n'
        f'<h2 class="scene-heading">{html.escape(scene.heading, quote=False)}</h2>\n'
        f'<p class="scene-body">{html.escape(scene.body, quote=False)}</p>\n'
        f'<span class="scene-counter">{index} / {count}</span>\n'
        "</section>"
    )


def render_composition_html(composition: Composition) -> str:
    """The composition as a complete, standalone HTML document that plays in a browser."""
    count = len(composition.scenes)
    ratio = composition.aspect_ratio.replace(":", " / ")
    noun = "scene" if count == 1 else "scenes"
    meta = (
        f"{count} {noun} · {format_seconds(round(composition.duration, 2))} s · "
        f"{composition.aspect_ratio}"
    )
    scenes = "\n".join(
        _scene_html(scene, index, count) for index, scene in enumerate(composition.scenes, 1)
    )
    title = html.escape(composition.title, quote=False)
    target = (
        ""
        if composition.target is None
        else f' data-target-duration="{format_seconds(composition.target)}"'
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="parafraim-build local engine (scripted, no AI)">\n'
        f"<title>{title}</title>\n"
        f"<style>\n{_STYLE}\n</style>\n"
        "</head>\n"
        "<body>\n"
        f'<main class="composition" data-composition="{COMPOSITION_FORMAT}"'
        f' data-title="{_attr(composition.title)}"'
        f' data-aspect-ratio="{_attr(composition.aspect_ratio)}"'
        f' data-duration="{format_seconds(composition.duration)}"'
        f"{target}"
        f' style="--ratio: {_attr(ratio)}">\n'
        '<header class="composition-header">\n'
        f'<h1 class="composition-title">{title}</h1>\n'
        f'<p class="composition-meta">{html.escape(meta, quote=False)}</p>\n'
        "</header>\n"
        f'<div class="stage">\n{scenes}\n</div>\n'
        '<nav class="timeline" aria-label="Scenes"></nav>\n'
        "</main>\n"
        f"<script>\n{_SCRIPT}\n</script>\n"
        "</body>\n"
        "</html>\n"
    )

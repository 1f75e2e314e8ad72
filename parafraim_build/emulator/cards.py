"""Storyboard cards: one Pillow image per scene, at exactly the size of the render.

A card shows the scene's background (a soft vertical gradient), its heading and body wrapped
to fit, the video title small at the top and a scene counter with a progress strip at the
bottom. Text uses Pillow's bundled scalable font (``ImageFont.load_default(size=...)``), so no
system font is needed. Pure and thread-safe: fonts are loaded per card, never shared.
"""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

from parafraim_build.emulator.composition import Scene, is_colour, text_colour

FontType = ImageFont.FreeTypeFont | ImageFont.ImageFont

HEADING_LINES = 3
BODY_LINES = 5
# Longer texts could never show on one card; cutting first keeps wrapping cheap.
TEXT_MAX = 600
_ELLIPSIS = "…"


def _rgb(colour: str) -> tuple[int, int, int]:
    if not is_colour(colour):
        colour = "#1D3557"
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _mix(
    colour: tuple[int, int, int], other: tuple[int, int, int], share: float
) -> tuple[int, int, int]:
    red, green, blue = (
        round(a * (1 - share) + b * share) for a, b in zip(colour, other, strict=True)
    )
    return red, green, blue


def _font(size: float) -> FontType:
    return ImageFont.load_default(size=max(8, round(size)))


def _width(font: FontType, text: str) -> float:
    return float(font.getlength(text))


def wrap(text: str, font: FontType, max_width: float, max_lines: int) -> list[str]:
    """Greedy word wrap; over-long words are cut, and a cut-off last line ends with ``…``."""
    lines: list[str] = []
    current = ""
    for word in text[:TEXT_MAX].split():
        candidate = f"{current} {word}" if current else word
        if _width(font, candidate) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while len(current) > 1 and _width(font, current) > max_width:
            cut = _longest_prefix(current, font, max_width)
            lines.append(current[:cut])
            current = current[cut:]
        if len(lines) > max_lines:
            break
    else:
        if current:
            lines.append(current)
    if len(lines) > max_lines:
        return _ellipsised(lines[:max_lines], font, max_width)
    return lines


def _longest_prefix(word: str, font: FontType, max_width: float) -> int:
    """How many characters of ``word`` fit ``max_width`` (at least one)."""
    low, high = 1, len(word)
    while low < high:
        middle = (low + high + 1) // 2
        if _width(font, word[:middle]) <= max_width:
            low = middle
        else:
            high = middle - 1
    return low


def _ellipsised(lines: list[str], font: FontType, max_width: float) -> list[str]:
    last = lines[-1]
    while last and _width(font, last + _ELLIPSIS) > max_width:
        last = last[:-1]
    return [*lines[:-1], last.rstrip() + _ELLIPSIS]


def _fit(
    text: str, size: float, max_width: float, max_lines: int
) -> tuple[FontType, list[str], float]:
    """The largest font (down to half ``size``) at which ``text`` fits ``max_lines``."""
    for step in range(5):
        current = size * (0.87**step)
        font = _font(current)
        lines = wrap(text, font, max_width, max_lines + 1)
        if len(lines) <= max_lines:
            return font, lines, current
    return font, wrap(text, font, max_width, max_lines), current


def draw_card(
    scene: Scene, *, index: int, count: int, title: str, width: int, height: int
) -> Image.Image:
    """The card of scene ``index`` (1-based) of ``count``, exactly ``width`` x ``height``."""
    base = _rgb(scene.background)
    ink = _rgb(text_colour(scene.background))
    dark = _mix(base, (0, 0, 0), 0.35)
    gradient = Image.linear_gradient("L").resize((width, height))
    card = Image.composite(
        Image.new("RGB", (width, height), dark), Image.new("RGB", (width, height), base), gradient
    )
    draw = ImageDraw.Draw(card)

    short = min(width, height)
    margin = round(short * 0.08)
    text_width = width - 2 * margin
    soft_ink = _mix(ink, base, 0.3)

    small = _font(short * 0.035)
    if title:
        shown = wrap(title, small, text_width * 0.7, 1)
        draw.text((margin, margin * 0.6), shown[0] if shown else "", font=small, fill=soft_ink)
    counter = f"{index} / {count}"
    counter_width = _width(small, counter)
    draw.text(
        (width - margin - counter_width, height - margin),
        counter,
        font=small,
        fill=soft_ink,
        anchor="ls",
    )

    # A strip of segments at the bottom shows where this scene sits in the video.
    strip_width = min(text_width * 0.5, short * 0.6)
    gap = max(2, round(short * 0.006))
    segment = (strip_width - gap * (count - 1)) / max(count, 1)
    strip_y = height - margin - round(short * 0.012)
    for position in range(count):
        left = margin + position * (segment + gap)
        fill = ink if position == index - 1 else _mix(ink, base, 0.65)
        draw.rectangle(
            (
                round(left),
                strip_y,
                round(left + max(segment, 1)),
                strip_y + max(2, round(short * 0.008)),
            ),
            fill=fill,
        )

    heading_font, heading_lines, heading_size = _fit(
        scene.heading, short * 0.1, text_width, HEADING_LINES
    )
    body_font, body_lines, body_size = _fit(scene.body, short * 0.05, text_width, BODY_LINES)
    heading_step = heading_size * 1.18
    body_step = body_size * 1.4
    spacing = body_size * 1.2 if heading_lines and body_lines else 0
    block = len(heading_lines) * heading_step + spacing + len(body_lines) * body_step
    top = max(margin * 1.6, (height - block) / 2)
    y = top
    for line in heading_lines:
        draw.text((margin, y), line, font=heading_font, fill=ink)
        y += heading_step
    y += spacing
    for line in body_lines:
        draw.text((margin, y), line, font=body_font, fill=soft_ink)
        y += body_step
    return card

"""The local engine's built-in template catalogue: 14 real storyboards in 6 categories.

Ids are fixed (``00000000-0000-0000-0000-0000000000NN``) so that specs and examples can pin
them; ``Product launch`` (01, marketing) and ``Weekly recap`` (07, news) are the ones the
examples use. Each composition is made by :func:`render_composition_html`, so it parses,
previews and renders like any edited project.
"""

from __future__ import annotations

from dataclasses import dataclass

from parafraim_build.emulator.composition import Composition, Scene, render_composition_html


@dataclass(frozen=True)
class TemplateDef:
    """One catalogue entry; ``html`` is the composition a project starts from."""

    id: str
    name: str
    description: str
    category: str
    html: str


# (number, name, description, category, aspect ratio, scenes as (heading, body, seconds, colour))
_Card = tuple[str, str, float, str]
_SOURCES: tuple[tuple[int, str, str, str, str, tuple[_Card, ...]], ...] = (
    (
        1,
        "Product launch",
        "A short launch explainer: the hook, what is new, and where to get it.",
        "marketing",
        "16:9",
        (
            ("Meet the new product", "Built for teams who ship every day.", 3, "#1D3557"),
            ("What is new", "Faster set-up, live previews and one-click sharing.", 4, "#2A9D8F"),
            ("Available today", "Start free at example.com.", 3, "#E76F51"),
        ),
    ),
    (
        2,
        "Feature spotlight",
        "One feature, the problem it solves and how it works, in three cards.",
        "marketing",
        "16:9",
        (
            ("The problem", "Reports take hours to put together by hand.", 3, "#3D405B"),
            ("The feature", "Automatic reports, refreshed every morning.", 3, "#457B9D"),
            ("How it works", "Connect a source, pick a layout, done.", 3, "#81B29A"),
        ),
    ),
    (
        3,
        "Customer testimonial",
        "A customer quote with the result they got and a call to action.",
        "marketing",
        "1:1",
        (
            ("“We cut our review time in half.”", "Dana Lee, Head of Operations.", 4, "#6D597A"),
            ("The result", "50% faster reviews in the first month.", 3, "#B5838D"),
            ("Your turn", "Book a demo at example.com.", 2, "#264653"),
        ),
    ),
    (
        4,
        "Flash sale",
        "A countdown-style promotion for a limited-time discount.",
        "marketing",
        "9:16",
        (
            ("48-hour flash sale", "Everything 30% off this weekend only.", 2, "#C0392B"),
            ("Best sellers included", "No codes needed: the price is already cut.", 3, "#D35400"),
            ("Ends Sunday", "Shop now at example.com.", 2, "#5F0F40"),
        ),
    ),
    (
        5,
        "How-to tutorial",
        "A step-by-step tutorial: the goal, three steps and a recap.",
        "education",
        "16:9",
        (
            ("How to set up your workspace", "Three steps, two minutes.", 3, "#0F4C5C"),
            ("Step 1: create a project", "Pick a name and a template.", 3, "#2A9D8F"),
            ("Step 2: invite your team", "Send links from the share menu.", 3, "#457B9D"),
            ("Step 3: publish", "One click makes it live for everyone.", 3, "#264653"),
        ),
    ),
    (
        6,
        "Course trailer",
        "A trailer for an online course: who it is for and what you will learn.",
        "education",
        "16:9",
        (
            ("Learn data storytelling", "A six-week course for analysts.", 3, "#6D597A"),
            ("What you will learn", "Charts that persuade, decks that land.", 3, "#3D405B"),
            ("Enrol now", "Next cohort starts on Monday.", 2, "#9C6644"),
        ),
    ),
    (
        7,
        "Weekly recap",
        "A news-style recap of the week: headlines, one number and what is next.",
        "news",
        "16:9",
        (
            ("This week in review", "The three stories that mattered most.", 3, "#1D3557"),
            ("Top headlines", "New office opened, hiring doubled, beta shipped.", 4, "#457B9D"),
            ("Number of the week", "12,000 new sign-ups.", 3, "#0F4C5C"),
            ("Next week", "Launch day and the community call.", 2, "#3D405B"),
        ),
    ),
    (
        8,
        "Breaking news",
        "A bold breaking-news bulletin with the facts and where to read more.",
        "news",
        "16:9",
        (
            ("Breaking", "Major update announced this morning.", 2, "#C0392B"),
            ("What we know", "Rollout starts today in every region.", 4, "#3D405B"),
            ("Read more", "Full story at example.com/news.", 2, "#264653"),
        ),
    ),
    (
        9,
        "Event invitation",
        "An invitation with the date, the venue and how to register.",
        "events",
        "1:1",
        (
            ("You are invited", "Join us for our annual summit.", 3, "#5F0F40"),
            ("12 June, Berlin", "Talks, workshops and a rooftop dinner.", 3, "#6C3483"),
            ("Register now", "Seats are limited: example.com/summit.", 2, "#1B2A49"),
        ),
    ),
    (
        10,
        "Conference highlights",
        "After-event highlights: the numbers, the best talk and a thank-you.",
        "events",
        "16:9",
        (
            ("Summit highlights", "Two days, 40 talks, 1,200 people.", 3, "#0F4C5C"),
            ("Best-rated talk", "Designing for the next billion users.", 3, "#2A9D8F"),
            ("Thank you", "See you next year.", 2, "#E76F51"),
        ),
    ),
    (
        11,
        "Team introduction",
        "Introduce a team: who they are, what they do and how to reach them.",
        "corporate",
        "16:9",
        (
            ("Meet the platform team", "Eight engineers, three time zones.", 3, "#264653"),
            ("What we do", "We keep every service fast and available.", 3, "#457B9D"),
            ("Say hello", "Find us in #platform.", 2, "#81B29A"),
        ),
    ),
    (
        12,
        "Quarterly results",
        "A results summary for stakeholders: revenue, growth and the outlook.",
        "corporate",
        "16:9",
        (
            ("Q3 results", "Our strongest quarter so far.", 3, "#1B2A49"),
            ("Revenue up 24%", "Driven by new enterprise customers.", 4, "#138D75"),
            ("Outlook", "We expect continued growth in Q4.", 3, "#3D405B"),
        ),
    ),
    (
        13,
        "Story teaser",
        "A vertical teaser for social stories: a hook, a reveal and a follow prompt.",
        "social",
        "9:16",
        (
            ("Something big is coming", "Swipe up to find out first.", 2, "#5F0F40"),
            ("Friday, 9 am", "Mark your calendar.", 2, "#C2185B"),
            ("Follow for the reveal", "@example", 2, "#1B2A49"),
        ),
    ),
    (
        14,
        "Quote card",
        "A square quote for social feeds with the author and a closing line.",
        "social",
        "1:1",
        (
            ("“Simplicity is the soul of efficiency.”", "Austin Freeman.", 4, "#3D405B"),
            ("Share if you agree", "More ideas every week.", 2, "#6D597A"),
        ),
    ),
)


def template_id(number: int) -> str:
    """The fixed id of catalogue entry ``number`` (1-based)."""
    return f"00000000-0000-0000-0000-{number:012d}"


def _build() -> tuple[TemplateDef, ...]:
    templates = []
    for number, name, description, category, ratio, cards in _SOURCES:
        scenes = tuple(
            Scene(id=f"scene-{index}", heading=heading, body=body, duration=float(s), background=c)
            for index, (heading, body, s, c) in enumerate(cards, 1)
        )
        composition = Composition(title=name, aspect_ratio=ratio, scenes=scenes)
        templates.append(
            TemplateDef(
                id=template_id(number),
                name=name,
                description=description,
                category=category,
                html=render_composition_html(composition),
            )
        )
    return tuple(templates)


CATALOGUE: tuple[TemplateDef, ...] = _build()
_BY_ID = {template.id.lower(): template for template in CATALOGUE}


def find_template(template_id: str) -> TemplateDef | None:
    """The template with this id (case-insensitive, as uuids are), or None."""
    return _BY_ID.get(template_id.strip().lower())

"""The SSE decoder, on the byte level: tables of wire input, split every way they can be."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parafraim_build.api.sse import ServerSentEvent, SSEDecoder, task_event


def decode_all(chunks: list[bytes]) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.close())
    return events


def split_at(data: bytes, *cuts: int) -> list[bytes]:
    points = [0, *sorted(cuts), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(points)]


E = ServerSentEvent

CASES: list[tuple[str, bytes, list[ServerSentEvent]]] = [
    (
        "LF lines",
        b'id: 1\nevent: text\ndata: {"delta": "Hi"}\n\n',
        [E("text", '{"delta": "Hi"}', "1", id="1")],
    ),
    (
        "CRLF lines",
        b'id: 1\r\nevent: text\r\ndata: {"delta": "Hi"}\r\n\r\n',
        [E("text", '{"delta": "Hi"}', "1", id="1")],
    ),
    ("CR-only lines", b"id: 7\revent: result\rdata: {}\r\r", [E("result", "{}", "7", id="7")]),
    (
        "data split across lines is joined with LF",
        b'event: html_update\ndata: {"html":\ndata:  "<p>x</p>"}\n\n',
        [E("html_update", '{"html":\n "<p>x</p>"}', "")],
    ),
    ("comments are keep-alives", b": ping\n\n: ping\ndata: x\n\n", [E("message", "x", "")]),
    (
        # Its id still counts as the last one (the resume point), but not as the next event's.
        "a block without data is not dispatched",
        b"id: 3\nevent: text\n\ndata: y\n\n",
        [E("message", "y", "3")],
    ),
    (
        "a comment after an event does not repeat it",
        b"id: 4\ndata: a\n\n: keep-alive\n\n",
        [E("message", "a", "4", id="4")],
    ),
    (
        "retry sets the reconnection delay",
        b"retry: 2500\ndata: a\n\n",
        [E("message", "a", "", 2500)],
    ),
    ("a bad retry is ignored", b"retry: 2.5s\ndata: a\n\n", [E("message", "a", "", None)]),
    ("retry alone dispatches nothing", b"retry: 10\n\n", []),
    (
        "unknown event names are kept",
        b"event: thinking\ndata: {}\n\n",
        [E("thinking", "{}", "")],
    ),
    ("unknown fields are ignored", b"foo: bar\ndata: a\n\n", [E("message", "a", "")]),
    ("a line without a colon is a field", b"data\n\n", [E("message", "", "")]),
    ("only one leading space is removed", b"data:  two\n\n", [E("message", " two", "")]),
    ("no space after the colon", b"data:x\n\n", [E("message", "x", "")]),
    ("empty data line dispatches empty data", b"data:\n\n", [E("message", "", "")]),
    (
        # The last id persists (the resume point); the event's own id does not.
        "the last id persists across events, the own id does not",
        b"id: 5\ndata: a\n\ndata: b\n\n",
        [E("message", "a", "5", id="5"), E("message", "b", "5")],
    ),
    (
        "an id with NUL is ignored",
        b"id: 5\ndata: a\n\nid: 6\x00\ndata: b\n\n",
        [E("message", "a", "5", id="5"), E("message", "b", "5")],
    ),
    (
        "an empty id resets the last id",
        b"id: 5\ndata: a\n\nid\ndata: b\n\n",
        [E("message", "a", "5", id="5"), E("message", "b", "", id="")],
    ),
    ("a BOM at the start is dropped", b"\xef\xbb\xbfdata: a\n\n", [E("message", "a", "")]),
    ("an unfinished block is discarded", b"data: a\n\ndata: b\n", [E("message", "a", "")]),
    ("an unterminated last line is discarded", b"data: a", []),
    ("a final CR ends the block", b"data: a\r\r", [E("message", "a", "")]),
    (
        "non-JSON data is kept as text",
        b"event: text\ndata: plain words\n\n",
        [E("text", "plain words", "")],
    ),
    (
        "UTF-8 survives",
        'data: {"delta": "héllo ✓"}\n\n'.encode(),
        [E("message", '{"delta": "héllo ✓"}', "")],
    ),
    (
        "mixed line ends in one stream",
        b"id: 1\r\ndata: a\n\rid: 2\rdata: b\r\n\r\n",
        [E("message", "a", "1", id="1"), E("message", "b", "2", id="2")],
    ),
]


@pytest.mark.parametrize(("name", "wire", "expected"), CASES, ids=[c[0] for c in CASES])
def test_table_in_one_chunk(name: str, wire: bytes, expected: list[ServerSentEvent]) -> None:
    assert decode_all([wire]) == expected


@pytest.mark.parametrize(("name", "wire", "expected"), CASES, ids=[c[0] for c in CASES])
def test_table_split_at_every_byte(name: str, wire: bytes, expected: list[ServerSentEvent]) -> None:
    # One cut anywhere, including between the CR and LF of a pair and inside UTF-8 sequences.
    for cut in range(len(wire) + 1):
        assert decode_all(split_at(wire, cut)) == expected, f"cut at {cut}"
    assert decode_all([bytes([b]) for b in wire]) == expected


def test_crlf_split_between_chunks_is_one_line_end() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\n\r") == []  # the CR might still be the start of a CRLF
    assert decoder.feed(b"\n") == [E("message", "a", "")]
    assert decoder.close() == []


def test_events_come_out_as_soon_as_their_blank_line_arrives() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"id: 1\ndata: a\n") == []
    assert decoder.feed(b"\nid: 2\n") == [E("message", "a", "1", id="1")]
    assert decoder.last_event_id == "2"


@given(st.lists(st.integers(min_value=0, max_value=400), max_size=6))
def test_any_chunking_gives_the_same_events(cuts: list[int]) -> None:
    wire = b"".join(
        case[1]
        for case in CASES
        if not case[0].startswith(("an unfinished", "an unterminated", "a BOM"))
    )
    expected = decode_all([wire])
    assert len(expected) > 10
    assert decode_all(split_at(wire, *[c % (len(wire) + 1) for c in cuts])) == expected


DEEP_ARRAY = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 50_000 + "1" + "}" * 50_000


@pytest.mark.parametrize(
    ("sse", "event_id", "data"),
    [
        (E("text", '{"delta": "Hi"}', "3", id="3"), 3, {"delta": "Hi"}),
        (E("result", '{"status": "completed"}', "12", id="12"), 12, {"status": "completed"}),
        (E("text", "not json", "4", id="4"), 4, "not json"),
        (E("message", "", ""), None, ""),
        (E("message", "42", "x1", id="x1"), None, 42),
        (E("message", "[1, 2]", "٣", id="٣"), None, [1, 2]),  # a non-ASCII digit is not an id
        # Only the event's own id counts: the stream's last id belongs to an earlier event.
        (E("text", '{"delta": "b"}', "1"), None, {"delta": "b"}),
        # JSON too deep for the parser is kept as text, never a RecursionError.
        (E("text", DEEP_ARRAY, "2", id="2"), 2, DEEP_ARRAY),
        (E("text", DEEP_OBJECT, "3", id="3"), 3, DEEP_OBJECT),
    ],
)
def test_task_event(sse: ServerSentEvent, event_id: int | None, data: object) -> None:
    event = task_event(sse)
    assert event.id == event_id
    assert event.event == sse.event
    assert event.data == data


def test_task_event_helpers() -> None:
    assert task_event(E("text", '{"delta": "Hi"}')).text_delta == "Hi"
    assert task_event(E("html_update", '{"html": "<p/>"}')).html == "<p/>"
    assert task_event(E("task_error", '{"code": "X"}')).is_terminal
    assert task_event(E("text", "plain")).text_delta is None


def test_a_stream_with_ids_only_on_some_events() -> None:
    wire = (
        b'id: 1\nevent: text\ndata: {"delta": "a"}\n\n'
        b'event: text\ndata: {"delta": "b"}\n\n'
        b"event: result\ndata: {}\n\n"
    )
    events = [task_event(sse) for sse in decode_all([wire])]
    assert [(e.id, e.event) for e in events] == [(1, "text"), (None, "text"), (None, "result")]

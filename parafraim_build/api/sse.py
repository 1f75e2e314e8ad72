"""An incremental Server-Sent Events decoder, fed raw bytes as they arrive.

Our own rather than httpx-sse's because the task stream needs two things it does not do: it
dispatches a block that carried only a comment or an ``id:`` (a keep-alive after an event would
repeat that event), and it splits lines after decoding text, so it cannot be tested on bytes.
This one follows the WHATWG "event stream interpretation" rules:

* lines end in CRLF, LF or CR, and a chunk may end between the CR and the LF of a pair;
* a line starting with ``:`` is a comment (keep-alive) and is ignored;
* ``field: value`` loses one leading space; a line without ``:`` is a field with an empty value;
* ``data`` lines accumulate, joined with ``\\n``; ``event`` names the event (``message`` when
  absent); ``id`` sets the last event id, which persists across events; ``retry`` (digits only)
  is the reconnection delay in milliseconds; unknown fields are ignored;
* besides the standard's ``last_event_id``, each event records ``id``: the value of an ``id:``
  line in its own block, or ``None``. A service may number only the events it persists, and an
  event without its own id is new, not a replay of the last numbered one;
* a blank line dispatches the block, unless it had no ``data`` line;
* an incomplete block at the end of the stream is discarded, as a browser does.

``task_event`` then turns an event into the API's ``TaskEvent``: the integer of its own id (or
``None``), JSON data when it parses, the raw text when it does not (``api.md`` assumption 3;
JSON nested too deeply to parse counts as text).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from parafraim_build.api.models import TaskEvent

_LINE_END = re.compile(rb"\r\n|\r|\n")
_BOM = "\ufeff"


@dataclass(frozen=True)
class ServerSentEvent:
    """One dispatched event, as on the wire (data not parsed)."""

    event: str = "message"
    data: str = ""
    last_event_id: str = ""
    """The stream's last id when the event was dispatched (the standard's, it persists)."""
    retry: int | None = None
    id: str | None = None
    """The id given by an ``id:`` line of this event's own block; ``None`` when it had none."""


class SSEDecoder:
    """Feed bytes with ``feed``; it returns the events completed by them, in order."""

    def __init__(self) -> None:
        self._pending = b""
        self._started = False
        self._event = ""
        self._data: list[str] = []
        self._has_data = False
        self._own_id: str | None = None
        self.last_event_id = ""
        """The last ``id`` seen: what to resume from when the connection drops."""
        self.retry: int | None = None
        """The last valid ``retry`` in milliseconds, if the server sent one."""

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode ``chunk`` (any size, split anywhere) and return the events it completed."""
        buffer = self._pending + chunk
        events: list[ServerSentEvent] = []
        start = 0
        for match in _LINE_END.finditer(buffer):
            # A CR at the very end may be the first half of a CRLF split across chunks.
            if match.group() == b"\r" and match.end() == len(buffer):
                break
            event = self._line(buffer[start : match.start()])
            if event is not None:
                events.append(event)
            start = match.end()
        self._pending = buffer[start:]
        return events

    def close(self) -> list[ServerSentEvent]:
        """End of stream: a last CR-terminated line still counts, an unfinished block is lost."""
        rest, self._pending = self._pending, b""
        events: list[ServerSentEvent] = []
        if rest.endswith(b"\r"):
            event = self._line(rest[:-1])
            if event is not None:
                events.append(event)
        self._event, self._data, self._has_data, self._own_id = "", [], False, None
        return events

    def _line(self, raw: bytes) -> ServerSentEvent | None:
        line = raw.decode("utf-8", "replace")
        if not self._started:
            self._started = True
            if line.startswith(_BOM):
                line = line[1:]
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
            self._has_data = True
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self.last_event_id = value
                self._own_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self.retry = int(value)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        event, data, has_data, own_id = self._event, self._data, self._has_data, self._own_id
        self._event, self._data, self._has_data, self._own_id = "", [], False, None
        if not has_data:
            return None
        return ServerSentEvent(
            event=event or "message",
            data="\n".join(data),
            last_event_id=self.last_event_id,
            retry=self.retry,
            id=own_id,
        )


def task_event(sse: ServerSentEvent) -> TaskEvent:
    """The API's view of an event: the integer of its own id (``None`` when its block had no
    ``id:`` line, or one that is not an integer), JSON data or the raw text."""
    raw_id = sse.id or ""
    event_id = int(raw_id) if raw_id.isascii() and raw_id.isdigit() else None
    data: object
    try:
        data = json.loads(sse.data)
    except (ValueError, RecursionError):
        # Not JSON, or JSON nested deeper than the parser's recursion allows: keep the text.
        data = sse.data
    return TaskEvent(id=event_id, event=sse.event, data=data)

"""YAML with positions: a spec file becomes plain values plus the span of every value.

PyYAML's loaders forget positions and silently keep the last of two equal keys. Here the file
is composed into nodes (with the C parser when available) and converted by hand, so that every
value keeps its line and column, a duplicate key at any depth is a problem, and only the plain
data types of YAML come out: no Python objects, whatever tags the file carries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from parafraim_build.spec.problems import ProblemCollector
from parafraim_build.spec.source import KeyPath, NodeSpan, Position, SourceText

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# A document that nests deeper or expands (through aliases) into more values than this is
# not a spec anyone wrote by hand; refusing it keeps a hostile file from exhausting memory.
MAX_DEPTH = 64
MAX_VALUES = 500_000
MAX_FILE_BYTES = 16 * 1024 * 1024

_TAG = "tag:yaml.org,2002:"
_STR, _NULL, _BOOL, _INT, _FLOAT = (_TAG + t for t in ("str", "null", "bool", "int", "float"))
_TIMESTAMP, _MERGE, _SEQ, _MAP = (_TAG + t for t in ("timestamp", "merge", "seq", "map"))
_CONSTRUCTOR = yaml.constructor.SafeConstructor()


@dataclass(frozen=True)
class YamlDocument:
    """A parsed spec: its plain ``data`` and the ``spans`` of every value by key path.

    ``broken`` holds the paths whose value was refused while converting (an unsupported tag,
    a bad number); they are already reported, so later stages stay quiet about them.
    """

    source: SourceText
    data: Any
    spans: dict[KeyPath, NodeSpan]
    broken: frozenset[KeyPath] = frozenset()
    ends: dict[KeyPath, Position] = field(default_factory=dict)
    """Just after the last character of each scalar, by key path (for ``written``)."""

    def is_broken(self, path: KeyPath) -> bool:
        """Whether ``path`` is, or lies under, a value already reported as unreadable."""
        return any(path[: len(bad)] == bad for bad in self.broken)

    def span(self, path: KeyPath) -> NodeSpan | None:
        """The span of ``path``, or of its nearest ancestor that has one."""
        while True:
            found = self.spans.get(path)
            if found is not None or not path:
                return found
            path = path[:-1]

    def position(self, path: KeyPath, *, on_key: bool = False) -> Position | None:
        """Where the value at ``path`` starts (or its key, when ``on_key`` and it has one)."""
        span = self.span(path)
        if span is None:
            return None
        return span.key if on_key and span.key is not None else span.start

    def written(self, start: KeyPath, end: KeyPath) -> str | None:
        """The file's text from where ``start`` begins to where the scalar ``end`` ends.

        A step misread as ``{key: value}`` is shown again as its author wrote it: from the
        step (its key) to the end of its value, without the comment after it.
        """
        first, last = self.position(start), self.ends.get(end)
        if first is None or last is None or (last.line, last.column) < (first.line, first.column):
            return None
        lines = self.source.lines[first.line - 1 : last.line]
        if len(lines) != last.line - first.line + 1:
            return None
        if len(lines) == 1:
            return lines[0][first.column - 1 : last.column - 1]
        return "\n".join([lines[0][first.column - 1 :], *lines[1:-1], lines[-1][: last.column - 1]])

    def report(
        self,
        problems: ProblemCollector,
        path: KeyPath,
        message: str,
        *,
        on_key: bool = False,
        video: str | None = None,
    ) -> None:
        """Add a problem with the value at ``path`` (or with its key, when ``on_key``)."""
        position = self.position(path, on_key=on_key)
        problems.add(
            self.source,
            position.line if position else None,
            position.column if position else None,
            message,
            key_path=path,
            video=video,
        )


def read_text(path: Path, display: str, problems: ProblemCollector, what: str) -> str | None:
    """The UTF-8 text of ``path``; a problem (and ``None``) when it is missing or not text.

    ``what`` names the file in messages ("spec", "step file").
    """
    try:
        if path.is_dir():
            problems.add_file(display, f"the {what} is a folder, not a file")
            return None
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        problems.add_file(display, f"the {what} does not exist")
        return None
    except OSError as exc:
        problems.add_file(display, f"the {what} cannot be read: {exc.strerror or exc}")
        return None
    if len(raw) > MAX_FILE_BYTES:
        problems.add_file(display, f"the {what} is larger than {MAX_FILE_BYTES} bytes")
        return None
    return decode_text(raw, display, problems, what)


def decode_text(raw: bytes, display: str, problems: ProblemCollector, what: str) -> str | None:
    """``raw`` as text; a binary or non-UTF-8 file is a problem located at the bad byte."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    nul = raw.find(b"\x00")
    if nul >= 0:
        line, column = _byte_position(raw, nul)
        problems.add(
            SourceText(display, ()),
            line,
            column,
            f"the {what} is a binary file (it contains a NUL byte), not UTF-8 text",
        )
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _byte_position(raw, exc.start)
        problems.add(
            SourceText(display, ()),
            line,
            column,
            f"the {what} is not UTF-8 text (byte 0x{raw[exc.start]:02x} cannot be decoded)",
        )
        return None


def _byte_position(raw: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters, as an editor counts) of byte ``offset``."""
    line = raw.count(b"\n", 0, offset) + 1
    start = raw.rfind(b"\n", 0, offset) + 1
    return line, len(raw[start:offset].decode("utf-8", errors="replace")) + 1


def parse_yaml(source: SourceText, text: str, problems: ProblemCollector) -> YamlDocument | None:
    """Compose and convert ``text``; every syntax or structure problem goes to ``problems``."""
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except RecursionError:
        # Only the pure-Python parser recurses; libyaml stops at its own nesting limit.
        problems.add(source, None, None, f"the document nests deeper than {MAX_DEPTH} levels")
        return None
    except yaml.MarkedYAMLError as exc:
        _syntax_problem(source, exc, problems)
        return None
    except yaml.YAMLError as exc:
        # A reader error (a control character) carries a character offset, not a mark.
        offset = getattr(exc, "position", None)
        line = column = None
        if isinstance(offset, int):
            line = text.count("\n", 0, offset) + 1
            column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        reason = getattr(exc, "reason", None) or str(exc).splitlines()[0]
        problems.add(source, line, column, f"YAML cannot read this file: {reason}")
        return None
    if node is None:
        problems.add_file(
            source.display, "the spec is empty: expected a mapping with `version: 1` and `videos`"
        )
        return None
    oversized = _oversized(node)
    if oversized is not None:
        problems.add(
            source,
            node.start_mark.line + 1,
            node.start_mark.column + 1,
            f"the document is too large: {oversized} (aliases nested in aliases?)",
        )
        return None
    converter = _Converter(source, problems)
    data = converter.convert(node, (), None)
    return YamlDocument(source, data, converter.spans, frozenset(converter.broken), converter.ends)


def _oversized(root: yaml.Node) -> str | None:
    """Why the node graph is too big to convert, measured without expanding any alias.

    Aliases share nodes, so ten aliases of ten aliases of ... describe billions of values in
    a few lines; sizes and heights are memoized per node, so measuring costs one visit each.
    """
    measured: dict[int, tuple[int, int]] = {}
    visiting: set[int] = set()

    def measure(node: yaml.Node, depth: int) -> tuple[int, int]:
        identity = id(node)
        known = measured.get(identity)
        if known is not None:
            return known
        if identity in visiting or depth > MAX_DEPTH:
            raise _TooDeep
        visiting.add(identity)
        size, height = 1, 0
        if isinstance(node, yaml.SequenceNode):
            children: list[yaml.Node] = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            children = []
        for child in children:
            child_size, child_height = measure(child, depth + 1)
            size += child_size
            height = max(height, child_height + 1)
        visiting.discard(identity)
        measured[identity] = (size, height)
        return size, height

    try:
        size, height = measure(root, 0)
    except _TooDeep:
        return f"it nests deeper than {MAX_DEPTH} levels"
    if height > MAX_DEPTH:
        return f"it nests deeper than {MAX_DEPTH} levels"
    if size > MAX_VALUES:
        return f"it expands to {size} values, more than {MAX_VALUES}"
    return None


def _is_unquoted_template(node: yaml.MappingNode) -> bool:
    """Whether ``node`` is what an unquoted ``{{ x }}`` parses to.

    That is a flow mapping whose single key is itself a flow mapping and whose value is
    empty; nobody writes such a complex key on purpose in a spec.
    """
    if not node.flow_style or len(node.value) != 1:
        return False
    key, value = node.value[0]
    return (
        isinstance(key, yaml.MappingNode)
        and bool(key.flow_style)
        and isinstance(value, yaml.ScalarNode)
        and value.tag == _NULL
        and value.value == ""
    )


class _TooDeep(Exception):
    """Raised inside ``_oversized`` to unwind a measurement that went too deep."""


def _syntax_problem(
    source: SourceText, exc: yaml.MarkedYAMLError, problems: ProblemCollector
) -> None:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    line, column, at_end = _past_the_text(source, line, column)
    problem = (exc.problem or "invalid YAML").strip()
    if problem.startswith("but found another document") or "single document" in (exc.context or ""):
        message = "a spec is a single YAML document: remove the second `---`"
    else:
        where = " at the end of the file" if at_end else ""
        message = f"YAML syntax error{where}: {problem}"
        if exc.context and exc.context_mark is not None and exc.context_mark is not mark:
            context_line, _, _ = _past_the_text(source, exc.context_mark.line + 1, None)
            message += f" ({exc.context} at line {context_line})"
    text = source.line(line) or ""
    misread = _unquoted_template(source, line, column)
    if misread is None and not at_end:
        misread = _colon_in_step(source, line, column)
    if misread is not None:
        line, column, message = misread
        text = source.line(line) or ""
    if "\t" in text:
        message += "; tabs are not allowed for indentation in YAML, use spaces"
    problems.add(source, line, column, message)


# A block value that starts with ``{{`` (after ``key:`` or a list's ``-``), up to a comment.
_TEMPLATE_VALUE = re.compile(
    r"""^[ \t]*(?:-[ \t]+)*"""
    r"""(?:(?P<key>"[^"]*"|'[^']*'|[^\s#'"{\[\-][^#]*?|-[^\s#]+?)[ \t]*:[ \t]+)?"""
    r"""(?P<value>\{\{.*?)(?:[ \t]+#.*)?$"""
)


def _unquoted_template(
    source: SourceText, line: int | None, column: int | None
) -> tuple[int, int, str] | None:
    """The position and message for a syntax error caused by an unquoted ``{{ ... }}`` value.

    ``name: {{ brand }} teaser`` is a flow mapping followed by stray text, so YAML stops
    with "did not find expected key" somewhere after it. The offending line, or the line
    before it when the stray text went on to the next one, is searched for a block value
    that starts with ``{{``; the problem then points at that value and says to quote it.
    """
    if line is None:
        return None
    numbers = [line]
    if _continues_previous(source, line, column):
        numbers.append(line - 1)
    for number in numbers:
        text = source.line(number)
        if text is None:
            continue
        match = _TEMPLATE_VALUE.match(text)
        if match is None or (
            match.group("key") is None and "-" not in text[: match.start("value")]
        ):
            continue
        key = match.group("key")
        return number, match.start("value") + 1, unquoted_template_message(key, match["value"])
    return None


def _continues_previous(source: SourceText, line: int, column: int | None) -> bool:
    """Whether the error on ``line`` may belong to a value begun on the line before.

    Stray text after ``name: {{ brand }}`` that goes on to the next line is indented deeper
    than that line, or YAML marks it where the line's text starts. An error anywhere else on
    a line of its own (``description: a: b`` below it) is that line's own mistake.
    """
    text, previous = source.line(line), source.line(line - 1)
    if text is None or previous is None:
        return False
    indent = len(text) - len(text.lstrip(" "))
    deeper = indent > len(previous) - len(previous.lstrip(" "))
    return deeper or (column is not None and column <= indent + 1)


def unquoted_template_message(key: str | None, value: str) -> str:
    """Why ``value`` (written unquoted after ``key:``, or as a list item) must be quoted."""
    value = value.rstrip()
    end = value.find("}}")
    misread = value[: end + 2] if end >= 0 else value
    written = f"{key}: {_quote(value)}" if key is not None else _quote(value)
    return (
        f"`{misread}` must be quoted: YAML reads a value that starts with {{ as a mapping; "
        f"write {written}"
    )


# A block line of a step: ``- text``, ``- message: text``, or ``message: text`` further down a
# step mapping. The keys are those whose value is text; ``rest`` is what follows the key or
# the list's ``-``.
_STEP_LINE = re.compile(
    r"^(?P<indent> *)(?P<dash>-[ ]+)?(?:(?P<key>message|file):[ ]+)?(?P<rest>\S.*)$"
)
_STEPS_KEY = re.compile(r"^ *(?:-[ ]+)?steps:[ ]*(?:#.*)?$")
# A value starting with one of these is a flow collection, a block scalar, an alias, an
# anchor or a tag: YAML reads it as the author meant, whatever follows.
_NOT_PROSE = tuple("{[|>&*!%@`")


def _colon_in_step(
    source: SourceText, line: int | None, column: int | None
) -> tuple[int, int, str] | None:
    """The position and message for a syntax error caused by ``: `` inside a step's text.

    ``- Add a scene: "Plan the week" with three cards`` is a mapping whose value is the
    quoted "Plan the week", and the words after it are a syntax error; ``- Scene: a: b``
    and ``message: Intro: hello`` put a mapping inside a mapping. When the error lies on a
    line of a ``steps:`` list at or after an unquoted ``: ``, the problem points at the
    step's text and shows it quoted.
    """
    text = source.line(line)
    if line is None or column is None or text is None:
        return None
    match = _STEP_LINE.match(text)
    if match is None or match["rest"].startswith(_NOT_PROSE):
        return None
    key = match["key"]
    if key is None and match["dash"] is None:
        return None
    start = match.start("rest")
    split = _prose_colon(match["rest"])
    if split is None or column - 1 < start + split[0]:
        return None
    item = _step_item(source, line, match)
    if item is None or not _in_steps_list(source, *item):
        return None
    written = match["rest"][: split[1]]
    mapped = _unquote(written[: split[0]].strip())
    return line, start + 1, colon_text_message(written, mapped, key=key, item=True)


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" "))


def _is_content(text: str) -> bool:
    """Whether a line holds YAML (not blank, not only a comment)."""
    stripped = text.strip()
    return bool(stripped) and not stripped.startswith("#")


def _step_item(source: SourceText, line: int, match: re.Match[str]) -> tuple[int, int] | None:
    """The line and column (0-based) of the ``-`` that starts the step ``line`` is part of.

    That is the ``-`` on the line itself, or, for ``message:`` further down a step mapping,
    the ``-`` of the nearest line above whose text starts where that key does.
    """
    if match["dash"] is not None:
        return line, match.start("dash")
    column = len(match["indent"])
    for number in range(line - 1, 0, -1):
        text = source.lines[number - 1]
        if not _is_content(text) or _indent(text) >= column:
            continue
        item = re.match(r"^( *)-[ ]+", text)
        if item is None or item.end() != column:
            return None
        return number, len(item[1])
    return None


def _in_steps_list(source: SourceText, line: int, dash: int) -> bool:
    """Whether the list item whose ``-`` is at ``line``, column ``dash``, is under ``steps:``.

    Lines above that are indented deeper (earlier items' text) or are sibling items are
    skipped; the first other line is the list's key.
    """
    for number in range(line - 1, 0, -1):
        text = source.lines[number - 1]
        if not _is_content(text):
            continue
        indent = _indent(text)
        if indent > dash or (indent == dash and text[indent:].startswith("-")):
            continue
        return _STEPS_KEY.match(text) is not None
    return False


def _prose_colon(text: str) -> tuple[int, int] | None:
    """Where the first ``: `` outside quotes is in ``text``, and where its text ends.

    YAML reads a quote only where a value starts (the beginning, or after ``: ``); one in
    the middle of words is a plain character. The text ends at a `` #`` comment outside
    quotes. Returns ``(colon, end)``, or ``None`` when there is no such ``: ``.
    """
    colon: int | None = None
    index, token_start = 0, True
    while index < len(text):
        char = text[index]
        if token_start and char in "\"'":
            index = _closing_quote(text, index)
            token_start = False
            continue
        token_start = False
        if char == ":" and (index + 1 == len(text) or text[index + 1] in " \t"):
            if colon is None:
                colon = index
            index += 1
            while index < len(text) and text[index] in " \t":
                index += 1
            token_start = True
            continue
        if char == "#" and (index == 0 or text[index - 1] in " \t"):
            return None if colon is None else (colon, len(text[:index].rstrip()))
        index += 1
    return None if colon is None else (colon, len(text.rstrip()))


def _closing_quote(text: str, start: int) -> int:
    """The index just after the quoted scalar that starts at ``start`` (or the text's end)."""
    quote = text[start]
    index = start + 1
    while index < len(text):
        char = text[index]
        if quote == '"' and char == "\\":
            index += 2
            continue
        if char == quote:
            if quote == "'" and text[index + 1 : index + 2] == "'":
                index += 2
                continue
            return index + 1
        index += 1
    return len(text)


def _unquote(key: str) -> str:
    """A key as YAML reads it: ``"Plan the week"`` -> ``Plan the week``."""
    if len(key) >= 2 and key[0] == key[-1] and key[0] in "\"'":
        return key[1:-1]
    return key


def colon_text_message(written: str, mapped: str, *, key: str | None, item: bool) -> str:
    """Why text holding ``: `` (a step, or ``key:``'s value) must be quoted or a block.

    ``written`` is the text as written (lines are joined with spaces, as YAML folds them),
    ``mapped`` the key YAML took from it; ``item`` says a step is a block list item
    (``- ...``) rather than inside ``[...]``.
    """
    text = " ".join(part.strip() for part in written.splitlines())
    shown = mapped if len(mapped) <= 40 else mapped[:37] + "..."
    if key is not None:
        return (
            f"this {key} is read as a mapping {{{shown}: ...}} because of `: ` in it; "
            f"quote it or write it as a block (`{key}: >-`, the text indented below); "
            f"write {key}: {_quote(text)}"
        )
    if not item:
        return (
            f"this step is read as a mapping {{{shown}: ...}} because of `: ` in it; to send "
            f"it as a message, quote it: {_quote(text)}"
        )
    return (
        f"this step is read as a mapping {{{shown}: ...}} because of `: ` in it; to send it "
        f"as a message, quote it or write it as a block (`- >-` on its own line, the text "
        f"indented below); write - {_quote(text)}"
    )


def _quote(text: str) -> str:
    """``text`` as a YAML string: double quotes unless it holds ``"`` or ``\\``."""
    if '"' not in text and "\\" not in text:
        return f'"{text}"'
    return "'" + text.replace("'", "''") + "'"


def _past_the_text(
    source: SourceText, line: int | None, column: int | None
) -> tuple[int | None, int | None, bool]:
    """Move a mark that lies past the last written character to just after it.

    YAML notices an unclosed quote or bracket only when the file ends, and marks the end of
    the stream: a line after the last one, or blank lines at the end. Nothing can be shown
    there, so the problem points just after the last character written, on its line, and
    says it is at the end of the file. Returns ``(line, column, moved)``.
    """
    if line is None:
        return line, column, False
    rest = source.lines[line - 1 :] if line >= 1 else source.lines
    if any(text.strip() for text in rest):
        return line, column, False
    written = [number for number, text in enumerate(source.lines, 1) if text.strip()]
    if not written:
        return line, column, True
    last = written[-1]
    return last, len(source.lines[last - 1].rstrip()) + 1, True


def _position(mark: Any) -> Position:
    return Position(mark.line + 1, mark.column + 1)


def _span(node: yaml.Node, key: Position | None) -> NodeSpan:
    end = node.end_mark
    end_line = end.line + 1
    # A block scalar or collection ends at column 0 of the line after its last character.
    if end.column == 0 and end.line > node.start_mark.line:
        end_line -= 1
    if isinstance(node, yaml.ScalarNode):
        return NodeSpan(_position(node.start_mark), end_line, key, node.style, node.value)
    return NodeSpan(_position(node.start_mark), end_line, key)


class _Converter:
    """Turns a node graph into plain values, recording spans and problems as it goes."""

    def __init__(self, source: SourceText, problems: ProblemCollector) -> None:
        self.source = source
        self.problems = problems
        self.spans: dict[KeyPath, NodeSpan] = {}
        self.ends: dict[KeyPath, Position] = {}
        self._reported: set[tuple[int, int]] = set()
        self.broken: set[KeyPath] = set()

    def _problem(self, mark: Any, message: str, path: KeyPath) -> None:
        self.broken.add(path)
        where = (mark.line, mark.column)
        if where in self._reported:
            return
        self._reported.add(where)
        self.problems.add(self.source, mark.line + 1, mark.column + 1, message, key_path=path)

    def convert(self, node: yaml.Node, path: KeyPath, key: Position | None) -> Any:
        # ``_oversized`` has bounded the depth and the expanded size before we get here.
        self.spans[path] = _span(node, key)
        if isinstance(node, yaml.ScalarNode):
            self.ends[path] = _position(node.end_mark)
            return self._scalar(node, path)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                self._problem(node.start_mark, f"unsupported YAML tag {node.tag}", path)
                return None
            return [
                self.convert(item, (*path, index), None) for index, item in enumerate(node.value)
            ]
        if node.tag != _MAP or not isinstance(node, yaml.MappingNode):
            self._problem(node.start_mark, f"unsupported YAML tag {node.tag}", path)
            return None
        result: dict[str, Any] = {}
        for name, key_node, value_node in self._pairs(node, path):
            result[name] = self.convert(value_node, (*path, name), _position(key_node.start_mark))
        return result

    def _scalar(self, node: yaml.ScalarNode, path: KeyPath) -> Any:
        tag = node.tag
        if tag in (_STR, "!", _TIMESTAMP):
            # Dates stay text: a spec has no date fields, and text renders as written.
            return node.value
        if tag == _NULL:
            return None
        if tag in (_BOOL, _INT, _FLOAT):
            try:
                return _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, node)
            except (ValueError, yaml.YAMLError):
                self._problem(node.start_mark, f"{node.value!r} is not a valid {tag[18:]}", path)
                return None
        self._problem(node.start_mark, f"unsupported YAML tag {tag}", path)
        return None

    def _pairs(
        self, node: yaml.MappingNode, path: KeyPath
    ) -> list[tuple[str, yaml.Node, yaml.Node]]:
        """The mapping's entries in order, duplicates reported, ``<<`` merges applied.

        Explicit keys win over merged ones, and an earlier merge source wins over a later
        one, as the YAML merge-key convention says.
        """
        explicit: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        merged: list[tuple[str, yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged.extend(self._merge_sources(value_node, path))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                if _is_unquoted_template(node):
                    self._unquoted_template(node, path)
                    return []
                self._problem(
                    key_node.start_mark, "a key must be plain text, not a list or map", path
                )
                continue
            name = key_node.value
            first = explicit.get(name)
            if first is not None:
                self._problem(
                    key_node.start_mark,
                    f"duplicate key '{name}': it is already set at line "
                    f"{first[0].start_mark.line + 1} (YAML would silently keep only the last one)",
                    (*path, name),
                )
                continue
            explicit[name] = (key_node, value_node)
        pairs = [(name, k, v) for name, (k, v) in explicit.items()]
        taken = set(explicit)
        for name, key_node, value_node in merged:
            if name not in taken:
                taken.add(name)
                pairs.append((name, key_node, value_node))
        return pairs

    def _unquoted_template(self, node: yaml.MappingNode, path: KeyPath) -> None:
        """Report ``{{ brand }}`` written unquoted, at the value, with the quoted form."""
        start, end = node.start_mark, node.end_mark
        text = self.source.line(start.line + 1) or ""
        stop = end.column if end.line == start.line else len(text)
        written = text[start.column : stop]
        key = path[-1] if path and isinstance(path[-1], str) else None
        self._problem(start, unquoted_template_message(key, written), path)

    def _merge_sources(
        self, value: yaml.Node, path: KeyPath
    ) -> list[tuple[str, yaml.Node, yaml.Node]]:
        sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
        found: list[tuple[str, yaml.Node, yaml.Node]] = []
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                self._problem(
                    source.start_mark, "`<<` merges only mappings (an alias like *base)", path
                )
                continue
            found.extend(self._pairs(source, path))
        return found

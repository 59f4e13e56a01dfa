"""Reading PGN as other programs and sites write it: a ``readline`` stream for
python-chess that counts lines and repairs the file's layout on the way.

python-chess reads one game per ``read_game`` call and relies on the layout of the
file: a game's tags, a blank line, its movetext, a blank line. Files from the wild
break that layout, and python-chess then loses games without a word (a game whose
tags follow the previous movetext without a blank line loses its tags to that game;
a tag line broken in two becomes a phantom game). :class:`PgnLineReader` sits
between the file and python-chess and gives it a well-separated stream:

* tags that follow a game's movetext (or text after a game's result) without a
  blank line start a new game;
* a tag line broken over two or three lines is joined; an unterminated tag
  (``[Event "Open``) is closed; a tag value without quotes is quoted;
* text between games that is neither tags nor movetext (a site's banner, HTML,
  a stray line) is skipped;
* a blank line inside a game's movetext (the next line carries on with move 2 or
  later) is ignored.

Every repair is noted in :attr:`PgnLineReader.repairs` with its line and the game it
belongs to, so an import can say what it changed; nothing is dropped silently. Line
numbers are those of the file (repairs add no lines). Lines are decoded as UTF-8,
falling back to Latin-1 per line: old PGN files are often Latin-1, and a name with a
wrong accent is better than a lost game.

python-chess also drops movetext it cannot tokenise (``1. Nf9`` reads as a game
without moves), so the reader notes, per movetext line, any word left over once the
tokens python-chess understands are removed (:attr:`PgnLineReader.unreadable`).
"""

from __future__ import annotations

import gzip
import io
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import chess.pgn

_MOVE_NUMBER = re.compile(r"\d+\s*\.+|[+#]|e\.p\.")
# A line that opens a tag pair: '[Name "' (the rest may be broken), or '[Name' alone.
_TAG_OPEN = re.compile(r'^\s*\[\s*([A-Za-z0-9][A-Za-z0-9_+#=:-]*)\s*"')
_TAG_NAME_ONLY = re.compile(r"^\s*\[\s*([A-Za-z][A-Za-z0-9_+#=:-]*)\s*$")
_TAG_UNQUOTED = re.compile(r"^\s*\[\s*([A-Za-z][A-Za-z0-9_+#=:-]*)\s+([^\"\[\]]+?)\s*\]\s*$")
_SAN = r"(?:[NBKRQ]?[a-h]?[1-8]?[\-x]?[a-h][1-8](?:=?[NBRQK])?|O-O(?:-O)?|0-0(?:-0)?|--)[+#!?]*"
# The first token of a game without tags: a move number, a move, a comment, a result.
_MOVETEXT_START = re.compile(rf"^\s*(?:\d+\s*\.|[{{(;$]|(?:1-0|0-1|1/2-1/2|\*)(?:\s|$)|{_SAN}(?:\s|$))")
_FIRST_MOVE = re.compile(r"^\s*1\s*\.")
_RESULT_AT_END = re.compile(r"(?:^|\s|\))(?:1-0|0-1|1/2-1/2|\*)\s*$")

_BETWEEN, _HEADERS, _MOVETEXT = "between", "headers", "movetext"


@dataclass(frozen=True)
class Repair:
    """One change the reader made to a file's layout: where, in which game, and what."""

    line: int
    game_number: int
    what: str


def open_binary(path: Path) -> tuple[IO[bytes], Callable[[], int], Callable[[], None]]:
    """The file's decompressed bytes (``.gz`` or plain), its compressed position (for
    progress) and a closer."""
    raw = open(path, "rb")  # noqa: SIM115 - closed by the returned closer
    if path.suffix != ".gz":
        return raw, raw.tell, raw.close
    buffered = io.BufferedReader(gzip.GzipFile(fileobj=raw, mode="rb"), buffer_size=1 << 16)

    def close() -> None:
        buffered.close()
        raw.close()

    return buffered, raw.tell, close


def _preview(text: str, width: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


class PgnLineReader:
    """A ``readline``-only text stream over a PGN file's bytes that counts lines,
    repairs the layout (see the module docstring) and notes unreadable movetext.

    ``line_no`` is the file line of the last line handed out; ``games_started`` counts
    the games seen so far (it matches python-chess's count of games read).
    """

    def __init__(self, raw: IO[bytes], position: Callable[[], int]) -> None:
        self._raw = raw
        self._position = position
        self._raw_lines = 0
        self._ahead: deque[tuple[int, str]] = deque()
        self._blank_next = False
        self._state = _BETWEEN
        self._in_comment = False
        self._depth = 0
        self._terminated = False
        self._garbage: tuple[int, int, str] | None = None  # first line, lines, preview
        self._header_blank = False
        self.line_no = 0
        self.games_started = 0
        self.unreadable: list[tuple[int, str]] = []
        self.repairs: list[Repair] = []

    # ------------------------------------------------------------------ raw lines
    def _read_raw(self) -> tuple[int, str] | None:
        data = self._raw.readline()
        if not data:
            return None
        self._raw_lines += 1
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
        if self._raw_lines == 1:
            text = text.lstrip("\ufeff")
        # Mixed CRLF/LF files: python-chess treats "\r\n" fine, but a lone "\r" would
        # glue lines together; normalise both.
        if text.endswith("\r\n"):
            text = text[:-2] + "\n"
        elif text.endswith("\r"):
            text = text[:-1] + "\n"
        return self._raw_lines, text

    def _take(self) -> tuple[int, str] | None:
        return self._ahead.popleft() if self._ahead else self._read_raw()

    def _peek(self, k: int = 0) -> tuple[int, str] | None:
        while len(self._ahead) <= k:
            item = self._read_raw()
            if item is None:
                return None
            self._ahead.append(item)
        return self._ahead[k]

    def _note(self, line: int, what: str, game_number: int | None = None) -> None:
        self.repairs.append(Repair(line, self.games_started if game_number is None else game_number, what))

    # ------------------------------------------------------------------- movetext
    def _scan_movetext(self, text: str) -> bool:
        """Follow comments and variations over a movetext line, note unreadable words;
        True when the line ends the game with a result outside comments and variations."""
        s = text
        if self._in_comment:
            close = s.find("}")
            if close < 0:
                return False
            s = s[close + 1 :]
            self._in_comment = False
        if not self._in_comment and s.lstrip().startswith(("%", "[")):
            return False
        outside: list[str] = []
        while s:
            semi, brace = s.find(";"), s.find("{")
            if semi >= 0 and (brace < 0 or semi < brace):
                outside.append(s[:semi])
                break
            if brace < 0:
                outside.append(s)
                break
            outside.append(s[:brace])
            close = s.find("}", brace)
            if close < 0:
                self._in_comment = True
                break
            outside.append(" ")
            s = s[close + 1 :]
        plain = " ".join(outside)
        for ch in plain:
            if ch == "(":
                self._depth += 1
            elif ch == ")":
                self._depth = max(0, self._depth - 1)
        residue = chess.pgn.MOVETEXT_REGEX.sub(" ", plain)
        residue = _MOVE_NUMBER.sub(" ", residue)
        words = [w for w in residue.split() if any(ch.isalnum() for ch in w)]
        if words:
            self.unreadable.append((self.line_no, " ".join(words)))
        return not self._in_comment and self._depth == 0 and bool(_RESULT_AT_END.search(plain))

    def _start_game(self, state: str) -> None:
        self._flush_garbage()
        self.games_started += 1
        self._state = state
        self._in_comment = False
        self._depth = 0
        self._terminated = False
        self.unreadable.clear()

    # ----------------------------------------------------------------------- tags
    def _tag_line(self, line: int, text: str) -> str | None:
        """The tag pair opened on ``text``, repaired if need be; None if it cannot be read."""
        s = text.strip()
        if chess.pgn.TAG_REGEX.match(s):
            return s + "\n"
        # Broken over lines: join the next (non-blank, non-tag) lines while that completes it.
        parts = [s]
        for k in range(3):
            nxt = self._peek(k)
            if nxt is None or not nxt[1].strip() or _TAG_OPEN.match(nxt[1]) or _TAG_NAME_ONLY.match(nxt[1]):
                break
            parts.append(nxt[1].strip())
            joined = " ".join(parts)
            if chess.pgn.TAG_REGEX.match(joined):
                for _ in range(k + 1):
                    self._take()
                self._note(line, f"tag broken over lines {line}-{line + k + 1} joined: {_preview(joined, 60)}")
                return joined + "\n"
        opened = _TAG_OPEN.match(s)
        if opened:
            value = s[opened.end():].rstrip()
            value = re.sub(r'"?\s*\]?$', "", value).replace('"', "'")
            fixed = f'[{opened.group(1)} "{value}"]'
            self._note(line, f"unterminated tag closed: {_preview(s, 50)} read as {fixed}")
            return fixed + "\n"
        unquoted = _TAG_UNQUOTED.match(s)
        if unquoted:
            fixed = f'[{unquoted.group(1)} "{unquoted.group(2)}"]'
            self._note(line, f"tag value without quotes: {_preview(s, 50)} read as {fixed}")
            return fixed + "\n"
        self._note(line, f"unreadable tag line skipped: {_preview(s)}")
        return None

    # -------------------------------------------------------------------- garbage
    def _flush_garbage(self) -> None:
        if self._garbage is None:
            return
        first, count, preview = self._garbage
        self._garbage = None
        lines = f"line {first}" if count == 1 else f"lines {first}-{first + count - 1}"
        self._note(first, f"text between games skipped ({lines}, not PGN): {preview!r}",
                   game_number=self.games_started + 1)

    def _skip_garbage(self, line: int, text: str) -> None:
        if self._garbage is None:
            self._garbage = (line, 1, _preview(text))
        else:
            first, count, preview = self._garbage
            self._garbage = (first, count + 1, preview)

    def _continues_movetext(self) -> bool:
        """After a blank line in an unfinished game: does the movetext carry on (the next
        text is movetext that does not start a game at move 1)?"""
        k = 0
        while (nxt := self._peek(k)) is not None and not nxt[1].strip():
            k += 1
        if nxt is None or _TAG_OPEN.match(nxt[1]) or _FIRST_MOVE.match(nxt[1]):
            return False
        if not _MOVETEXT_START.match(nxt[1]):
            return False
        for _ in range(k):
            self._take()
        return True

    # ------------------------------------------------------------------- readline
    def readline(self) -> str:
        while True:
            if self._blank_next:
                self._blank_next = False
                return "\n"
            item = self._take()
            if item is None:
                self._flush_garbage()
                return ""
            line, text = item
            stripped = text.strip()
            if self._state == _MOVETEXT and not self._in_comment:
                if not stripped:
                    if not self._terminated and self._continues_movetext():
                        self._note(line, "blank line inside the movetext ignored (the moves carry on)")
                        continue
                    self.line_no = line
                    self._state = _BETWEEN
                    return text
                if _TAG_OPEN.match(text) or self._terminated:
                    # The next game (or text after this one's result) without a blank line.
                    self._ahead.appendleft(item)
                    self._state = _BETWEEN
                    if _TAG_OPEN.match(text):
                        self._note(line, "no blank line before the tags of the next game: games separated",
                                   game_number=self.games_started + 1)
                    return "\n"
            self.line_no = line
            if self._state == _MOVETEXT:
                self._terminated = self._scan_movetext(text)
                return text
            if not stripped:
                if self._state == _HEADERS and self._header_blank:
                    self._state = _BETWEEN
                self._header_blank = True
                return text
            if stripped.startswith("%"):
                return text
            if _TAG_OPEN.match(text) or _TAG_NAME_ONLY.match(text):
                if self._state == _BETWEEN:
                    self._start_game(_HEADERS)
                self._header_blank = False
                fixed = self._tag_line(line, text)
                if fixed is None:
                    continue
                return fixed
            if self._state == _HEADERS:
                if stripped.startswith("["):
                    return text  # a malformed header python-chess skips
                self._state = _MOVETEXT
                self._terminated = self._scan_movetext(text)
                return text
            if _MOVETEXT_START.match(text):
                self._start_game(_MOVETEXT)
                self._terminated = self._scan_movetext(text)
                return text
            self._skip_garbage(line, text)

    def bytes_read(self) -> int:
        return self._position()

"""Parse and evaluate the subset of Opsgenie's incident search query language that the emulator serves.

Terms:

- ``status:open`` (case-insensitive exact match),
- ``tag:"some tag"`` or ``tags:x`` (the incident carries that exact tag),
- ``message:word`` / ``message:"quoted words"`` (case-insensitive substring),
- ``tinyId:3``, ``id:<uuid>``, ``priority:P1``,
- a bare word or quoted phrase (case-insensitive substring of the message),
- ``*`` (matches everything).

A space may follow the colon (``status: open``). Terms combine with ``AND``, ``OR`` and ``NOT``
(case-insensitive) and parentheses; ``AND`` binds tighter than ``OR`` and two terms side by side
mean ``AND``. An empty query matches every incident. Anything else raises :class:`QueryError`.

Grammar::

    query := "" | or
    or    := and ("OR" and)*
    and   := unary (["AND"] unary)*
    unary := "NOT" unary | "(" or ")" | term
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Predicate", "QueryError", "parse_query"]

Predicate = Callable[[Mapping[str, Any]], bool]

_STOP = '()"'
_OPERATORS = ("AND", "OR", "NOT")


class QueryError(ValueError):
    """The query is outside the supported subset or is not well formed."""


@dataclass(frozen=True)
class _Token:
    kind: str  # "(", ")", "op" or "term"
    value: str = ""
    field: str | None = None


def _always(_: Mapping[str, Any]) -> bool:
    return True


def _field_matcher(field: str, value: str) -> Predicate:
    name = field.lower()
    if name == "status":
        return lambda inc: str(inc.get("status", "")).lower() == value.lower()
    if name in ("tag", "tags"):
        return lambda inc: value in (inc.get("tags") or [])
    if name == "message":
        return _message_matcher(value)
    if name == "tinyid":
        return lambda inc: str(inc.get("tinyId", "")) == value
    if name == "id":
        return lambda inc: str(inc.get("id", "")) == value
    if name == "priority":
        return lambda inc: str(inc.get("priority", "")).upper() == value.upper()
    raise QueryError(f"unsupported field [{field}]")


def _message_matcher(value: str) -> Predicate:
    needle = value.lower()
    return lambda inc: needle in str(inc.get("message", "")).lower()


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """Read a double-quoted string starting at ``text[start]``; return its value and the next index."""
    out: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        elif char == '"':
            return "".join(out), i + 1
        else:
            out.append(char)
            i += 1
    raise QueryError("unterminated quoted string")


def _read_word(text: str, start: int) -> tuple[str, int]:
    end = start
    while end < len(text) and not text[end].isspace() and text[end] not in _STOP:
        end += 1
    return text[start:end], end


def _read_value(text: str, start: int, field: str) -> tuple[str, int]:
    """Read the value of ``field:`` when it was not glued to the colon (quoted, or after spaces)."""
    i = start
    while i < len(text) and text[i].isspace():
        i += 1
    if i < len(text) and text[i] == '"':
        return _read_quoted(text, i)
    word, end = _read_word(text, i)
    if not word or word.upper() in _OPERATORS:
        raise QueryError(f"missing value for field [{field}]")
    return word, end


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "()":
            tokens.append(_Token(char))
            i += 1
        elif char == '"':
            value, i = _read_quoted(text, i)
            tokens.append(_Token("term", value))
        else:
            word, i = _read_word(text, i)
            field, colon, value = word.partition(":")
            if colon and field:
                if not value:
                    value, i = _read_value(text, i, field)
                tokens.append(_Token("term", value, field))
            elif word.upper() in _OPERATORS:
                tokens.append(_Token("op", word.upper()))
            else:
                tokens.append(_Token("term", word))
    return tokens


def _joined(parts: list[Predicate], join: Callable[[Iterable[bool]], bool]) -> Predicate:
    if len(parts) == 1:
        return parts[0]
    return lambda inc: join(part(inc) for part in parts)


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens = tokens
        self._pos = 0

    def _peek(self) -> _Token | None:
        return self._tokens[self._pos] if self._pos < len(self._tokens) else None

    def _next(self) -> _Token:
        token = self._peek()
        if token is None:
            raise QueryError("unexpected end of query")
        self._pos += 1
        return token

    def parse(self) -> Predicate:
        predicate = self._or()
        token = self._peek()
        if token is not None:
            raise QueryError(f"unexpected [{token.value or token.kind}]")
        return predicate

    def _or(self) -> Predicate:
        parts = [self._and()]
        while (token := self._peek()) is not None and token == _Token("op", "OR"):
            self._pos += 1
            parts.append(self._and())
        return _joined(parts, any)

    def _and(self) -> Predicate:
        parts = [self._unary()]
        while (token := self._peek()) is not None and token.kind != ")" and token != _Token("op", "OR"):
            if token == _Token("op", "AND"):
                self._pos += 1
            parts.append(self._unary())
        return _joined(parts, all)

    def _unary(self) -> Predicate:
        token = self._next()
        if token == _Token("op", "NOT"):
            inner = self._unary()
            return lambda inc: not inner(inc)
        if token.kind == "(":
            inner = self._or()
            if self._peek() != _Token(")"):
                raise QueryError("missing closing parenthesis")
            self._pos += 1
            return inner
        if token.kind == "term":
            if token.field is not None:
                return _field_matcher(token.field, token.value)
            if token.value == "*":
                return _always
            return _message_matcher(token.value)
        raise QueryError(f"unexpected [{token.value or token.kind}]")


def parse_query(text: str) -> Predicate:
    """Compile ``text`` into a predicate over incident dicts; raise :class:`QueryError` if unsupported."""
    tokens = _tokenize(text)
    if not tokens:
        return _always
    return _Parser(tokens).parse()

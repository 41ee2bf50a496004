"""Every regular expression that runs on request data, compiled by RE2, in one registry.

Python's `re` backtracks: a pattern as innocent-looking as `[\\w.-]*key[\\w.-]*=`
takes time polynomial (or worse) in the input when the input almost matches,
and one request of a few kilobytes then pins a worker for seconds. RE2
(google-re2) matches in time linear in the input for every pattern it accepts;
it refuses backreferences and look-around, which is the price.

So a module that matches request data (paths, headers, bodies, log lines,
wallet messages) never imports `re`: it declares its pattern here with
`request_pattern()`, naming the inputs an attacker would try against it.
tests/test_patterns.py feeds every registered pattern those inputs, 64 KB long,
and checks the cost grows linearly; it also fails when a module in config/,
accounts/ or wallets/ compiles a pattern with `re`.

RE2 differs from `re` in ways that matter here: `\\w`, `\\s` and `\\d` are
ASCII-only, and `$` is the end of the text (never "before a final newline").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import re2

# RE2 reads UTF-8, and a str holding a lone surrogate has none: `"\ud800"` in a
# JSON body decodes to one, and re2 would raise UnicodeEncodeError (a 500).
# Each becomes U+FFFD first: one code point for one, so match positions still
# index the caller's text, and no ASCII class (all Signet uses) matches it.
_SURROGATES = dict.fromkeys(range(0xD800, 0xE000), "\ufffd")


def _utf8(text: str) -> str:
    # re2's sub() builds its result with `type(text)()`: a str subclass such as a
    # TextChoices member (an audit detail's `type`) cannot be built so (a 500).
    # str.__str__ gives its plain str value.
    text = str.__str__(text)
    return text if text.isascii() else text.translate(_SURROGATES)


class LinearPattern:
    """A compiled RE2 pattern with the `re.Pattern` methods Signet uses."""

    __slots__ = ("pattern", "regex")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.regex = re2.compile(pattern)

    def search(self, text: str) -> Any:
        return self.regex.search(_utf8(text))

    def match(self, text: str) -> Any:
        return self.regex.match(_utf8(text))

    def fullmatch(self, text: str) -> Any:
        return self.regex.fullmatch(_utf8(text))

    def finditer(self, text: str) -> Iterator[Any]:
        return self.regex.finditer(_utf8(text))

    def sub(self, repl: str | Callable[[Any], str], text: str) -> str:
        return self.regex.sub(repl, _utf8(text))


@dataclass(frozen=True)
class RequestPattern:
    name: str
    regex: LinearPattern
    # Seeds an attacker would repeat (to 64 KB) against this pattern.
    attacks: tuple[str, ...]


REQUEST_PATTERNS: dict[str, RequestPattern] = {}


def request_pattern(name: str, pattern: str, *, attacks: tuple[str, ...] = ()) -> LinearPattern:
    """Compile `pattern` with RE2 and register it under `name` (unique)."""
    if name in REQUEST_PATTERNS:
        raise ValueError(f"request pattern {name!r} is registered twice")
    regex = LinearPattern(pattern)
    REQUEST_PATTERNS[name] = RequestPattern(name, regex, attacks)
    return regex

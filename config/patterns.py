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

from dataclasses import dataclass

import re2

# What a compiled RE2 pattern is; the module exposes no public name for it.
Pattern = type(re2.compile(""))


@dataclass(frozen=True)
class RequestPattern:
    name: str
    regex: Pattern
    # Seeds an attacker would repeat (to 64 KB) against this pattern.
    attacks: tuple[str, ...]


REQUEST_PATTERNS: dict[str, RequestPattern] = {}


def request_pattern(name: str, pattern: str, *, attacks: tuple[str, ...] = ()) -> Pattern:
    """Compile `pattern` with RE2 and register it under `name` (unique)."""
    if name in REQUEST_PATTERNS:
        raise ValueError(f"request pattern {name!r} is registered twice")
    regex = re2.compile(pattern)
    REQUEST_PATTERNS[name] = RequestPattern(name, regex, attacks)
    return regex

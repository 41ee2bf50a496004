"""Nothing that runs on request data costs more than linear time.

Every regex that sees request data is registered in config.patterns (RE2);
each is fed its attack inputs, 64 KB long, through every operation the code
uses, and so is the JSON depth pre-scan. A benchmark-style check in CPU
time, not a wall-clock limit: the same input one eighth as long is the linear
reference (linear: ~8x the time; quadratic: 64x; the limit is 3x linear), and
a plain Python pass over the same text bounds the single-match operations.
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db.models import TextChoices

import accounts
import config
import wallets
from accounts.security import nesting_exceeds
from config.patterns import REQUEST_PATTERNS, RequestPattern

SIZE = 64 * 1024
SHRINK = 8  # the reference input is SIZE / SHRINK long
SLACK = 3  # allowed factor over perfectly linear growth (noise on a shared machine)
PASS_FACTOR = 20  # a single search or fullmatch vs a Python loop over the same text
# Seeds every pattern gets besides its own: runs of one class, escapes, separators.
GENERIC_SEEDS = ("a", "0", " ", "%", '"\\', "a=", "-", ".:", "\n")
ROOT = Path(__file__).resolve().parents[1]


def _import_everything() -> None:
    """Registration happens at import: load every module that could register."""
    for package in (config, accounts, wallets):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if ".migrations" not in module.name and not module.name.startswith("config.settings"):
                importlib.import_module(module.name)


_import_everything()


def fill(seed: str, size: int = SIZE) -> str:
    return (seed * (size // len(seed) + 1))[:size]


def cost(operation: Callable[[str], object], text: str, repeat: int = 3) -> float:
    """CPU seconds of this thread, best of `repeat`: on a shared machine a long
    run is preempted where a short one is not, and wall time would measure that."""
    best = float("inf")
    for _ in range(repeat):
        start = time.thread_time()
        operation(text)
        best = min(best, time.thread_time() - start)
    return best


def linear_pass(text: str) -> int:
    count = 0
    for char in text:
        count += char == "x"
    return count


def assert_grows_linearly(operation: Callable[[str], object], text: str, what: str) -> None:
    small, large = cost(operation, text[: len(text) // SHRINK]), cost(operation, text)
    # A floor of the Python pass over the small text: below it, timer noise rules.
    reference = max(small, cost(linear_pass, text[: len(text) // SHRINK]))
    assert large <= SLACK * SHRINK * reference, (
        f"{what}: {large * 1000:.1f} ms for {len(text)} chars vs "
        f"{small * 1000:.2f} ms for {len(text) // SHRINK}"
    )


def _cases() -> list[tuple[RequestPattern, str]]:
    return [
        (pattern, seed)
        for pattern in REQUEST_PATTERNS.values()
        for seed in dict.fromkeys((*pattern.attacks, *GENERIC_SEEDS))
    ]


def _case_id(value: object) -> str:
    return value.name if isinstance(value, RequestPattern) else repr(value)


@pytest.mark.parametrize(("pattern", "seed"), _cases(), ids=_case_id)
def test_every_request_pattern_is_linear(pattern: RequestPattern, seed: str):
    text = fill(seed)
    baseline = cost(linear_pass, text)
    for name in ("search", "match", "fullmatch"):
        operation = getattr(pattern.regex, name)
        took = cost(operation, text)
        assert took <= PASS_FACTOR * baseline, (
            f"{pattern.name}.{name} on {seed!r}*: {took * 1000:.1f} ms, "
            f"a Python pass {baseline * 1000:.1f} ms"
        )
    if pattern.regex.fullmatch("") is not None:
        return  # finds an empty match at every position; only ever fullmatch()ed
    # sub() and finditer() find every match: linear in the text, at RE2's
    # cost per match, so measured against the same input shorter.
    assert_grows_linearly(
        lambda t: sum(1 for _ in pattern.regex.finditer(t)), text, f"{pattern.name} {seed!r}"
    )


@pytest.mark.parametrize("pattern", REQUEST_PATTERNS.values(), ids=_case_id)
def test_every_pattern_takes_text_that_is_not_utf8(pattern: RequestPattern):
    """A JSON body's "\\ud800" is a lone surrogate in Python: RE2 alone would raise."""
    for text in ("\ud800", "a\udfff:key=1", "\ud83d\ude00"):
        for name in ("search", "match", "fullmatch"):
            getattr(pattern.regex, name)(text)
        assert len(pattern.regex.sub("", text)) <= len(text)


class Kind(TextChoices):
    TOTP = "totp"


@pytest.mark.parametrize("pattern", REQUEST_PATTERNS.values(), ids=_case_id)
def test_every_pattern_takes_a_str_subclass(pattern: RequestPattern):
    """A TextChoices member (an audit detail's value) is a str re2 cannot rebuild."""
    for name in ("search", "match", "fullmatch"):
        getattr(pattern.regex, name)(Kind.TOTP)
    result = pattern.regex.sub("", Kind.TOTP)
    assert type(result) is str and len(result) <= len("totp")


def test_an_audit_detail_holding_a_choice_is_recorded():
    from accounts.observability import redact_value

    assert redact_value({"type": Kind.TOTP}) == {"type": "totp"}


def test_match_positions_index_the_callers_text():
    from accounts.observability import redact_text

    assert (
        redact_text("\ud800 token=abc \u00e9 key=d")
        == "\ufffd token=[redacted] \u00e9 key=[redacted]"
    )


def test_the_registry_holds_the_patterns_that_see_requests():
    expected = {"request_id", "log.secret_pair", "log.key_in_path", "signin.uri", "evm.address"}
    assert expected <= set(REQUEST_PATTERNS)


def test_no_backtracking_regex_in_the_code():
    """`re` backtracks; a module in config/, accounts/ or wallets/ that needs a
    pattern registers an RE2 one in config.patterns instead."""
    offenders = []
    for package in ("config", "accounts", "wallets"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts or path.parts[-2:] == ("config", "patterns.py"):
                continue
            text = path.read_text()
            if "import re\n" in text or "from re import" in text:
                offenders.append(str(path.relative_to(ROOT)))
    # accounts.ratelimit parses ACCOUNT_RATE_LIMITS, a setting, never a request.
    assert sorted(offenders) == ["accounts/ratelimit.py"]


# --- The JSON depth pre-scan ------------------------------------------------------

DEPTH_ATTACKS = {
    "unclosed escapes": '"' + '\\"' * (SIZE // 2),
    "backslash runs": '"' + ("\\" * 64 + '"') * (SIZE // 65),
    "many strings": "[" + '"\\\\",' * (SIZE // 5),  # ["\\","\\",...
    "brackets in a string": '"' + "[{" * (SIZE // 2),
    "closing brackets": "]" * SIZE,
    "whitespace": " " * SIZE,
}


@pytest.mark.parametrize("text", DEPTH_ATTACKS.values(), ids=DEPTH_ATTACKS.keys())
def test_the_depth_scan_is_linear(text):
    assert_grows_linearly(lambda t: nesting_exceeds(t, 32), text, "nesting_exceeds")
    benign = fill('{"email": "a@example.com", "password": "x"}, ')
    assert cost(lambda t: nesting_exceeds(t, 32), text) <= PASS_FACTOR * cost(linear_pass, benign)


@pytest.mark.parametrize(
    ("text", "deep"),
    [
        ("{}", False),
        ("[" * 32 + "]" * 32, False),
        ("[" * 33 + "]" * 33, True),
        ('{"a": "' + "[" * 100 + '"}', False),  # brackets inside a string do not count
        ('["\\"' + "[" * 100 + '"]', False),  # nor after an escaped quote
        ('["\\\\"' + ", [" * 40 + "]" * 40 + "]", True),  # an escaped backslash ends it
        ('"unclosed [[[[' + "[" * 100, False),  # json.loads fails on the string first
    ],
)
def test_the_depth_scan_reads_json_strings_as_json_does(text, deep):
    assert nesting_exceeds(text, 32) is deep

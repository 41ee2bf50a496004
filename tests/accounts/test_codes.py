"""accounts.codes: mailed codes kept hashed in Redis, attempts counted atomically."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections

from accounts import codes
from accounts.codes import Purpose, Result
from accounts.redis import redis_client

pytestmark = pytest.mark.django_db


def test_a_code_is_allauths_shape_and_typed_loosely_it_still_matches():
    code_id, code = codes.issue(Purpose.LOGIN, timeout=60)
    assert len(code) == 9 and code[4] == "-"
    assert set(code.replace("-", "")) <= set(codes.ALPHABET)
    typed = " " + code.replace("-", "").lower() + " "
    assert codes.check(Purpose.LOGIN, code_id, typed, max_attempts=3) is Result.OK


def test_the_right_code_works_once():
    code_id, code = codes.issue(Purpose.LOGIN, timeout=60)
    assert codes.check(Purpose.LOGIN, code_id, code, max_attempts=3) is Result.OK
    assert codes.check(Purpose.LOGIN, code_id, code, max_attempts=3) is Result.GONE


def test_only_a_digest_is_stored():
    code_id, code = codes.issue(Purpose.VERIFY_EMAIL, timeout=60)
    stored = b"".join(
        k + v
        for key in redis_client().scan_iter(match=f"*{code_id}*")
        for k, v in redis_client().hgetall(key).items()
    )
    assert stored and code.encode() not in stored
    assert code.replace("-", "").encode() not in stored


def test_a_code_is_valid_for_its_purpose_only():
    code_id, code = codes.issue(Purpose.PASSWORD_RESET, timeout=60)
    assert codes.check(Purpose.LOGIN, code_id, code, max_attempts=3) is Result.GONE
    assert codes.check(Purpose.PASSWORD_RESET, code_id, code, max_attempts=3) is Result.OK


def test_wrong_codes_use_up_the_attempts_and_then_even_the_right_one_is_refused():
    code_id, code = codes.issue(Purpose.LOGIN, timeout=60)
    wrong = "BBBB-BBBB" if code != "BBBB-BBBB" else "CCCC-CCCC"
    assert codes.check(Purpose.LOGIN, code_id, wrong, max_attempts=3) is Result.WRONG
    assert codes.check(Purpose.LOGIN, code_id, wrong, max_attempts=3) is Result.WRONG
    assert codes.exists(Purpose.LOGIN, code_id)
    assert codes.check(Purpose.LOGIN, code_id, wrong, max_attempts=3) is Result.WRONG_LAST
    assert not codes.exists(Purpose.LOGIN, code_id)
    assert codes.check(Purpose.LOGIN, code_id, code, max_attempts=3) is Result.GONE


def test_an_expired_code_is_gone():
    code_id, code = codes.issue(Purpose.LOGIN, timeout=60)
    redis_client().delete(*redis_client().keys(f"*{code_id}*"))  # what the TTL does
    assert codes.check(Purpose.LOGIN, code_id, code, max_attempts=3) is Result.GONE
    assert codes.check(Purpose.LOGIN, "", code, max_attempts=3) is Result.GONE


def test_the_entry_expires_with_its_timeout():
    code_id, _code = codes.issue(Purpose.LOGIN, timeout=120)
    (key,) = redis_client().keys(f"*{code_id}*")
    assert 0 < redis_client().ttl(key) <= 120


def test_concurrent_guesses_cannot_exceed_the_attempts():
    """Twenty guesses at once: at most three are ever compared, whichever
    workers run first; the rest find the code gone."""
    code_id, code = codes.issue(Purpose.LOGIN, timeout=60)
    wrong = "BBBB-BBBB" if code != "BBBB-BBBB" else "CCCC-CCCC"
    guesses = [wrong] * 19 + [code]
    results: list[Result] = []
    barrier = threading.Barrier(len(guesses))

    def guess(value: str) -> None:
        barrier.wait()
        try:
            results.append(codes.check(Purpose.LOGIN, code_id, value, max_attempts=3))
        finally:
            close_old_connections()

    threads = [threading.Thread(target=guess, args=(g,)) for g in guesses]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    compared = [r for r in results if r is not Result.GONE]
    assert len(compared) <= 3
    assert not codes.exists(Purpose.LOGIN, code_id)


def test_two_racing_right_answers_succeed_once():
    code_id, code = codes.issue(Purpose.LOGIN, timeout=60)
    results: list[Result] = []
    barrier = threading.Barrier(8)

    def guess() -> None:
        barrier.wait()
        results.append(codes.check(Purpose.LOGIN, code_id, code, max_attempts=10))

    threads = [threading.Thread(target=guess) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(Result.OK) == 1

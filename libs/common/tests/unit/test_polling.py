"""The tests' one poll-until helper."""

import pytest

from aligned_testing.polling import eventually

pytestmark = pytest.mark.unit


async def test_it_returns_the_first_truthy_value_of_an_async_or_plain_check():
    answers = iter([None, [], {"id": 1}])

    async def check():
        return next(answers)

    assert await eventually(check, timeout_s=1, interval_s=0) == {"id": 1}
    assert await eventually(lambda: 7, timeout_s=1) == 7


async def test_tolerated_errors_are_not_yet_and_others_fail_at_once():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("restarting")
        return "up"

    assert await eventually(flaky, timeout_s=1, interval_s=0, tolerate=(ConnectionError,)) == "up"
    with pytest.raises(ValueError):
        await eventually(lambda: int("x"), timeout_s=1, tolerate=(ConnectionError,))


async def test_running_out_of_time_names_what_and_the_last_value():
    with pytest.raises(AssertionError, match=r"waiting for the rows; last seen: \[\]"):
        await eventually(list, timeout_s=0.05, interval_s=0.01, what="the rows")

"""The executor's own pieces: the credit checks before any work, the result document, and
what the first and second ^C do (real signals to this process).

Whole applies are tested against the engine in ``test_apply_*.py``.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal

import pytest

from parafraim_build.apply import ApplyResult, _interrupts, check_credits
from parafraim_build.apply_context import VideoResult
from parafraim_build.errors import BudgetError
from parafraim_build.plan_model import Action, Plan, VideoPlan


def plan_costing(*credits: float) -> Plan:
    actions = tuple(
        Action("render", reason="r", render=f"r{n}", credits=c) for n, c in enumerate(credits)
    )
    return Plan(videos=(VideoPlan("v", None, actions),), cost_label="test prices")


async def never_asked() -> float:
    raise AssertionError("the balance must not be asked for")


def test_a_plan_above_max_credits_is_refused_without_asking_the_balance() -> None:
    with pytest.raises(BudgetError) as caught:
        asyncio.run(check_credits(plan_costing(6, 5), never_asked, 10))
    assert caught.value.message == (
        "the plan is estimated at 11 credits, more than --max-credits 10 (test prices)"
    )


def test_a_free_plan_never_asks_for_the_balance() -> None:
    asyncio.run(check_credits(plan_costing(0), never_asked, None))
    asyncio.run(check_credits(plan_costing(), never_asked, 0))


@pytest.mark.parametrize(("balance", "refused"), [(10.99, True), (11, False), (500, False)])
def test_a_plan_above_the_balance_is_refused(balance: float, refused: bool) -> None:
    asked = []

    async def current() -> float:
        asked.append(True)
        return balance

    check = check_credits(plan_costing(6, 5), current, 11)
    if refused:
        with pytest.raises(
            BudgetError, match=re.escape("estimated at 11 credits but the account has 10.99")
        ):
            asyncio.run(check)
    else:
        asyncio.run(check)
    assert asked == [True]


def test_the_result_says_ok_only_when_nothing_failed_or_stopped() -> None:
    done = VideoResult("a", "p1")
    failed = VideoResult("b", "p2", status="failed", error="step 1/1: no", hint="retry")
    result = ApplyResult(videos=[done, failed], estimated_credits=2.5, cost_label="test")
    result.requests = {"POST": 3, "GET": 9}
    assert result.failed == [failed]
    assert not result.ok
    document = result.to_json()
    assert document["ok"] is False
    assert document["applied"] is True
    assert list(document["requests"]) == ["GET", "POST"]
    assert [v["status"] for v in document["videos"]] == ["ok", "failed"]
    assert ApplyResult(videos=[done]).ok
    assert not ApplyResult(videos=[done], interrupted=True).ok
    unconfirmed = ApplyResult(confirmed=False).to_json()
    assert unconfirmed["applied"] is False


def test_first_sigint_stops_new_work_and_the_second_cancels_what_runs() -> None:
    said: list[tuple[str, str]] = []

    async def main() -> tuple[bool, bool]:
        stopping = asyncio.Event()
        work = asyncio.ensure_future(asyncio.sleep(60))
        with _interrupts(stopping, [work], lambda video, why: said.append((video, why))):
            os.kill(os.getpid(), signal.SIGINT)
            await asyncio.wait_for(stopping.wait(), 5)
            first = work.cancelled() or work.done()
            os.kill(os.getpid(), signal.SIGINT)
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(work, 5)
        return first, work.cancelled()

    first_stopped_work, second_cancelled = asyncio.run(main())
    assert not first_stopped_work
    assert second_cancelled
    assert said == [("", "stopping: no new work starts; ^C again stops in-flight work too")]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

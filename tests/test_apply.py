"""The executor's own pieces: the credit checks before any work, the result document, and
what the first and second ^C do (real signals to this process).

Whole applies are tested against the engine in ``test_apply_*.py``.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
from datetime import datetime, timedelta, timezone

import pytest

from parafraim_build.api.models import Credits, CreditTransaction
from parafraim_build.apply import (
    ApplyResult,
    _interrupts,
    check_credits,
    net_amount,
    spent_by_run,
)
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
    assert asyncio.run(check_credits(plan_costing(0), never_asked, None)) is None
    assert asyncio.run(check_credits(plan_costing(), never_asked, 0)) is None


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
        # The balance it read is the "before" of what the apply reports having spent.
        assert asyncio.run(check) == balance
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
    assert document["spentCredits"] is None
    assert document["balance"] == {"before": None, "after": None}
    result.spent_credits, result.balance_before, result.balance_after = 4.5, 100, 95.5
    assert result.to_json()["spentCredits"] == 4.5
    assert result.to_json()["balance"] == {"before": 100, "after": 95.5}
    assert ApplyResult(videos=[done]).ok
    assert not ApplyResult(videos=[done], interrupted=True).ok
    unconfirmed = ApplyResult(confirmed=False).to_json()
    assert unconfirmed["applied"] is False


RUN_START = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


def tx(
    kind: str,
    amount: float,
    *,
    task: str | None = None,
    job: str | None = None,
    at: datetime = RUN_START + timedelta(seconds=30),
) -> dict[str, object]:
    """One transaction as ``GET /credits.recent`` shows it."""
    return {
        "id": f"tx-{kind}-{task or job}",
        "type": kind,
        "amount": amount,
        "createdAt": at.isoformat().replace("+00:00", "Z"),
        "projectId": "p-1",
        "taskId": task,
        "jobId": job,
    }


def credits_with(*recent: dict[str, object]) -> Credits:
    return Credits.model_validate({"balance": 100, "recent": list(recent)})


def test_a_refund_takes_back_whichever_sign_the_service_sends() -> None:
    assert net_amount(CreditTransaction(type="charge", amount=2.5)) == 2.5
    assert net_amount(CreditTransaction(type="refund", amount=2.5)) == -2.5
    assert net_amount(CreditTransaction(type="Refund", amount=-2.5)) == -2.5
    assert net_amount(CreditTransaction(type=None, amount=None)) == 0


def test_spent_by_run_is_its_own_charges_net_of_refunds() -> None:
    credits = credits_with(
        tx("refund", 8.0, job="j-failed"),
        tx("charge", 3.3, job="j-ok"),
        tx("charge", 8.0, job="j-failed"),
        tx("charge", 1.1, task="t-1"),
        tx("charge", 1.2, task="t-2"),
        tx("charge", 50.0, task="t-someone-else"),
        tx("charge", 7.0, job="j-earlier", at=RUN_START - timedelta(hours=1)),
    )
    spent = spent_by_run(credits, ["t-1", "t-2"], {"j-ok", "j-failed"}, RUN_START)
    assert spent == 5.6  # 1.1 + 1.2 + 3.3, the failed render's 8 given back


def test_nothing_started_spent_nothing() -> None:
    assert spent_by_run(credits_with(tx("charge", 9.0, task="t-other")), [], {}, RUN_START) == 0


def test_a_charge_outside_the_window_makes_the_sum_unknown() -> None:
    # t-1's charge has fallen out of the recent transactions: every one shown is the run's
    # own, so older ones of the run may be missing.
    cut = credits_with(tx("charge", 1.2, task="t-2"), tx("charge", 3.3, job="j-1"))
    assert spent_by_run(cut, ["t-1", "t-2"], {"j-1"}, RUN_START) is None
    # Shown beside a transaction older than the run, t-1 had no charge at all: the sum is whole.
    whole = credits_with(
        tx("charge", 1.2, task="t-2"),
        tx("charge", 3.3, job="j-1"),
        tx("charge", 7.0, job="j-earlier", at=RUN_START - timedelta(minutes=5)),
    )
    assert spent_by_run(whole, ["t-1", "t-2"], {"j-1"}, RUN_START) == 4.5
    # Only a refund of an operation (its charge cut off) does not count as its charge.
    refund_only = credits_with(tx("refund", 3.3, job="j-1"), tx("charge", 1.2, task="t-1"))
    assert spent_by_run(refund_only, ["t-1"], {"j-1"}, RUN_START) is None


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

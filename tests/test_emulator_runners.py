"""The background runners shared by the task and render services."""

from __future__ import annotations

import asyncio

from parafraim_build.emulator.runners import Runners


def test_runners_are_tracked_until_they_end() -> None:
    async def scenario() -> None:
        runners = Runners()
        done = asyncio.Event()

        async def work() -> None:
            await done.wait()

        runners.start("a", work(), name="a")
        assert "a" in runners
        assert len(runners) == 1
        done.set()
        for _ in range(3):
            await asyncio.sleep(0)
        assert "a" not in runners
        assert len(runners) == 0

    asyncio.run(scenario())


def test_cancel_all_waits_for_each_runner_to_handle_its_cancellation() -> None:
    handled: list[str] = []

    async def scenario() -> None:
        runners = Runners()

        async def work(name: str) -> None:
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                await asyncio.sleep(0.01)  # cleanup that itself awaits, like a final write
                handled.append(name)
                raise

        for name in ("a", "b"):
            runners.start(name, work(name), name=name)
        await asyncio.sleep(0)
        await runners.cancel_all()
        assert sorted(handled) == ["a", "b"]
        assert len(runners) == 0

    asyncio.run(scenario())


def test_a_restarted_record_is_not_forgotten_by_its_old_runner() -> None:
    async def scenario() -> None:
        runners = Runners()

        async def quick() -> None:
            return None

        async def slow() -> None:
            await asyncio.sleep(60)

        runners.start("a", quick(), name="first")
        runners.start("a", slow(), name="second")
        for _ in range(3):
            await asyncio.sleep(0)
        assert "a" in runners  # the first one ended, but "a" is the second one's now
        await runners.cancel_all()

    asyncio.run(scenario())

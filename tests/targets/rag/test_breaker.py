"""The embedder's circuit breaker (targets.rag.embedding_client.Breaker), on a hand-moved
clock, and a real client against a port that refuses: it fails at once while open."""

from __future__ import annotations

import asyncio

import pytest

from targets.rag.embedding_client import Breaker, EmbeddingClient, EmbeddingUnavailable


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_failure_opens_it_then_one_trial_closes_or_reopens_it() -> None:
    clock = Clock()
    breaker = Breaker(2.0, clock)
    assert breaker.allow() and breaker.allow()  # closed: every call goes
    breaker.failure()
    assert breaker.is_open and not breaker.allow()
    clock.now += 1.9
    assert not breaker.allow()
    clock.now += 0.2  # open time over: one trial, the others still fail at once
    assert breaker.allow() and not breaker.allow() and breaker.is_open
    breaker.failure()  # the trial failed: open again for the whole time
    clock.now += 1.9
    assert not breaker.allow()
    clock.now += 0.2
    assert breaker.allow()
    breaker.success()  # the trial succeeded: closed
    assert not breaker.is_open and breaker.allow() and breaker.allow()


def test_open_s_zero_never_opens() -> None:
    breaker = Breaker(0.0, Clock())
    breaker.failure()
    assert not breaker.is_open and breaker.allow()


@pytest.mark.parametrize("open_s", [0.0, 30.0])
def test_a_real_client_fails_at_once_while_the_breaker_is_open(open_s: float) -> None:
    async def calls() -> list[str]:
        breaker = Breaker(open_s)
        client = EmbeddingClient("http://127.0.0.1:9", timeout_s=1, breaker=breaker)
        errors = []
        for _ in range(3):
            with pytest.raises(EmbeddingUnavailable) as caught:
                await client.embed(["a question"])
            errors.append(str(caught.value))
        await client.aclose()
        return errors

    errors = asyncio.run(calls())
    opened = ["circuit open" in error for error in errors]
    assert opened == ([False, False, False] if open_s == 0 else [False, True, True])


def test_a_call_cancelled_by_a_deadline_counts_as_a_failure_and_ends_a_trial() -> None:
    async def scenario() -> bool:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)  # never answers
        port = server.sockets[0].getsockname()[1]
        breaker = Breaker(0.05)
        client = EmbeddingClient(f"http://127.0.0.1:{port}", timeout_s=10, breaker=breaker)
        try:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(client.embed(["x"]), 0.1)
            opened = breaker.is_open
            await asyncio.sleep(0.1)  # past the open time: the next call is the trial
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(client.embed(["x"]), 0.1)
            await asyncio.sleep(0.1)
            return opened and breaker.allow()  # the cancelled trial did not leave it stuck
        finally:
            await client.aclose()
            server.close()

    assert asyncio.run(scenario())

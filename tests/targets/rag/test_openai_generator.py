"""OpenAIGenerator against a real OpenAI-compatible server on loopback (openai_server.py)."""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import Sequence
from typing import Any

import httpx
import pytest

from targets.rag.generation import GenerationError, Passage
from targets.rag.openai_generator import OpenAIGenerator
from tests.targets.rag.openai_server import BreakWith, OpenAIServer

PASSAGES = [
    Passage("paris-guide", 3, "Paris is the capital of France. It lies on the Seine.", 0.91),
    Passage("lyon-guide", 0, "Lyon sits where the Rhône meets the Saône.", 0.72),
]
ANSWER = ["Paris ", "is ", "the ", "capital ", "of ", "France."]
# 30 words before the first full stop: an answer long enough to stop in the middle of.
LONG_WORDS = [f"word{n}" for n in range(30)]
LONG = Passage("long", 0, " ".join(LONG_WORDS) + ". Tail.", 1.0)
_WAIT_S = 10.0


def _answer(base_url: str, passages: Sequence[Passage] = PASSAGES, **options: Any) -> list[str]:
    """The pieces of one answer, each new client closed afterwards."""

    async def collect() -> list[str]:
        generator = OpenAIGenerator(base_url, "test-model", **options)
        try:
            return [piece async for piece in generator.stream("What is the capital?", passages)]
        finally:
            await generator.aclose()

    return asyncio.run(collect())


def _pieces_until_error(base_url: str) -> tuple[list[str], GenerationError]:
    async def collect() -> tuple[list[str], GenerationError]:
        generator, pieces = OpenAIGenerator(base_url, "test-model"), []
        try:
            async for piece in generator.stream("What is the capital?", PASSAGES):
                pieces.append(piece)
        except GenerationError as error:
            return pieces, error
        finally:
            await generator.aclose()
        raise AssertionError(f"no GenerationError; the answer passed as whole: {pieces}")

    return asyncio.run(collect())


def test_stream_yields_the_answer_word_by_word_in_order() -> None:
    with OpenAIServer(token_delay_s=0.001) as server:
        pieces = _answer(server.base_url)
    assert pieces == ANSWER
    assert "".join(pieces) == "Paris is the capital of France."


def test_the_prompt_carries_every_passage_with_its_doc_id_chunk_and_the_question() -> None:
    with OpenAIServer() as server:
        _answer(server.base_url, max_tokens=64)
        body = server.last_body
    settings = {key: body[key] for key in ("model", "stream", "max_tokens", "temperature")}
    assert settings == {"model": "test-model", "stream": True, "max_tokens": 64, "temperature": 0}
    system, user = body["messages"]
    assert system["role"] == "system" and "I don't know" in system["content"]
    assert user["role"] == "user"
    assert (
        "[1] (paris-guide#3) Paris is the capital of France. It lies on the Seine."
        in user["content"]
    )
    assert "[2] (lyon-guide#0) Lyon sits where the Rhône meets the Saône." in user["content"]
    assert user["content"].endswith("Question: What is the capital?")


def test_the_test_server_answers_the_same_sentence_without_streaming() -> None:
    with OpenAIServer() as server:
        _answer(server.base_url)
        body = {**server.last_body, "stream": False}
        reply = httpx.post(f"{server.base_url}/chat/completions", json=body, trust_env=False)
        assert server.requests == 2
    assert reply.status_code == 200
    assert reply.json()["object"] == "chat.completion"
    assert reply.json()["choices"][0]["message"]["content"] == "Paris is the capital of France."


def test_the_api_key_is_sent_as_a_bearer_token() -> None:
    with OpenAIServer(require_api_key="sk-test") as server:
        assert _answer(server.base_url, api_key="sk-test") == ANSWER


@pytest.mark.parametrize("api_key", [None, "sk-wrong"])
def test_a_401_from_a_server_requiring_a_key_becomes_a_generation_error(
    api_key: str | None,
) -> None:
    expected = r"answered 401 Unauthorized: .*Incorrect API key"
    with (
        OpenAIServer(require_api_key="sk-test") as server,
        pytest.raises(GenerationError, match=expected),
    ):
        _answer(server.base_url, api_key=api_key)


def test_a_503_becomes_a_generation_error_with_the_status_and_body() -> None:
    expected = r"answered 503 Service Unavailable: .*overloaded"
    with (
        OpenAIServer(fail_with_status=503) as server,
        pytest.raises(GenerationError, match=expected),
    ):
        _answer(server.base_url)


@pytest.mark.parametrize(
    ("break_with", "message"),
    [
        ("eof", r"ended before 'data: \[DONE\]'"),
        ("reset", "broke"),
        ("garbage", "malformed JSON chunk"),
        ("error", "reported an error mid-stream: The model crashed"),
    ],
)
def test_a_stream_broken_mid_answer_is_an_error_not_a_short_answer(
    break_with: BreakWith, message: str
) -> None:
    with OpenAIServer(break_after_tokens=3, break_with=break_with) as server:
        pieces, error = _pieces_until_error(server.base_url)
    assert pieces == ANSWER[:3]
    assert re.search(message, str(error)), str(error)


def test_comments_blank_lines_and_crlf_line_ends_are_tolerated() -> None:
    with OpenAIServer(crlf=True, comments=True) as server:
        assert _answer(server.base_url) == ANSWER


def test_line_separators_inside_a_piece_do_not_split_its_chunk() -> None:
    # U+2028 and U+0085 are line breaks to str.splitlines but not to SSE, and raw-UTF-8 JSON
    # leaves them unescaped inside strings.
    passage = Passage("odd", 0, "Alpha\u2028beta\x85gamma delta. Rest.", 1.0)
    with OpenAIServer() as server:
        assert _answer(server.base_url, [passage]) == [
            "Alpha\u2028",
            "beta\x85",
            "gamma ",
            "delta.",
        ]


def test_no_passages_lets_the_model_say_it_does_not_know() -> None:
    with OpenAIServer() as server:
        assert "".join(_answer(server.base_url, [])) == "I don't know."
        assert "(no passages)" in server.last_body["messages"][1]["content"]


@pytest.mark.parametrize(
    "base_url",
    [
        "http://10.0.0.1/v1",
        "http://example.com/v1",
        "http://127.0.0.1.example.com/v1",
        "http://[::ffff:127.0.0.1]/v1",
        "ftp://127.0.0.1/v1",
        "127.0.0.1:8000/v1",
    ],
)
def test_a_base_url_off_loopback_is_refused(base_url: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        OpenAIGenerator(base_url, "test-model")


@pytest.mark.parametrize("base_url", ["http://localhost:1/v1", "http://127.4.5.6:1/v1/"])
def test_a_loopback_base_url_is_accepted(base_url: str) -> None:
    generator = OpenAIGenerator(base_url, "test-model")
    asyncio.run(generator.aclose())


def test_nothing_listening_is_a_connect_error() -> None:
    with socket.socket() as bound:  # bound, never listening: the port refuses, and stays ours
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        with pytest.raises(GenerationError, match=r"cannot connect to http://127\.0\.0\.1"):
            _answer(f"http://127.0.0.1:{port}/v1", timeout_s=5.0)


def test_an_upstream_silent_past_the_timeout_is_a_generation_error() -> None:
    expected = r"timed out \(ReadTimeout"
    with OpenAIServer(token_delay_s=1.0) as server, pytest.raises(GenerationError, match=expected):
        _answer(server.base_url, timeout_s=0.2)


def test_a_client_passed_in_is_used_and_left_open() -> None:
    async def run(base_url: str) -> tuple[list[str], bool]:
        async with httpx.AsyncClient(trust_env=False) as client:
            generator = OpenAIGenerator(base_url, "test-model", client=client)
            pieces = [piece async for piece in generator.stream("q", PASSAGES)]
            await generator.aclose()
            return pieces, client.is_closed

    with OpenAIServer() as server:
        assert asyncio.run(run(server.base_url)) == (ANSWER, False)


def test_closing_the_generator_after_two_pieces_stops_the_upstream() -> None:
    async def read_two_then_close(server: OpenAIServer) -> list[str]:
        generator = OpenAIGenerator(server.base_url, "test-model")
        try:
            stream = generator.stream("q", [LONG])
            pieces = [await anext(stream), await anext(stream)]
            await stream.aclose()
            await _assert_stops_early(server, sent_at_close=server.tokens_sent)
            return pieces
        finally:
            await generator.aclose()

    with OpenAIServer(token_delay_s=0.05) as server:
        assert asyncio.run(read_two_then_close(server)) == ["word0 ", "word1 "]


def test_cancelling_the_consuming_task_closes_the_upstream() -> None:
    async def consume(generator: OpenAIGenerator, got_two: asyncio.Event) -> None:
        pieces = 0
        async for _ in generator.stream("q", [LONG]):
            pieces += 1
            if pieces == 2:
                got_two.set()

    async def cancel_after_two(server: OpenAIServer) -> None:
        generator, got_two = OpenAIGenerator(server.base_url, "test-model"), asyncio.Event()
        try:
            task = asyncio.create_task(consume(generator, got_two))
            await got_two.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await _assert_stops_early(server, sent_at_close=server.tokens_sent)
        finally:
            await generator.aclose()

    with OpenAIServer(token_delay_s=0.05) as server:
        asyncio.run(cancel_after_two(server))


async def _assert_stops_early(server: OpenAIServer, sent_at_close: int) -> None:
    """The server sees the disconnect, wastes at most one piece on it, and had >= 10 left.

    Called while the generator's HTTP client is still open: closing the client closes every
    connection, which would hide a generator that leaves its own response open."""
    deadline = time.monotonic() + _WAIT_S
    while server.streams_ended < 1:
        assert time.monotonic() < deadline, f"the server's stream did not end in {_WAIT_S} s"
        await asyncio.sleep(0.01)
    assert server.disconnects == 1, "the stream ran to its end: nobody closed it"
    assert server.tokens_after_disconnect <= 1
    assert server.tokens_sent - sent_at_close <= 1  # what it sent after our socket closed
    assert len(LONG_WORDS) - server.tokens_sent >= 10

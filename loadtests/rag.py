"""Closed-model load on the rag stack, for capacity tests with the plain Locust CLI::

    locust -f loadtests/rag.py --headless -u 4 -r 4 -t 20s -H http://127.0.0.1:8080/rag

``RagAsker`` streams answers to the labelled corpus questions (time to first token and every
inter-token gap measured, a broken stream resumed up to four times); ``RagIngester`` ingests
numbered documents. Both send what the harness's open-model pacer sends
(``gameday.load.rag_workload``) and judge answers the same way. With ``GAMEDAY_RUN_DIR`` set,
every request is also recorded there as a ``RequestRecord`` (``requests-locust-<pid>.csv``;
scheduled = start in a closed model), recall and exact match included.
``GAMEDAY_RAG_DOCUMENTS`` (default 400) is the base corpus the stack was seeded with.
"""

from __future__ import annotations

import itertools
import os
import time
from typing import Any

from locust import FastHttpUser, constant, task

from gameday.load.answers import ask_streamed
from gameday.load.locust_hooks import record_into_run_dir
from gameday.load.payloads import endpoint_for
from gameday.load.plan import join_url
from gameday.load.rag_workload import RagWorkload

__all__ = ["RagAsker", "RagIngester"]

_DOCUMENTS = int(os.environ.get("GAMEDAY_RAG_DOCUMENTS", "400"))
_K = 5
_RUN_KEY = f"locust-{os.getpid()}"
_ORDER = itertools.count()  # users of this process take turns through the same sequence


class _RagUser(FastHttpUser):
    abstract = True
    wait_time = constant(0)
    endpoint = "ask"

    def on_start(self) -> None:
        self._workload = RagWorkload(self.endpoint, run_key=_RUN_KEY, documents=_DOCUMENTS,
                                     k=_K, seed=7)
        self._target = endpoint_for("rag", self.endpoint)
        self._url = join_url(self.host or "", self._target.path)  # keeps a /rag prefix
        self._headers = {"Content-Type": "application/json"}
        self._started_s = time.time()

    def _next(self) -> tuple[Any, dict[str, Any]]:
        request = self._workload.request(next(_ORDER), time.time() - self._started_s)
        context: dict[str, Any] = {"stack": "rag", "endpoint": self.endpoint}
        if request.seq is not None:
            context["seq"] = request.seq
        return request, context


class RagAsker(_RagUser):
    """Asks a labelled question as soon as the previous answer has streamed to its end."""

    endpoint = "ask"

    @task
    def ask(self) -> None:
        request, context = self._next()
        ask_streamed(self.client, self._url, request.body, self._headers, context,
                     request.question, _K, name=self._target.path)


class RagIngester(_RagUser):
    """Ingests the next numbered document as soon as the previous one was acknowledged."""

    endpoint = "ingest"
    weight = 1

    @task
    def ingest(self) -> None:
        request, context = self._next()
        with self.client.request("POST", self._url, name=self._target.path,
                                 data=request.body,  # type: ignore[arg-type]
                                 headers=self._headers, context=context,
                                 catch_response=True) as response:
            ok, error_kind = self._target.check(response.status_code, response.content or b"")
            if ok:
                response.success()
            else:
                response.failure(f"{error_kind} (status {response.status_code})")


record_into_run_dir()

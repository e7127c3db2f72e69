"""Closed-model load on the tabular stack, for capacity tests with the plain Locust CLI::

    locust -f loadtests/tabular.py --headless -u 10 -r 10 -t 10s -H http://127.0.0.1:8080/tabular

Each user posts the same seeded transactions the open-model pacer sends and judges the answer
with the same check. With ``GAMEDAY_RUN_DIR`` set, every request is also recorded there as a
``RequestRecord`` (``requests-locust-<pid>.csv``; scheduled = start in a closed model).
"""

from __future__ import annotations

import itertools

from locust import FastHttpUser, constant, task

from gameday.load.locust_hooks import record_into_run_dir
from gameday.load.payloads import endpoint_for, make_bodies
from gameday.load.plan import join_url

__all__ = ["TabularUser"]

_STACK, _ENDPOINT = "tabular", "predict"
_PREDICT = endpoint_for(_STACK, _ENDPOINT)
_BODIES = make_bodies(_PREDICT, 4096, seed=7)


class TabularUser(FastHttpUser):
    """Posts a fraud-check transaction as soon as the previous answer came back."""

    wait_time = constant(0)

    def on_start(self) -> None:
        offset = id(self) % len(_BODIES)  # users start at different transactions
        self._bodies = itertools.cycle(_BODIES[offset:] + _BODIES[:offset])
        self._url = join_url(self.host or "", _PREDICT.path)  # keeps a /tabular prefix
        self._headers = {"Content-Type": _PREDICT.content_type}
        self._context = {"stack": _STACK, "endpoint": _ENDPOINT}

    @task
    def predict(self) -> None:
        with self.client.request(_PREDICT.method, self._url, name=_PREDICT.path,
                                 data=next(self._bodies),  # type: ignore[arg-type]
                                 headers=self._headers,
                                 context=self._context, catch_response=True) as response:
            status = response.status_code
            if status == 0 or status >= 400:
                return  # Locust fails it with the transport error or the HTTP status
            ok, error_kind = _PREDICT.check(status, response.content or b"")
            if ok:
                response.success()
            else:
                response.failure(f"{error_kind} (status {status})")


record_into_run_dir()

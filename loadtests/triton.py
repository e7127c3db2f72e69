"""Load on the triton stack through NVIDIA's own client (tritonclient), for the plain Locust CLI::

    locust -f loadtests/triton.py --headless -u 10 -r 10 -t 10s \\
        -H http://127.0.0.1:8080/triton TritonHttpUser
    locust -f loadtests/triton.py --headless -u 10 -r 10 -t 10s \\
        -H grpc://127.0.0.1:18301 TritonGrpcUser
    GAMEDAY_TRITON_RATE_PER_S=200 locust -f loadtests/triton.py --headless -u 1 -r 1 -t 30s \\
        -H http://127.0.0.1:8080/triton TritonOpenModelUser

Name the user class: each needs its own kind of host. ``TritonHttpUser`` and
``TritonOpenModelUser`` take an HTTP URL, through the edge (``/triton`` prefix kept) or a
server's HTTP port. ``TritonGrpcUser`` takes ``grpc://host:port``, a server's gRPC port: the
edge carries HTTP only, so a gRPC run aims at one region and its records have region "".

Every request sends one of the seeded transactions the harness sends (``payloads``, seed 7,
the tabular stack's input), FP32 [1, 7] as binary tensor data, and is judged by
``gameday.load.triton_outcome``: a score in [0, 1], ``model_version`` from the answer, errors
as the same kinds as elsewhere (the gRPC mapping is documented there). The region is the
edge's ``X-Served-By-Region``: tritonclient's ``InferResult`` drops the HTTP response, so the
client keeps each answer's status and region for the greenlet that asked
(``_RegionKeepingClient``).

``TritonOpenModelUser`` (one per process, whatever ``-u`` says) sends at the times of the
harness's open-model schedule (``plan.schedule``: Poisson, seed 7) for Locust's run time, one
greenlet per request, so a slow answer does not delay the next send; at most
``GAMEDAY_TRITON_CONCURRENCY`` (default 64) are in flight, and a send that finds them all
busy waits and starts late. Its records' ``scheduled_s`` is the scheduled time, so lateness
shows. ``GAMEDAY_TRITON_RATE_PER_S`` (default 50) sets the rate; without ``-t`` the schedule
lasts an hour. ``GAMEDAY_TRITON_TIMEOUT_S`` (default 2) bounds each request.

With ``GAMEDAY_RUN_DIR`` set every request is recorded there as a ``RequestRecord``
(``requests-locust-<pid>.csv``; closed model: scheduled = start).
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import gevent
import gevent.local
import gevent.pool
import grpc.experimental.gevent as grpc_gevent
import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from locust import User, constant, task

from gameday.errors import LoadError
from gameday.load.locust_hooks import record_into_run_dir
from gameday.load.payloads import REGION_HEADER, endpoint_for, make_bodies
from gameday.load.plan import LoadPlan, schedule
from gameday.load.recorder import OUTCOME_CONTEXT_KEY, JudgedOutcome
from gameday.load.triton_outcome import RequestFailed, answered, grpc_failed, http_failed

__all__ = ["TritonGrpcUser", "TritonHttpUser", "TritonOpenModelUser"]

# gRPC's C core blocks the whole process unless it runs its I/O on gevent (4 users on one
# server: 296 req/s without, 962 with); this must come before the first channel, and the
# locustfile is imported before any user starts.
grpc_gevent.init_gevent()

_STACK, _ENDPOINT = "triton", "infer"
_INFER = endpoint_for(_STACK, _ENDPOINT)
_MODEL, _INPUT, _OUTPUT = "fraud", "features", "fraud_score"
_GRPC_NAME = "/inference.GRPCInferenceService/ModelInfer"
_NO_RUN_TIME_S = 3600.0
_GRPC_CLOSE_S = 0.2


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise LoadError(f"{name}={raw!r}: expected a number") from None
    if not value > 0:
        raise LoadError(f"{name}={raw!r}: expected a number > 0")
    return value


_RATE_PER_S = _env_number("GAMEDAY_TRITON_RATE_PER_S", 50.0)
_CONCURRENCY = int(_env_number("GAMEDAY_TRITON_CONCURRENCY", 64))
_TIMEOUT_S = _env_number("GAMEDAY_TRITON_TIMEOUT_S", 2.0)


@functools.cache
def _rows() -> list[np.ndarray]:
    """The harness's seeded transactions (the JSON bodies it posts) as FP32 [1, 7] arrays."""
    bodies = make_bodies(_INFER, 4096, seed=7)
    return [np.asarray(json.loads(body)["inputs"][0]["data"], dtype=np.float32).reshape(1, 7)
            for body in bodies]


@functools.cache
def _inputs(protocol: Any) -> list[list[Any]]:
    """One ready ``InferInput`` list per transaction (read-only, shared by the users)."""
    prepared = []
    for row in _rows():
        features = protocol.InferInput(_INPUT, list(row.shape), "FP32")
        features.set_data_from_numpy(row)  # binary tensor data (tritonclient's default)
        prepared.append([features])
    return prepared


def _cycle_from(items: list[Any], offset: int) -> Iterator[Any]:
    offset %= len(items)  # users start at different transactions
    return itertools.cycle(items[offset:] + items[:offset])


class _LastAnswer(gevent.local.local):  # type: ignore[misc]
    status: int = 0
    region: str = ""
    length: int = 0


class _RegionKeepingClient(httpclient.InferenceServerClient):  # type: ignore[misc]
    """tritonclient's HTTP client, keeping each answer's status, region and length per greenlet:
    ``InferResult`` drops the response, and every request passes through ``_post``."""

    def __init__(self, url: str, **settings: Any) -> None:
        super().__init__(url, **settings)
        self.last = _LastAnswer()

    def _post(self, request_uri: str, request_body: Any, headers: Any,
              query_params: Any) -> Any:
        last = self.last
        last.status, last.region, last.length = 0, "", 0
        response = super()._post(request_uri, request_body, headers, query_params)
        region = response.get(REGION_HEADER)
        last.status, last.length = response.status_code, response.content_length or 0
        last.region = region if isinstance(region, str) else ""
        return response


def _http_url(host: str) -> tuple[str, bool]:
    """tritonclient's ``host:port/base-path`` (no scheme) and whether it is https."""
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise LoadError(f"host {host!r}: expected http(s)://host:port[/prefix]")
    return parts.netloc + parts.path.rstrip("/"), parts.scheme == "https"


def _grpc_url(host: str) -> str:
    parts = urlsplit(host)
    if parts.scheme != "grpc" or not parts.netloc or parts.path.strip("/"):
        raise LoadError(f"host {host!r}: expected grpc://host:port, a Triton server's gRPC port "
                        "(the edge carries HTTP only)")
    return parts.netloc


class _TritonUser(User):
    abstract = True
    wait_time = constant(0)
    request_type, request_name = "HTTP", _INFER.path

    def on_start(self) -> None:
        self._context: dict[str, Any] = {"stack": _STACK, "endpoint": _ENDPOINT}

    def _call(self, inputs: list[Any]) -> tuple[JudgedOutcome, int]:
        """Send one request; its outcome and answer length. Raises what the client raises."""
        raise NotImplementedError

    def _failed(self, error: Exception) -> JudgedOutcome:
        raise NotImplementedError

    def _infer(self, inputs: list[Any], context: dict[str, Any]) -> None:
        """One request, reported to Locust (and so recorded) as an ``events.request``."""
        start_s, started = time.time(), time.perf_counter()
        length, detail = 0, f"{_OUTPUT}: not one score in [0, 1] per row"
        try:
            outcome, length = self._call(inputs)
        except Exception as error:  # GreenletExit (a stop) is no Exception and goes through
            outcome, detail = self._failed(error), str(error) or type(error).__name__
        exception = None if outcome.ok else RequestFailed(outcome, detail)
        self.environment.events.request.fire(
            request_type=self.request_type, name=self.request_name, start_time=start_s,
            response_time=(time.perf_counter() - started) * 1000.0, response_length=length,
            response=None, exception=exception,
            context={**context, OUTCOME_CONTEXT_KEY: outcome})


class _TritonHttpBase(_TritonUser):
    abstract = True
    concurrency = 1  # connections in this user's pool

    def on_start(self) -> None:
        super().on_start()
        url, ssl = _http_url(self.host or "")
        self.client = _RegionKeepingClient(url, ssl=ssl, concurrency=self.concurrency,
                                           connection_timeout=_TIMEOUT_S,
                                           network_timeout=_TIMEOUT_S)
        self._inputs = _cycle_from(_inputs(httpclient), id(self))
        self._outputs = [httpclient.InferRequestedOutput(_OUTPUT, binary_data=True)]

    def on_stop(self) -> None:
        self.client.close()

    def _call(self, inputs: list[Any]) -> tuple[JudgedOutcome, int]:
        result = self.client.infer(_MODEL, inputs, outputs=self._outputs)
        version = str(result.get_response().get("model_version", ""))
        last = self.client.last
        return answered(result.as_numpy(_OUTPUT), 1, version, last.region), last.length

    def _failed(self, error: Exception) -> JudgedOutcome:
        return http_failed(error, self.client.last.status, self.client.last.region)


class TritonHttpUser(_TritonHttpBase):
    """Sends a transaction through ``tritonclient.http`` as soon as the previous answer came."""

    @task
    def infer(self) -> None:
        self._infer(next(self._inputs), self._context)


class TritonGrpcUser(_TritonUser):
    """Sends a transaction through ``tritonclient.grpc`` as soon as the previous answer came."""

    request_type, request_name = "gRPC", _GRPC_NAME
    _calling: gevent.Greenlet[Any, None] | None = None  # the request in flight

    def on_start(self) -> None:
        super().on_start()
        self.client = grpcclient.InferenceServerClient(_grpc_url(self.host or ""))
        self._inputs = _cycle_from(_inputs(grpcclient), id(self))
        self._outputs = [grpcclient.InferRequestedOutput(_OUTPUT)]

    def on_stop(self) -> None:
        if self._calling is not None:
            self._calling.join(timeout=_TIMEOUT_S + 1.0)
        self.client.close()
        # the channel's teardown finishes on the gevent loop: a gevent script that exits right
        # after close() hung at exit in 4 of 8 runs, with this pause in none of 10
        gevent.sleep(_GRPC_CLOSE_S)

    @task
    def infer(self) -> None:
        # A stop kills this user's greenlet. Killed inside the gRPC core (whose I/O runs on
        # greenlets) it can leave a lock held, and the interpreter then hangs at exit: the
        # call gets a greenlet of its own, which a stop waits for.
        self._calling = gevent.spawn(self._infer, next(self._inputs), self._context)
        self._calling.join()

    def _call(self, inputs: list[Any]) -> tuple[JudgedOutcome, int]:
        result = self.client.infer(_MODEL, inputs, outputs=self._outputs,
                                   client_timeout=_TIMEOUT_S)
        response = result.get_response()
        return answered(result.as_numpy(_OUTPUT), 1, response.model_version), response.ByteSize()

    def _failed(self, error: Exception) -> JudgedOutcome:
        return grpc_failed(error)


class TritonOpenModelUser(_TritonHttpBase):
    """Sends at the open-model schedule's times, one greenlet per request, bounded."""

    fixed_count = 1  # one schedule per process: more users would multiply the rate
    concurrency = _CONCURRENCY

    def on_start(self) -> None:
        super().on_start()
        options = self.environment.parsed_options
        run_time_s = float(getattr(options, "run_time", 0) or _NO_RUN_TIME_S)
        self._plan = LoadPlan(base_url=self.host or "", stack=_STACK, endpoint=_ENDPOINT,
                              rate_per_s=_RATE_PER_S, duration_s=run_time_s, warmup_s=0.0,
                              timeout_s=_TIMEOUT_S, concurrency=_CONCURRENCY, seed=7)
        self._in_flight = gevent.pool.Pool(_CONCURRENCY)

    def on_stop(self) -> None:
        # a stop kills this user's greenlet; the answers in flight get their timeout to come
        self._in_flight.join(timeout=_TIMEOUT_S)
        self._in_flight.kill(block=True, timeout=1.0)
        super().on_stop()

    @task
    def pace(self) -> None:
        for scheduled_s in schedule(self._plan, time.time()).tolist():
            delay_s = scheduled_s - time.time()
            if delay_s > 0:
                gevent.sleep(delay_s)
            # blocks while all of the pool's requests are in flight: that send starts late
            self._in_flight.spawn(self._send, scheduled_s)
        self._in_flight.join()
        gevent.sleep(_NO_RUN_TIME_S)  # the schedule is over: wait for Locust to stop the run

    def _send(self, scheduled_s: float) -> None:
        self._infer(next(self._inputs), {**self._context, "scheduled_s": scheduled_s})


record_into_run_dir()

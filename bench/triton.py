"""Benchmark: the triton stack (Triton's Python backend, on this machine's CPUs) beside the
tabular FastAPI service and beside NVIDIA's own client, every figure measured in this run.

1. serving: one closed-loop asyncio client (aiohttp), the same seeded transactions, 1, 8 and 32
   requests in flight: the tabular service's ``/predict`` vs Triton's KServe v2 JSON
   ``/v2/models/fraud/infer``, and Triton through ``tritonclient.grpc.aio``; requests/s,
   p50/p99, the batch Triton executed (its ``/metrics``), CPU of client and server (psutil);
2. clients at 64 in flight on the same Triton server: the harness's HTTP path (the pacer's
   Locust ``FastHttpSession`` and its recorder, a closed loop in a Locust-gevent child) vs the
   reference, ``tritonclient.grpc.aio``, and vs aiohttp on the harness's own endpoint;
3. start-to-ready: ``targets/triton/start.sh`` spawned -> ``/v2/health/ready`` 200 -> the first
   inference answered, median of 3.

Servers start as the platform starts them (``start.sh`` with its environment and the rendered
``config.pbtxt``; the tabular stack's uvicorn argv and environment), on 127.0.0.1 ports
28420-28439, and are always stopped. Run alone: ``python bench/triton.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import psutil

from gameday.load.payloads import endpoint_for, make_bodies
from gameday.platforms.local.gpu import uses_gpu
from gameday.stack_options import TritonOptions
from gameday.tritonrecords import TritonSample, parse_triton_metrics

__all__ = ["CpuSeconds", "batch_figures", "cell_figures", "limiting_resource", "main"]

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
TRITON_PORT = 28420  # HTTP; gRPC and metrics on the next two
START_PORT = 28430  # the start-to-ready rounds' own servers (HTTP, gRPC, metrics)
TABULAR_PORT = 28425
SEED, BODIES, TIMEOUT_S = 7, 4096, 5.0
MAX_REQUESTS = 5_000_000  # per cell: the loops end on the clock, this bounds them by count
BUSY = 0.85  # of a core (one process) or of the machine: that CPU is what limits
OPTIONS = TritonOptions()  # the stack's defaults, as a suite without a triton section gets them
INFER = "/v2/models/fraud/infer"


@dataclass(frozen=True)
class Plan:
    in_flight: tuple[int, ...] = (1, 8, 32)
    warmup_s: float = 1.0
    measure_s: float = 6.0
    clients_in_flight: int = 64
    start_rounds: int = 3


_QUICK = Plan(in_flight=(1, 32), warmup_s=0.5, measure_s=2.5, start_rounds=1)


@dataclass(frozen=True)
class CpuSeconds:
    """CPU seconds (user + system) spent over a window: this process (the client), the
    server's processes by name, and the whole machine (everyone's work, others' included)."""

    client_s: float
    server_s: dict[str, float]
    machine_s: float

    def since(self, before: CpuSeconds) -> CpuSeconds:
        return CpuSeconds(self.client_s - before.client_s,
                          {name: s - before.server_s.get(name, 0.0)
                           for name, s in self.server_s.items()},
                          self.machine_s - before.machine_s)


def limiting_resource(machine_cores: float, client_cores: float, server_busiest_cores: float,
                      cores: int, instance_busy: float = 0.0) -> str:
    """What bounds a closed loop, from what was busy over its window: the machine's cores
    (client, server and other work together), the client's one thread, the server's busiest
    process, the model instance (executing back to back), or nothing (latency: too few
    requests in flight for the time each takes)."""
    if machine_cores >= BUSY * cores:
        return "machine CPU"
    if client_cores >= BUSY:
        return "client CPU"
    if server_busiest_cores >= BUSY:
        return "server CPU"
    if instance_busy >= BUSY:
        return "model instance"
    return "latency"


def cell_figures(latencies_s: list[float], failures: int, window_s: float,
                 cpu: CpuSeconds, instance_busy: float = 0.0) -> dict[str, Any]:
    """One closed-loop cell from the requests answered in its window and the CPU spent in it;
    ``instance_busy``: the share of the window Triton's model instance was executing."""
    latencies_ms = np.array(latencies_s or [np.nan]) * 1e3
    answered, cores = len(latencies_s), os.cpu_count() or 1
    server_s = sum(cpu.server_s.values())
    client_cores, server_cores = cpu.client_s / window_s, server_s / window_s
    machine_cores = cpu.machine_s / window_s
    busiest = max(cpu.server_s.values(), default=0.0) / window_s
    return {"req_per_s": (answered - failures) / window_s, "answered": answered,
            "failures": failures, "p50_ms": float(np.percentile(latencies_ms, 50)),
            "p99_ms": float(np.percentile(latencies_ms, 99)),
            "client_cpu_cores": client_cores, "server_cpu_cores": server_cores,
            "server_cpu_cores_by_process": {name: s / window_s
                                            for name, s in sorted(cpu.server_s.items())},
            "other_cpu_cores": max(0.0, machine_cores - client_cores - server_cores),
            "machine_cpu_cores": machine_cores,
            "client_cpu_us_per_req": 1e6 * cpu.client_s / max(1, answered),
            "server_cpu_us_per_req": 1e6 * server_s / max(1, answered),
            "limit": limiting_resource(machine_cores, client_cores, busiest, cores,
                                       instance_busy)}


def batch_figures(before: TritonSample, after: TritonSample,
                  req_per_s: float) -> dict[str, Any]:
    """What Triton's scheduler did between two scrapes: rows per execution (the batch it
    formed), the mean time a request queued and was computed (its batch's execution: Triton
    charges it to every request of the batch), and from those and ``req_per_s`` the share of
    the time one model instance was executing."""
    rows = after.inference_count - before.inference_count
    executions = after.exec_count - before.exec_count
    requests = after.request_success - before.request_success
    if not executions or not requests:
        return {"inferences": rows, "executions": executions, "avg_batch": None,
                "queue_us_per_request": None, "compute_us_per_request": None,
                "instance_busy": 0.0}
    compute_us = (after.compute_infer_us - before.compute_infer_us) / requests
    return {"inferences": rows, "executions": executions, "avg_batch": rows / executions,
            "queue_us_per_request": (after.queue_us - before.queue_us) / requests,
            "compute_us_per_request": compute_us,
            "instance_busy": req_per_s * executions / rows * compute_us / 1e6
            / OPTIONS.instances}


# -- processes -------------------------------------------------------------------------------

@dataclass
class Server:
    """A server started here in its own process group; ``process`` is the server itself
    (start.sh execs tritonserver; the model's stubs are its children)."""

    process: subprocess.Popen[bytes]
    log: Path
    spawned_s: float  # perf_counter just before the spawn

    def wait_ok(self, url: str, body: bytes | None = None, timeout_s: float = 90) -> float:
        """Poll until ``url`` answers 200 (POST ``body`` if given); perf_counter then."""
        deadline_s = time.perf_counter() + timeout_s
        while time.perf_counter() < deadline_s:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.log.name}: the server exited "
                                   f"{self.process.returncode}: {self._tail()}")
            if _status(url, body) == 200:
                return time.perf_counter()
            time.sleep(0.02)
        raise RuntimeError(f"{url} not 200 within {timeout_s:g} s: {self._tail()}")

    def _tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:]


@contextlib.contextmanager
def _running(argv: list[str], env: dict[str, str], log: Path) -> Iterator[Server]:
    spawned_s = time.perf_counter()
    with log.open("ab") as sink:
        process = subprocess.Popen(argv, cwd=REPO, env=env, stdout=sink,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield Server(process, log, spawned_s)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _status(url: str, body: bytes | None = None) -> int:
    request = urllib.request.Request(url, data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=1.0) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def _triton(data: Path, port: int) -> contextlib.AbstractContextManager[Server]:
    """``start.sh`` with the stack's environment and a repository in ``data``, as
    ``targets/triton/stack.yaml`` renders them for a member."""
    versions, model_env = REPO / "artifacts" / "triton" / "fraud", REPO / ".venv-triton"
    if not (versions / "1" / "weights.npz").is_file() or not (model_env / "bin").is_dir():
        raise RuntimeError("no Triton model versions or model environment: run make setup")
    settings = {"triton": OPTIONS.model_dump(mode="json")}
    template = (REPO / "targets" / "triton" / "config.pbtxt.tmpl").read_text()
    config = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(template).render(
        settings=settings, gpu=uses_gpu(settings), repo=str(REPO))
    (data / "models" / "fraud").mkdir(parents=True, exist_ok=True)
    (data / "models" / "fraud" / "config.pbtxt").write_text(config)
    site = sysconfig.get_paths()["purelib"]
    env = {**os.environ, "DATA": str(data), "MODEL": "fraud", "VERSIONS": str(versions),
           "CONTROL": str(data / "control"), "GAMEDAY_TRITON_CONTROL": str(data / "control"),
           "PYTHON": sys.executable, "SITE": site, "ADDRESS": HOST, "HTTP_PORT": str(port),
           "GRPC_PORT": str(port + 1), "METRICS_PORT": str(port + 2)}
    return _running(["/bin/sh", str(REPO / "targets" / "triton" / "start.sh")], env,
                    data / "server.log")


def _tabular(log: Path) -> contextlib.AbstractContextManager[Server]:
    """One replica with ``targets/tabular/stack.yaml``'s argv and environment."""
    artifacts = REPO / "artifacts"
    env = {**os.environ, "GAMEDAY_REGION": "region-a", "GAMEDAY_REPLICA": "tabular-a1",
           "GAMEDAY_MODEL_URI": "models:/fraud@champion", "GAMEDAY_MODEL_HOME": str(artifacts),
           "MLFLOW_TRACKING_URI": f"sqlite:///{artifacts}/mlflow/mlflow.db",
           "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}
    return _running([sys.executable, "-m", "uvicorn", "targets.tabular.app:app", "--host", HOST,
                     "--port", str(TABULAR_PORT), "--no-access-log", "--log-level", "warning"],
                    env, log)


def _tree_cpu_s(pid: int) -> dict[str, float]:
    """CPU seconds (user + system) of a process and its descendants, by process name."""
    by_name: dict[str, float] = {}
    root = psutil.Process(pid)
    for process in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            by_name[process.name()] = by_name.get(process.name(), 0.0) + times.user + times.system
    return by_name


def _cpu_now(server_pid: int) -> CpuSeconds:
    machine = psutil.cpu_times()
    idle_s = machine.idle + getattr(machine, "iowait", 0.0)
    return CpuSeconds(time.process_time(), _tree_cpu_s(server_pid),
                      sum(machine) - idle_s - getattr(machine, "guest", 0.0)
                      - getattr(machine, "guest_nice", 0.0))  # guest time is in user already


def _scrape(metrics_url: str, served: int, timeout_s: float = 4.0) -> TritonSample:
    """The served version's counters once they count ``served`` inferences (Triton refreshes
    its metrics every second); the last scrape if they never do."""
    deadline_s = time.monotonic() + timeout_s
    while True:
        with urllib.request.urlopen(metrics_url, timeout=2.0) as answer:
            text = answer.read().decode()
        (sample,) = [s for s in parse_triton_metrics(text, t_s=time.time(), member="bench",
                                                     region="")
                     if s.model == "fraud" and s.version == str(OPTIONS.version)]
        if sample.inference_count >= served or time.monotonic() > deadline_s:
            return sample
        time.sleep(0.1)


# -- closed loops ----------------------------------------------------------------------------

Send = Callable[[int], Awaitable[bool]]


@dataclass(frozen=True)
class _Measured:
    """What one closed loop measured in its window; ``extra`` goes into its figures as is."""

    latencies_s: list[float]
    failures: int
    window_s: float
    cpu: CpuSeconds
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def req_per_s(self) -> float:
        return (len(self.latencies_s) - self.failures) / self.window_s

    def figures(self, instance_busy: float = 0.0) -> dict[str, Any]:
        return {**cell_figures(self.latencies_s, self.failures, self.window_s, self.cpu,
                               instance_busy), **self.extra}


Cell = tuple[_Measured, int]  # a cell's measurement, and every ok answer (warm-up too)


@dataclass
class _Tally:
    latencies_s: list[float] = field(default_factory=list)
    failures: int = 0
    ok_total: int = 0
    measuring: bool = False


async def _closed_loop(send: Send, in_flight: int, plan: Plan, server_pid: int) -> Cell:
    """``in_flight`` tasks, each sending the next transaction as soon as its last is answered;
    measured: the requests answered in the window after the warm-up, and the CPU seconds of
    this process (the client) and of the server's process tree in that window."""
    tally, stop = _Tally(), asyncio.Event()

    async def worker(first: int) -> None:
        for index in range(first, MAX_REQUESTS, in_flight):
            if stop.is_set():
                return
            started_s = time.perf_counter()
            ok = await send(index)
            tally.ok_total += ok
            if tally.measuring:
                tally.latencies_s.append(time.perf_counter() - started_s)
                tally.failures += not ok

    tasks = [asyncio.create_task(worker(first)) for first in range(in_flight)]
    try:
        await asyncio.sleep(plan.warmup_s)
        before = _cpu_now(server_pid)
        tally.measuring = True
        await asyncio.sleep(plan.measure_s)
        tally.measuring = False
        cpu = _cpu_now(server_pid).since(before)
    finally:
        stop.set()
        _, pending = await asyncio.wait(tasks, timeout=TIMEOUT_S + 1)
        for task in pending:
            task.cancel()
    return _Measured(tally.latencies_s, tally.failures, plan.measure_s, cpu), tally.ok_total


# aiohttp and tritonclient's gRPC are imported where they are used: the harness's Locust child
# imports this module too, and must not load grpc before gevent patches the interpreter.

async def _http_cell(url: str, bodies: list[bytes], check: Callable[[int, bytes], Any],
                     in_flight: int, plan: Plan, server_pid: int) -> Cell:
    """aiohttp, one connection per request in flight, the answer judged as the harness does."""
    import aiohttp

    headers = {"Content-Type": "application/json"}

    async def send(index: int) -> bool:
        try:
            async with session.post(url, data=bodies[index % len(bodies)],
                                    headers=headers) as answer:
                ok: bool = check(answer.status, await answer.read())[0]
                return ok
        except (aiohttp.ClientError, TimeoutError):
            return False

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=in_flight),
                                     timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)) as session:
        return await _closed_loop(send, in_flight, plan, server_pid)


def _grpc_inputs(bodies: list[bytes]) -> list[Any]:
    """The same transactions as tritonclient inputs, built once (not on the hot path)."""
    from tritonclient.grpc import InferInput

    inputs = []
    for body in bodies:
        tensor = InferInput("features", [1, 7], "FP32")
        tensor.set_data_from_numpy(
            np.array([json.loads(body)["inputs"][0]["data"]], dtype=np.float32))
        inputs.append(tensor)
    return inputs


async def _grpc_cell(url: str, inputs: list[Any], in_flight: int, plan: Plan,
                     server_pid: int) -> Cell:
    """The reference client: ``tritonclient.grpc.aio``, one channel, ``in_flight`` calls."""
    from tritonclient.grpc import InferRequestedOutput
    from tritonclient.grpc.aio import InferenceServerClient
    from tritonclient.utils import InferenceServerException

    outputs = [InferRequestedOutput("fraud_score")]
    client = InferenceServerClient(url)

    async def send(index: int) -> bool:
        try:
            result = await client.infer("fraud", [inputs[index % len(inputs)]],
                                        outputs=outputs, client_timeout=TIMEOUT_S)
        except InferenceServerException:
            return False
        score = result.as_numpy("fraud_score")
        return score is not None and score.shape == (1, 1) and 0.0 <= float(score[0, 0]) <= 1.0

    try:
        return await _closed_loop(send, in_flight, plan, server_pid)
    finally:
        await client.close()


def _harness_child(url: str, in_flight: int, plan: Plan, server_pid: int,
                   run_dir: Path) -> None:
    """In a Locust-gevent child: the pacer's HTTP path (its ``FastHttpSession`` with a plan's
    settings, no cookie jar, its recorder on ``events.request``, a fresh context a request) in
    a closed loop of ``in_flight`` greenlets; prints the cell as JSON."""
    import gevent
    from gevent.event import Event
    from gevent.pool import Group
    from locust.env import Environment

    from gameday.load.pacer import PacerUser
    from gameday.load.plan import LoadPlan, join_url
    from gameday.load.recorder import RequestRecorder
    from gameday.records import RecordWriter

    environment = Environment()
    recorder = RequestRecorder(RecordWriter(run_dir / "requests-harness.csv"))
    environment.events.request.add_listener(  # type: ignore[no-untyped-call]
        recorder.on_request)
    client = PacerUser.for_plan(LoadPlan(base_url=url, stack="triton", endpoint="infer",
                                         concurrency=in_flight, timeout_s=TIMEOUT_S),
                                environment).client
    client.client.cookiejar = None
    endpoint = endpoint_for("triton", "infer")
    bodies, target = make_bodies(endpoint, BODIES, SEED), join_url(url, endpoint.path)
    headers, tally, stopping = {"Content-Type": endpoint.content_type}, _Tally(), Event()

    def worker(first: int) -> None:
        for index in range(first, MAX_REQUESTS, in_flight):
            if stopping.is_set():
                return
            started_s = time.perf_counter()
            answer = client.request("POST", target,
                                    data=bodies[index % len(bodies)],  # type: ignore[arg-type]
                                    headers=headers,
                                    context={"stack": "triton", "endpoint": "infer"})
            ok = answer.status_code == 200
            tally.ok_total += ok
            if tally.measuring:
                tally.latencies_s.append(time.perf_counter() - started_s)
                tally.failures += not ok

    group = Group()
    for first in range(in_flight):
        group.spawn(worker, first)
    gevent.sleep(plan.warmup_s)
    before = _cpu_now(server_pid)
    tally.measuring = True
    gevent.sleep(plan.measure_s)
    tally.measuring = False
    cpu = _cpu_now(server_pid).since(before)
    stopping.set()
    group.join(timeout=TIMEOUT_S + 1)
    group.kill(block=True, timeout=1.0)
    recorder.close()
    print(json.dumps({"latencies_s": tally.latencies_s, "failures": tally.failures,
                      "cpu": asdict(cpu), "recorded": recorder.recorded,
                      "recorded_ok": recorder.ok, "ok_total": tally.ok_total}))


def _harness_cell(url: str, in_flight: int, plan: Plan, server_pid: int,
                  run_dir: Path) -> Cell:
    argv = [sys.executable, str(Path(__file__).resolve()), "--harness", url,
            "--in-flight", str(in_flight), "--warmup-s", str(plan.warmup_s),
            "--measure-s", str(plan.measure_s), "--server-pid", str(server_pid),
            "--run-dir", str(run_dir)]
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=False,
                          timeout=plan.warmup_s + plan.measure_s + 60)
    if done.returncode != 0:
        raise RuntimeError(f"the harness client exited {done.returncode}: {done.stderr[-2000:]}")
    raw = json.loads(done.stdout.strip().splitlines()[-1])
    return _Measured(raw["latencies_s"], raw["failures"], plan.measure_s,
                     CpuSeconds(**raw["cpu"]),
                     {"recorded": raw["recorded"], "recorded_ok": raw["recorded_ok"]}), \
        int(raw["ok_total"])


# -- the three parts -------------------------------------------------------------------------

@dataclass
class _TritonUnderTest:
    """The server the closed loops share, and the ok answers it gave so far: what its
    counters must reach before a scrape is taken as settled."""

    server: Server
    port: int
    served: int = 0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return self.server.process.pid

    def measured(self, run: Callable[[], Cell]) -> dict[str, Any]:
        metrics_url = f"http://{HOST}:{self.port + 2}/metrics"
        before = _scrape(metrics_url, self.served)
        measured, ok_total = run()
        self.served += ok_total
        after = _scrape(metrics_url, self.served)
        batch = {**batch_figures(before, after, measured.req_per_s),
                 "counters_settled": after.inference_count >= self.served}
        return {**measured.figures(batch["instance_busy"]), "batch": batch}


@dataclass(frozen=True)
class _Workload:
    """The same seeded transactions for every client: tabular JSON, KServe v2 JSON, gRPC."""

    tabular: list[bytes]
    triton: list[bytes]
    grpc_inputs: list[Any]

    @classmethod
    def make(cls) -> _Workload:
        triton = make_bodies(endpoint_for("triton", "infer"), BODIES, SEED)
        return cls(make_bodies(endpoint_for("tabular", "predict"), BODIES, SEED), triton,
                   _grpc_inputs(triton))


def _serving_row(in_flight: int, triton: _TritonUnderTest, tabular: Server,
                 work: _Workload, plan: Plan) -> dict[str, dict[str, Any]]:
    tabular_check = endpoint_for("tabular", "predict").check
    triton_check = endpoint_for("triton", "infer").check
    row = {
        "tabular_http": asyncio.run(_http_cell(
            f"http://{HOST}:{TABULAR_PORT}/predict", work.tabular, tabular_check, in_flight,
            plan, tabular.process.pid))[0].figures(),
        "triton_http": triton.measured(lambda: asyncio.run(_http_cell(
            triton.url + INFER, work.triton, triton_check, in_flight, plan, triton.pid))),
        "triton_grpc": triton.measured(lambda: asyncio.run(_grpc_cell(
            f"{HOST}:{triton.port + 1}", work.grpc_inputs, in_flight, plan, triton.pid))),
    }
    for name, cell in row.items():
        _print_cell(f"{name} {in_flight:>3} in flight", cell)
    return row


def _clients(triton: _TritonUnderTest, work: _Workload, plan: Plan,
             run_dir: Path) -> dict[str, Any]:
    in_flight, check = plan.clients_in_flight, endpoint_for("triton", "infer").check
    cells = {
        "harness": triton.measured(lambda: _harness_cell(triton.url, in_flight, plan,
                                                         triton.pid, run_dir)),
        "reference_grpc_aio": triton.measured(lambda: asyncio.run(_grpc_cell(
            f"{HOST}:{triton.port + 1}", work.grpc_inputs, in_flight, plan, triton.pid))),
        "aiohttp_http": triton.measured(lambda: asyncio.run(_http_cell(
            triton.url + INFER, work.triton, check, in_flight, plan, triton.pid))),
    }
    for name, cell in cells.items():
        _print_cell(f"{name} {in_flight:>3} in flight", cell)
    harness, reference = cells["harness"], cells["reference_grpc_aio"]
    return {"in_flight": in_flight, **cells,
            "harness_vs_reference": harness["req_per_s"] / reference["req_per_s"],
            "harness_vs_aiohttp_http": harness["req_per_s"] / cells["aiohttp_http"]["req_per_s"],
            # what the client itself costs, whatever bounds the loop: CPU per request
            "harness_vs_reference_client_cpu_per_req":
                harness["client_cpu_us_per_req"] / reference["client_cpu_us_per_req"]}


def _start_to_ready(rounds: int, work_dir: Path) -> dict[str, Any]:
    """Spawn -> ``/v2/health/ready`` 200 -> first inference 200, a fresh server each round
    (ports moved on each round: nothing waits for the last one's sockets)."""
    probe = make_bodies(endpoint_for("triton", "infer"), 1, SEED)[0]
    ready_s, first_s = [], []
    for index in range(rounds):
        port = START_PORT + 3 * index
        with _triton(work_dir / f"start-{index}", port) as server:
            url = f"http://{HOST}:{port}"
            ready_s.append(server.wait_ok(url + "/v2/health/ready") - server.spawned_s)
            first_s.append(server.wait_ok(url + INFER, probe) - server.spawned_s)
    return {"rounds": rounds, "ready_s": statistics.median(ready_s),
            "first_inference_s": statistics.median(first_s), "ready_all_s": ready_s,
            "first_inference_all_s": first_s}


def _ratios(serving: dict[str, dict[str, dict[str, Any]]]) -> dict[str, float]:
    ratios = {}
    for n, row in serving.items():
        tabular, http, grpc = (row[k]["req_per_s"] for k in
                               ("tabular_http", "triton_http", "triton_grpc"))
        ratios[f"triton_http_vs_tabular_at_{n}"] = http / tabular
        ratios[f"triton_grpc_vs_tabular_at_{n}"] = grpc / tabular
        ratios[f"triton_grpc_vs_http_at_{n}"] = grpc / http
    return ratios


def _print_cell(label: str, cell: dict[str, Any]) -> None:
    batch = _number(cell.get("batch", {}).get("avg_batch"))
    print(f"  {label:34} {cell['req_per_s']:>7,.0f} req/s  p50 {cell['p50_ms']:6.2f} ms  "
          f"p99 {cell['p99_ms']:6.2f} ms  CPU cores client {cell['client_cpu_cores']:.2f} "
          f"server {cell['server_cpu_cores']:.2f} other {cell['other_cpu_cores']:.2f}  batch "
          f"{batch}  limit: {cell['limit']}"
          + (f"  [{cell['failures']} failed]" if cell["failures"] else ""), flush=True)


def main(quick: bool = False) -> dict[str, Any]:
    plan = _QUICK if quick else Plan()
    started_s = time.perf_counter()
    settings = {"triton": OPTIONS.model_dump(mode="json")}
    figures: dict[str, Any] = {"plan": asdict(plan), "quick": quick, "options": settings["triton"],
                               "gpu": uses_gpu(settings), "cores": os.cpu_count(),
                               "load_average_1m": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="gameday-bench-triton-") as tmp:
        work_dir = Path(tmp)
        print(f"start-to-ready, {plan.start_rounds} round(s):", flush=True)
        figures["start"] = _start_to_ready(plan.start_rounds, work_dir)
        work = _Workload.make()
        with _triton(work_dir / "server", TRITON_PORT) as server, \
                _tabular(work_dir / "tabular.log") as tabular:
            triton = _TritonUnderTest(server, TRITON_PORT)
            server.wait_ok(triton.url + INFER, work.triton[0])
            tabular.wait_ok(f"http://{HOST}:{TABULAR_PORT}/predict", work.tabular[0])
            triton.served = 1
            print("serving: one aiohttp client (and tritonclient.grpc.aio), closed loop, "
                  f"{plan.measure_s:g} s a cell:", flush=True)
            figures["serving"] = {str(n): _serving_row(n, triton, tabular, work, plan)
                                  for n in plan.in_flight}
            print("clients on the same Triton server:", flush=True)
            figures["clients"] = _clients(triton, work, plan, work_dir)
    figures["ratios"] = _ratios(figures["serving"])
    figures["elapsed_s"] = time.perf_counter() - started_s
    for line in summary_lines(figures):
        print(line)
    return figures


def summary_lines(figures: dict[str, Any]) -> list[str]:
    """The bench's figures in a few lines (also ``run_all``'s summary)."""
    top = str(max(figures["plan"]["in_flight"]))
    row, clients, start = figures["serving"][top], figures["clients"], figures["start"]
    ratios, harness = figures["ratios"], clients["harness"]
    return [
        f"{'triton / tabular at ' + top + ' in flight':34}"
        f"{ratios[f'triton_http_vs_tabular_at_{top}']:.2f}x over HTTP JSON, same client "
        f"({row['triton_http']['req_per_s']:,.0f} / {row['tabular_http']['req_per_s']:,.0f}); "
        f"gRPC {ratios[f'triton_grpc_vs_tabular_at_{top}']:.2f}x; executed batch "
        f"{_number(row['triton_http']['batch']['avg_batch'])} (HTTP) / "
        f"{_number(row['triton_grpc']['batch']['avg_batch'])} (gRPC)",
        f"{'harness client / asyncio gRPC':34}{clients['harness_vs_reference']:.2f}x at "
        f"{clients['in_flight']} in flight ({harness['req_per_s']:,.0f} / "
        f"{clients['reference_grpc_aio']['req_per_s']:,.0f} req/s; target on a GPU >= 0.9x); "
        f"/ aiohttp on its endpoint {clients['harness_vs_aiohttp_http']:.2f}x; client CPU "
        f"per request {clients['harness_vs_reference_client_cpu_per_req']:.2f}x; limit: "
        f"{harness['limit']} (cores: client {harness['client_cpu_cores']:.2f}, server "
        f"{harness['server_cpu_cores']:.2f}, other work {harness['other_cpu_cores']:.2f} "
        f"of {figures['cores']})",
        _single_request_line(figures),
        f"{'triton start-to-ready':34}{start['ready_s']:.1f} s, first inference "
        f"{start['first_inference_s']:.1f} s (median of {start['rounds']})",
    ]


def _number(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _single_request_line(figures: dict[str, Any]) -> str:
    low = str(min(figures["plan"]["in_flight"]))
    row = figures["serving"][low]
    http, tabular = row["triton_http"], row["tabular_http"]
    queue_us = http["batch"]["queue_us_per_request"]
    return (f"{'triton p50 at ' + low + ' in flight':34}{http['p50_ms']:.2f} ms vs tabular "
            f"{tabular['p50_ms']:.2f} ms; {_number(queue_us and queue_us / 1e3, 2)} ms "
            f"of it waiting for a batch (max_queue_delay_us "
            f"{figures['options']['max_queue_delay_us']})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs, rougher figures")
    parser.add_argument("--harness", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--in-flight", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--warmup-s", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--measure-s", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--server-pid", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--run-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.harness:
        _harness_child(args.harness, args.in_flight,
                       Plan(warmup_s=args.warmup_s, measure_s=args.measure_s),
                       args.server_pid, args.run_dir)
    else:
        main(quick=args.quick)

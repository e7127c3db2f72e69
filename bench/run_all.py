"""``make bench``: every benchmark in one run, each figure next to a reference measured in the
same run (ratios), and the issue's targets beside them; all figures saved as JSON.

    python bench/run_all.py [--out runs/bench-<ts>.json] [--quick]

Benchmarks, not tests: nothing here fails on a slow machine; it says what it measured.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import compare
import database
import drift
import edge
import faultproxy
import feature_lookup
import gameday_live
import load
import metrics
import rag
import release
import report
import standup
import triton

# The real Toxiproxy, measured here through one hop with wrk, 8 connections, 1 KB file.
TOXIPROXY_VS_DIRECT_THROUGHPUT = 0.31
TOXIPROXY_ADDED_P50_US = 128.0


def _verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def _report(figures: dict[str, Any]) -> list[str]:
    proxy = figures["faultproxy"]["summary"]
    loadgen = figures["load"]
    up = figures["standup"]
    built = figures["report"]
    pacer_cpu = loadgen["cpu_per_request"]["pacer_vs_plain_closed"]
    return [
        "",
        "== summary (ratios against references measured in this run) ==",
        f"fault proxy / direct throughput   {proxy['faultproxy_vs_direct_throughput']:.2f}x "
        f"(real Toxiproxy here: {TOXIPROXY_VS_DIRECT_THROUGHPUT}x) "
        f"{_verdict(proxy['faultproxy_vs_direct_throughput'] >= TOXIPROXY_VS_DIRECT_THROUGHPUT)}",
        f"fault proxy added p50             {proxy['faultproxy_added_p50_us']:.0f} us "
        f"(real Toxiproxy here: +{TOXIPROXY_ADDED_P50_US:.0f} us) "
        f"{_verdict(proxy['faultproxy_added_p50_us'] <= TOXIPROXY_ADDED_P50_US)}",
        f"fault proxy / HAProxy tcp         {proxy['faultproxy_vs_haproxy_tcp_throughput']:.2f}x "
        f"throughput; added p99 {proxy['faultproxy_added_p99_us']:.0f} us vs HAProxy "
        f"{proxy['haproxy_tcp_added_p99_us']:.0f} us",
        f"recording cost vs plain Locust    {loadgen['closed']['throughput_ratio']:.2f}x "
        f"throughput, {loadgen['closed']['cpu_ratio']:.2f}x CPU/request "
        f"{_verdict(loadgen['closed']['throughput_ratio'] <= 2.0)} (<= 2x)",
        f"schedule lag at 1,000 req/s       p50 {loadgen['lag_1k']['p50_ms']:.2f} ms, "
        f"p99 {loadgen['lag_1k']['p99_ms']:.2f} ms "
        f"{_verdict(loadgen['lag_1k']['p99_ms'] <= 5.0)} (p99 <= 5 ms)",
        f"highest rate not saturated        {loadgen['max_unsaturated_per_s']:,} req/s "
        f"{_verdict(loadgen['max_unsaturated_per_s'] >= 4000)} (>= 4,000); two local "
        f"workers {loadgen['two_workers']['max_unsaturated_per_s']:,} req/s",
        f"pacer CPU/request vs plain Locust {pacer_cpu:.2f}x {_verdict(pacer_cpu <= 1.5)} "
        "(<= 1.5x); "
        f"send lag p99 at 4,000 req/s {loadgen['lag_p99_ms_at_4k']:.2f} ms "
        f"{_verdict(loadgen['lag_p99_ms_at_4k'] <= 5.0)} (<= 5 ms)",
        f"gameday up                        {up['gameday_up_s']:.1f} s = "
        f"{up['up_vs_bare_replica']:.2f}x one bare replica ({up['bare_replica_s']:.1f} s)",
        f"report build at 1 M records       {built['build']['wall_s']:.2f} s, peak RSS "
        f"{built['build']['peak_rss_mb']:.0f} MB = {built['build_vs_read_time']:.1f}x the time and "
        f"{built['build_vs_read_rss']:.1f}x the memory of a bare pyarrow read "
        f"({built['read_reference']['wall_s']:.2f} s, {built['read_reference']['peak_rss_mb']:.0f} "
        f"MB) {_verdict(built['meets_targets'])} (<= 10 s, <= 1 GB)",
        *_database_lines(figures["database"]),
        *_rag_lines(figures["rag"]),
        *triton.summary_lines(figures["triton"]),
        *metrics.summary_lines(figures["metrics"]),
        *edge.summary_lines(figures["edge"]),
        *gameday_live.summary_lines(figures["gameday_live"]),
        *compare.summary_lines(figures["compare"]),
        *drift.summary_lines(figures["drift"]),
        *feature_lookup.summary_lines(figures["feature_lookup"]),
        *release.summary_lines(figures["release"]),
        f"load average at start             {figures['load_average_1m_at_start']:.2f} on "
        f"{os.cpu_count()} cores (other work skews every figure)",
    ]


def _database_lines(db: dict[str, Any]) -> list[str]:
    bare_s = db["bare_primary_s"]
    promote, patroni = db["failover_promote"], db["failover_patroni"]
    writes_async, writes_sync = db["writes_async"], db["writes_sync"]
    return [
        f"database up, promote / patroni    {db['up_promote_async_s']:.1f} s / "
        f"{db['up_patroni_async_s']:.1f} s = {db['up_promote_async_s'] / bare_s:.1f}x / "
        f"{db['up_patroni_async_s'] / bare_s:.1f}x one bare primary ({bare_s:.1f} s)",
        f"acked writes/s, async vs sync     {writes_async['writes_per_s']:,.0f} / "
        f"{writes_sync['writes_per_s']:,.0f} = sync at "
        f"{writes_sync['writes_per_s'] / writes_async['writes_per_s']:.2f}x async "
        f"({writes_async['connections']} connections); one connection "
        f"{db['writes_async_1conn']['writes_per_s']:,.0f} / "
        f"{db['writes_sync_1conn']['writes_per_s']:,.0f}",
        f"replication lag under that load   async p50 {writes_async['lag_bytes_p50']} B, max "
        f"{writes_async['lag_bytes_max']} B, replay lag max "
        f"{writes_async['replay_lag_s_max']} s",
        f"kill -> first write, promote      {promote['write_rto_s']:.3f} s (own probe "
        f"{promote['independent_write_rto_s']:.3f} s) "
        f"{_verdict(promote['write_rto_s'] <= 1.0)} (<= 1 s)",
        f"kill -> first write, patroni      {patroni['write_rto_s']:.3f} s (own probe "
        f"{patroni['independent_write_rto_s']:.3f} s; ttl 20 s is Patroni's floor)",
    ]


def _rag_lines(rag_figures: dict[str, Any]) -> list[str]:
    embedding, store, ratios = rag_figures["embedding"], rag_figures["store"], rag_figures["ratios"]
    fp32, int8, ingested = embedding["fp32"], embedding["int8"], rag_figures["fp32"]["ingest"]
    vectors = (f"embedded this run in {store['build_s']:.0f} s" if store["built_this_run"]
               else "embedded by an earlier run")
    recall = ", ".join(f"{variant} {rag_figures['int8'][variant]['quality']['recall_at_k']:.3f} "
                       f"vs {rag_figures['fp32'][variant]['quality']['recall_at_k']:.3f}"
                       for variant in ("vector", "hybrid"))
    return [
        f"{'rag embeddings/s, 2 threads':34}fp32 {fp32['batch64']['texts_per_s']:.0f} / int8 "
        f"{int8['batch64']['texts_per_s']:.0f} = int8 at "
        f"{ratios['embed_int8_vs_fp32_batch64']:.2f}x fp32 (requests of 64); of 4 at bulk "
        f"priority {fp32['bulk4']['texts_per_s']:.0f} / {int8['bulk4']['texts_per_s']:.0f} = "
        f"{ratios['embed_int8_vs_fp32_bulk4']:.2f}x",
        f"{'rag ingest, fp32, ' + str(ingested['clients']) + ' clients':34}"
        f"{ingested['documents_per_s']:.1f} documents/s, {ingested['chunks_per_s']:.1f} "
        f"chunks/s = {ratios['ingest_vs_embed_batch64']:.2f}x the embedder's own texts/s "
        f"(requests of 64), {ratios['ingest_vs_embed_bulk4']:.2f}x (of 4)",
        f"{'rag store':34}{rag_figures['fp32']['chunks']:,} chunks ({store['documents']:,} "
        f"documents) per dtype, vectors {vectors}; replica up and seeded in "
        f"{rag_figures['fp32']['replica_up_s']:.0f} s / "
        f"{rag_figures['int8']['replica_up_s']:.0f} s (fp32 / int8)",
        *(line for dtype in ("fp32", "int8") for line in _ask_lines(dtype, rag_figures, ratios)),
        f"{'rag int8 vs fp32':34}/ask uncached p50 vector "
        f"{ratios['int8_vs_fp32_vector_uncached_p50']:.2f}x, hybrid "
        f"{ratios['int8_vs_fp32_hybrid_uncached_p50']:.2f}x; recall@5 {recall} "
        f"(n {rag_figures['fp32']['vector']['quality']['n']})",
    ]


def _ask_lines(dtype: str, rag_figures: dict[str, Any], ratios: dict[str, float]) -> list[str]:
    """p50/p99 to the stream's done event: uncached beside the bare SQL, cached beside it."""
    uncached, cached = [], []
    for variant in ("vector", "hybrid"):
        cell = rag_figures[dtype][variant]
        miss, hit, bare = cell["uncached"]["done"], cell["cached"]["done"], cell["bare_query"]
        lost = cell["uncached"]["failed_or_degraded"]
        uncached.append(f"{variant} {miss['p50_ms']:.1f}/{miss['p99_ms']:.1f} ms = "
                        f"{ratios[f'{dtype}_{variant}_uncached_vs_bare_p50']:.0f}x/"
                        f"{ratios[f'{dtype}_{variant}_uncached_vs_bare_p99']:.0f}x the bare SQL "
                        f"({bare['p50_ms']:.2f}/{bare['p99_ms']:.2f} ms)"
                        + (f" [{lost} failed or degraded, left out]" if lost else ""))
        cached.append(f"{variant} {hit['p50_ms']:.1f}/{hit['p99_ms']:.1f} ms = "
                      f"{ratios[f'{dtype}_{variant}_cached_vs_uncached_p50']:.3f}x uncached p50")
    return [f"{f'rag /ask {dtype} uncached p50/p99':34}" + "; ".join(uncached),
            f"{f'rag /ask {dtype} cached p50/p99':34}" + "; ".join(cached)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="where to save the figures")
    parser.add_argument("--quick", action="store_true", help="shorter runs, rougher figures")
    options = parser.parse_args()
    figures: dict[str, Any] = {"load_average_1m_at_start": os.getloadavg()[0],
                               "started_at": datetime.now(UTC).isoformat(timespec="seconds")}
    started = time.monotonic()
    print("== fault proxy: one hop vs direct and HAProxy mode tcp ==", flush=True)
    figures["faultproxy"] = faultproxy.main(seconds=3.0 if options.quick else 10.0,
                                            rounds=3 if options.quick else 5)
    print("\n== load generator ==", flush=True)
    figures["load"] = load.main()
    print("\n== gameday up ==", flush=True)
    figures["standup"] = standup.main(rounds=1 if options.quick else 3)
    print("\n== report build: 1,000,000 request records ==", flush=True)
    figures["report"] = report.main(requests=1_000_000)
    print("\n== database: stand-up, writes/s sync vs async, kill -> first write ==", flush=True)
    figures["database"] = database.main()
    print("\n== rag: embeddings/s, ingest, /ask p50/p99 over 10k chunks ==", flush=True)
    figures["rag"] = rag.main(quick=options.quick)
    print("\n== triton: vs the tabular service, the harness's client vs tritonclient, "
          "start-to-ready ==", flush=True)
    figures["triton"] = triton.main(quick=options.quick)
    print("\n== metrics: scraping on vs off, autoscaler x4 step ==", flush=True)
    figures["metrics"] = metrics.run(rounds=2 if options.quick else 3)
    print("\n== edge: WAF on / off / HAProxy, cache hit vs miss, health checks under loss ==",
          flush=True)
    figures["edge"] = edge.run(quick=options.quick)
    print("\n== game-day dashboard: refresh cost at 4,000 req/s ==", flush=True)
    figures["gameday_live"] = gameday_live.main(seconds=10.0 if options.quick else 30.0)
    print("\n== gameday compare: two runs of 1 M records each ==", flush=True)
    figures["compare"] = compare.main(requests=200_000 if options.quick else 1_000_000)
    print("\n== drift: the tabular service's monitor, time to detect a shift ==", flush=True)
    figures["drift"] = drift.main(rounds=2 if options.quick else 5)
    print("\n== feature lookup: /predict with and without the Feast online store ==",
          flush=True)
    figures["feature_lookup"] = feature_lookup.main(requests=500 if options.quick else 2000)
    print("\n== releases and drift under load: suites/mlops.yaml ==", flush=True)
    figures["release"] = release.main()
    figures["elapsed_s"] = time.monotonic() - started
    for line in _report(figures):
        print(line)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = options.out or Path("runs") / f"bench-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2, default=str))
    print(f"figures: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

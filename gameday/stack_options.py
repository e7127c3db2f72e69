"""What a suite tells its stacks' templates (``settings``): the database's failover and
replication, and the rag service's corpus, retrieval, cache and generator."""

from __future__ import annotations

import ipaddress
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, model_validator

from gameday.strict import Strict as _Strict
from gameday.strict import field_error as _field_error

__all__ = ["PATRONI_MIN_TTL_S", "DatabaseOptions", "PatroniOptions", "RagOptions",
           "TabularOptions", "TritonOptions", "is_loopback_url"]

PATRONI_MIN_TTL_S = 20  # Patroni 4 silently raises a lower ttl to 20 (FACTS.md)


class PatroniOptions(_Strict):
    """Patroni's DCS timing (seconds) and failover guards, written into its dynamic config."""

    ttl: int = Field(PATRONI_MIN_TTL_S, description="leader lock time to live")
    loop_wait: int = Field(1, ge=1, le=60)
    retry_timeout: int = Field(3, ge=3, le=300)
    maximum_lag_on_failover: int = Field(1_048_576, ge=0, description="bytes a standby may lag "
                                                                       "and still be promoted")
    failsafe_mode: bool = Field(True, description="keep the primary while all members see it "
                                                  "although the DCS is gone")

    @model_validator(mode="after")
    def _patroni_floor(self) -> PatroniOptions:
        if self.ttl < PATRONI_MIN_TTL_S:
            raise _field_error("database.patroni.ttl",
                               f"Patroni 4 enforces ttl >= {PATRONI_MIN_TTL_S} s (a lower value "
                               f"is silently raised to {PATRONI_MIN_TTL_S}, so the run would not "
                               f"measure what the suite says), got {self.ttl}")
        if self.loop_wait + 2 * self.retry_timeout > self.ttl:
            raise _field_error("database.patroni",
                               f"Patroni needs loop_wait + 2 x retry_timeout <= ttl, got "
                               f"{self.loop_wait} + 2 x {self.retry_timeout} > {self.ttl}")
        return self


class DatabaseOptions(_Strict):
    """The stack's PostgreSQL: who fails it over and how it replicates."""

    failover: Literal["patroni", "promote"] = Field(
        "patroni", description="patroni: Patroni + etcd decide; promote: the harness detects "
                               "the dead primary and calls pg_promote() on the standby")
    nodes: int = Field(2, ge=1, le=2, description="primary in region-a, standby in region-b")
    replication: Literal["async", "sync"] = "async"
    synchronous_commit: Literal["on", "remote_apply", "remote_write", "local", "off"] = "on"
    patroni: PatroniOptions = PatroniOptions()
    disk_mb: int | None = Field(None, ge=64, le=65536, description="each node's data "
                                "directory on a filesystem of this size (a tmpfs): the disk-full "
                                "fault fills it; default: the host's disk (no disk-full fault)")
    promote_after_s: float = Field(0.3, gt=0, le=60, description="promote mode: how long the "
                                   "primary must fail every probe before the standby is promoted")

    @model_validator(mode="after")
    def _consistent(self) -> DatabaseOptions:
        if self.replication == "sync" and self.nodes < 2:
            raise _field_error("database.replication",
                               "synchronous replication needs a standby to confirm each commit; "
                               "with nodes: 1 every write would wait forever (use async, or "
                               "nodes: 2)")
        if self.failover == "patroni" and self.nodes < 2:
            raise _field_error("database.failover",
                               "patroni failover needs a standby to promote (nodes: 2)")
        return self


class RagOptions(_Strict):
    """The rag stack's service: corpus, embeddings, retrieval, cache, generator, A/B split."""

    service: bool = Field(True, description="false: the store only (a database-only suite)")
    documents: int = Field(400, ge=0, le=20000, description="base corpus documents seeded "
                           "(gameday.corpus; about 3 chunks each)")
    embedding: Literal["fp32", "int8"] = "fp32"
    top_k: int = Field(5, ge=1, le=50)
    ef_search: int = Field(40, ge=1, le=1000, description="HNSW search breadth")
    hybrid_share: float = Field(0.5, ge=0, le=1, description="A/B: share of users on the "
                                "hybrid (keyword + vector) variant; the rest pure vector")
    cache_ttl_s: float = Field(300.0, ge=0, description="response cache; 0 turns it off")
    token_delay_s: float = Field(0.02, ge=0, le=5, description="the generator's pace")
    embedder_timeout_s: float = Field(0.5, gt=0, le=60, description="past this, answer "
                                      "degraded from keyword search")
    store_timeout_s: float = Field(1.0, gt=0, le=60, description="past this, answer degraded "
                                   "from the replica's own index")
    generator: Literal["extractive", "openai"] = "extractive"
    openai_base_url: str = Field("", description="an OpenAI-compatible endpoint on loopback")
    openai_model: str = "gpt-4o-mini"

    @model_validator(mode="after")
    def _generator_reachable(self) -> RagOptions:
        if self.generator == "openai" and not is_loopback_url(self.openai_base_url):
            raise _field_error("rag.openai_base_url",
                               "generator: openai needs an http(s) URL on loopback (127.0.0.0/8,"
                               f" ::1 or localhost), got {self.openai_base_url!r}")
        return self


class TabularOptions(_Strict):
    """The tabular stack's answers (a score is a pure function of its input and the model)
    and its optional Feast feature store (a card's online features per request)."""

    answer_max_age_s: int = Field(
        0, ge=0, le=3600, description="answers say `Cache-Control: public, max-age` this long: "
                                      "the edge's cache may serve them again (0: never)")
    feature_store: bool = Field(False, description="a Feast feature server and materializer "
                                "per region; the service scores a request's card with its "
                                "online card_age_days and tx_last_24h")
    feature_timeout_ms: int = Field(100, ge=1, le=10_000, description="past this a lookup is "
                                    "down: scored with the training medians, marked "
                                    "X-Degraded: features-down")
    materialize_interval_s: float = Field(10.0, ge=1, le=3600, description="how often each "
                                          "region's materializer writes fresh rows and "
                                          "materialises them")
    feature_ttl_s: int = Field(3600, ge=1, le=30 * 86400, description="the feature view's ttl: "
                               "older rows are stale, scored with the training medians, marked "
                               "X-Degraded: features-stale")

    @model_validator(mode="after")
    def _fresh_within_ttl(self) -> TabularOptions:
        if self.feature_store and self.materialize_interval_s >= self.feature_ttl_s:
            raise _field_error("tabular.feature_ttl_s",
                               f"features materialised every {self.materialize_interval_s:g} s "
                               f"would be stale before each refresh with a ttl of "
                               f"{self.feature_ttl_s} s: make the ttl longer than "
                               f"materialize_interval_s")
        return self


class TritonOptions(_Strict):
    """The triton stack's server and model: dynamic batching, instances, the version served."""

    device: Literal["auto", "cpu", "gpu"] = Field(
        "auto", description="auto: KIND_GPU instances when a GPU is present, else KIND_CPU")
    instances: int = Field(1, ge=1, le=16, description="model instances per server")
    max_batch_size: int = Field(64, ge=1, le=4096)
    preferred_batch_sizes: tuple[int, ...] = Field((8, 16, 32), min_length=1)
    max_queue_delay_us: int = Field(2000, ge=0, le=1_000_000,
                                    description="how long a request may wait for a batch")
    max_queue_size: int = Field(
        0, ge=0, le=1_000_000,
        description="requests the scheduler queues before it rejects more (0: unbounded; a "
                    "full queue answers HTTP 503 'Exceeds maximum queue size')")
    version: Literal[1, 2] = Field(1, description="the model version served at stand-up")

    @model_validator(mode="after")
    def _batches_fit(self) -> TritonOptions:
        too_big = [size for size in self.preferred_batch_sizes if size > self.max_batch_size]
        if too_big:
            raise _field_error("triton.preferred_batch_sizes",
                               f"{too_big} above max_batch_size {self.max_batch_size}")
        return self


def is_loopback_url(url: str) -> bool:
    """An http(s) URL whose host is loopback (127.0.0.0/8, ::1, localhost): the only traffic
    the project sends (its network rule)."""
    host = urlsplit(url).hostname if url.startswith(("http://", "https://")) else None
    if host is None:
        return False
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

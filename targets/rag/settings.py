"""The RAG service's settings, read once from the environment the platform starts it with."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = ["EMBEDDING_DIM", "EmbedderSettings", "Settings", "SettingsError"]

EMBEDDING_DIM = 384  # all-MiniLM-L6-v2

_T = TypeVar("_T", bound=BaseModel)


class SettingsError(ValueError):
    """An environment variable is missing or malformed (the message names it)."""


class Settings(BaseModel):
    """Who this replica is, where its store and embedder are, and how it answers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    region: str = Field(default="local", min_length=1)
    replica: str = Field(default="rag", min_length=1)
    # libpq: reads from the first reachable host (the region's own node first), writes with
    # target_session_attrs=read-write (whichever node is primary)
    read_dsn: str = Field(min_length=1)
    write_dsn: str = Field(min_length=1)
    embedder_url: str = Field(min_length=1)
    embedder_timeout_s: float = Field(1.0, gt=0)
    embedder_breaker_s: float = Field(2.0, ge=0, description="after an embedder failure, "
                                      "calls fail at once this long (0: no breaker)")
    ingest_embed_deadline_s: float = Field(
        2.0, gt=0, description="embedding an ingest's chunks; past it, or with the embedder "
        "down, the document is stored with its embedding pending (the backfill fills it in)")
    ingest_timeout_s: float = Field(10.0, gt=0, description="one bulk embedding call (a few "
                                    "chunks) of the backfill")
    backfill_s: float = Field(2.0, gt=0, description="how often a replica looks for chunks "
                              "whose embedding is pending (it embeds all it finds)")
    store_timeout_s: float = Field(1.0, gt=0, description="statement timeout for retrieval")
    top_k: int = Field(5, ge=1, le=50)
    hnsw_ef_search: int = Field(40, ge=1, le=1000)
    chunk_words: int = Field(60, ge=8, le=1000)
    chunk_overlap_words: int = Field(15, ge=0)
    hybrid_share: float = Field(0.5, ge=0, le=1, description="A/B: share of users on hybrid")
    ab_salt: str = "gameday-rag-ab"
    cache_ttl_s: float = Field(300.0, ge=0, description="0: no response cache")
    cache_entries: int = Field(4096, ge=1)
    refresh_s: float = Field(1.0, gt=0, description="how often the replica reads new chunks")
    token_delay_s: float = Field(0.02, ge=0, description="pause between streamed tokens")
    generator: Literal["extractive", "openai"] = "extractive"
    openai_base_url: str = ""
    openai_model: str = "gpt-4o-mini"
    openai_api_key: str = ""
    seed_documents: int = Field(0, ge=0, le=100_000, description="base corpus documents "
                                "ingested at start when missing (gameday.corpus)")
    seed_vectors: str = Field("", description="the base corpus embedded by make setup "
                              "(targets.rag.seed_vectors), for this embedder's dtype")
    max_document_chars: int = Field(100_000, ge=1)
    max_question_chars: int = Field(2_000, ge=1)

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.chunk_overlap_words >= self.chunk_words:
            raise ValueError("RAG_CHUNK_OVERLAP_WORDS must be below RAG_CHUNK_WORDS")
        if self.generator == "openai" and not self.openai_base_url:
            raise ValueError("RAG_GENERATOR=openai needs RAG_OPENAI_BASE_URL")
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """GAMEDAY_REGION, GAMEDAY_REPLICA and RAG_<FIELD> for every other field
        (RAG_READ_DSN, RAG_WRITE_DSN, RAG_EMBEDDER_URL, RAG_TOP_K, ...)."""
        return _from_env(cls, environ, "RAG_")


class EmbedderSettings(BaseModel):
    """The embedding server: which model variant, how it batches."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    region: str = Field(default="local", min_length=1)
    replica: str = Field(default="embedder", min_length=1)
    dtype: Literal["fp32", "int8"] = "fp32"
    max_batch: int = Field(64, ge=1, le=1024)
    max_wait_s: float = Field(0.005, ge=0, le=1, description="a batch waits this long to fill")
    max_texts: int = Field(512, ge=1, description="texts one request may carry")
    threads: int = Field(2, ge=1, le=64, description="torch intra-op threads")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> EmbedderSettings:
        """GAMEDAY_REGION, GAMEDAY_REPLICA and EMBEDDER_<FIELD> (EMBEDDER_DTYPE, ...)."""
        return _from_env(cls, environ, "EMBEDDER_")


def _from_env(cls: type[_T], environ: Mapping[str, str], prefix: str) -> _T:
    names = {"region": "GAMEDAY_REGION", "replica": "GAMEDAY_REPLICA"}
    values = {key: environ[name] for key in cls.model_fields
              if (name := names.get(key, f"{prefix}{key.upper()}")) in environ}
    return _validated(cls, values)


def _validated(cls: type[_T], values: Mapping[str, object]) -> _T:
    try:
        return cls.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "(settings)"
        raise SettingsError(f"{cls.__name__} {field}: {first['msg']}") from None

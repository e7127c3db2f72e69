"""What a suite tells the global edge (``edge:``): how it checks and fails over between the
regions (HAProxy), its WAF (nginx + ModSecurity + OWASP CRS) and its cache (nginx).

The defaults are the edge as it was before these options: deep checks every 500 ms, two
failures down and two passes up, one bad answer marks a server down, region-a active and
region-b its backup; the WAF blocks at CRS paranoia level 1 with CRS's default threshold.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from gameday.strict import Strict as _Strict
from gameday.strict import field_error as _field_error

__all__ = ["CLIENT_REGION_HEADER", "CacheOptions", "EdgeOptions", "FailoverOptions",
           "HealthOptions", "WafOptions"]

# geo affinity: the request's region as the client names it (a GeoDNS / anycast stand-in)
CLIENT_REGION_HEADER = "X-Client-Region"
Region = Literal["region-a", "region-b"]
_REGIONS = ("region-a", "region-b")


def _even_weights() -> dict[Region, int]:
    return {"region-a": 1, "region-b": 1}


class HealthOptions(_Strict):
    """HAProxy's health checks and passive observation of every server (``server ... check``).

    A server goes down after ``fall`` failed checks ``inter_ms`` apart, or at once after
    ``error_limit`` failed answers when ``observe`` watches live traffic; it comes back after
    ``rise`` passed checks (which is also how long fail-back waits)."""

    inter_ms: int = Field(500, ge=50, le=60_000, description="time between two checks")
    fall: int = Field(2, ge=1, le=100, description="failed checks that mark a server down")
    rise: int = Field(2, ge=1, le=100, description="passed checks that bring it back")
    observe: Literal["layer4", "layer7", "none"] = Field(
        "layer7", description="watch live answers too: layer7 counts resets and 5xx, layer4 "
                              "only refused connections; none: checks alone decide")
    error_limit: int = Field(1, ge=1, le=1000, description="bad live answers in a row that "
                                                           "mark a server down (observe)")


class FailoverOptions(_Strict):
    """How the edge spreads traffic over the regions and moves it when one fails.

    - ``active-passive``: region-a serves; region-b's servers are backups, used only while
      every region-a server is down (all of them at once: ``option allbackups``).
    - ``active-active``: both regions serve, in proportion to ``weights``; a region that fails
      simply drops out.
    - ``geo``: each request goes to the region named by its ``X-Client-Region`` header (the
      client's nearest), the other region being its backup; without the header, region-a.

    ``fail_back``: once a failed region passes ``rise`` checks again, new requests go back
    to it (``automatic``); ``immediate`` also cuts the sessions still open on the backup
    (long keep-alive or streamed answers) so every client returns at once
    (``on-marked-up shutdown-backup-sessions``)."""

    policy: Literal["active-passive", "active-active", "geo"] = "active-passive"
    weights: dict[Region, int] = Field(
        default_factory=_even_weights,
        description="active-active: each region's share (HAProxy server weight, 0-256)")
    fail_back: Literal["automatic", "immediate"] = "automatic"

    @model_validator(mode="after")
    def _check_weights(self) -> FailoverOptions:
        for region, weight in self.weights.items():
            if not 0 <= weight <= 256:
                raise _field_error(f"edge.failover.weights.{region}",
                                   f"{weight} is not a HAProxy weight: expected 0 to 256")
        if self.policy == "active-active":
            if set(self.weights) != set(_REGIONS):
                raise _field_error("edge.failover.weights", "active-active needs a weight for "
                                                            "region-a and region-b")
            if not any(self.weights.values()):
                raise _field_error("edge.failover.weights",
                                   "every weight is 0: no region would serve")
        return self

    def weight(self, region: str) -> int | None:
        """The server weight of ``region``'s servers; None: HAProxy's default (1)."""
        if self.policy != "active-active":
            return None
        return next((w for r, w in self.weights.items() if r == region), None)


class WafOptions(_Strict):
    """The OWASP Core Rule Set in ModSecurity, in front of every HTTP route.

    ``blocking``: a request whose anomaly score reaches ``inbound_anomaly_threshold`` gets
    403; ``detection``: nothing is blocked, every rule hit is logged (ModSecurity's
    DetectionOnly); ``off``: the requests pass nginx without ModSecurity."""

    mode: Literal["blocking", "detection", "off"] = "blocking"
    paranoia_level: int = Field(1, ge=1, le=4, description="CRS paranoia level: 1 (few false "
                                                           "positives) to 4 (strictest)")
    inbound_anomaly_threshold: int = Field(5, ge=1, le=10_000,
                                           description="CRS's blocking score: 5 is one "
                                                       "critical rule")


class CacheOptions(_Strict):
    """nginx's cache (the CDN role): it stores the answers a stack marks cacheable
    (``Cache-Control: public, max-age=...``) and, while a region is failing, keeps serving
    stored ones (``proxy_cache_use_stale error timeout http_5xx``, ``stale-if-error``)."""

    enabled: bool = True
    max_size_mb: int = Field(64, ge=1, le=4096)
    keep_s: int = Field(600, ge=1, le=86_400, description="an entry unused this long is "
                                                          "dropped (also bounds stale answers)")


class EdgeOptions(_Strict):
    health_check: Literal["shallow", "deep", "canary"] = Field(
        "deep", description="what a check asks: is the process up (shallow), can it answer "
                            "(deep), or one real inference (canary)")
    health: HealthOptions = HealthOptions()
    failover: FailoverOptions = FailoverOptions()
    waf: WafOptions = WafOptions()
    cache: CacheOptions = CacheOptions()
    rate_limit_per_s_per_client: int = Field(
        5000, ge=1, le=1_000_000, description="requests per second one client address may send "
                                              "(429 above); the client as nginx saw it")
    max_body_bytes: int = Field(65536, ge=1024, le=64 * 1024 * 1024)

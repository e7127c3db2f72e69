"""Load generation: open-model plans, the generator child process and its parent-side handle.

Nothing importable from here imports Locust; the pacer (``gameday.load.pacer``) runs only
inside the child started by ``LoadProcess`` (``python -m gameday.load``, or the workers of
``python -m gameday.load.master`` for a plan with ``workers > 1``).
"""

from gameday.load.payloads import ENDPOINTS, Endpoint, endpoint_for, make_bodies
from gameday.load.plan import MAX_SENDS, LoadPlan, RateStep, join_url, require_loopback, schedule
from gameday.load.process import LoadEnd, LoadProcess

__all__ = [
    "ENDPOINTS",
    "MAX_SENDS",
    "Endpoint",
    "LoadEnd",
    "LoadPlan",
    "LoadProcess",
    "RateStep",
    "endpoint_for",
    "join_url",
    "make_bodies",
    "require_loopback",
    "schedule",
]

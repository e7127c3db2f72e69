"""A TCP fault proxy speaking the Toxiproxy HTTP API, for when toxiproxy-server is absent.

Drive it with any Toxiproxy client (the harness uses toxiproxy-python, unchanged), run it
with ``python -m gameday.platforms.local.faultproxy``, or embed it with FaultProxyServer.
"""

from gameday.platforms.local.faultproxy.api import API_VERSION
from gameday.platforms.local.faultproxy.errors import ApiError
from gameday.platforms.local.faultproxy.server import (
    FaultProxyServer,
    ServerThread,
    run_in_thread,
)
from gameday.platforms.local.faultproxy.toxics import TOXICS, Toxic, ToxicSpec

__all__ = [
    "API_VERSION",
    "TOXICS",
    "ApiError",
    "FaultProxyServer",
    "ServerThread",
    "Toxic",
    "ToxicSpec",
    "run_in_thread",
]

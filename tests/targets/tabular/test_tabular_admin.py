"""Model control is accepted from loopback clients only (checked in-process: every socket the
tests open is on loopback, so a remote client is simulated with an ASGI transport)."""

from __future__ import annotations

import asyncio

import httpx

from targets.tabular.app import create_app
from targets.tabular.home import ModelHome
from targets.tabular.settings import Settings


async def _swap_from(client_address: str, home: ModelHome) -> tuple[int, str]:
    settings = Settings(model_home=home.root, tracking_uri=home.tracking_uri)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(client_address, 40_000))
        async with httpx.AsyncClient(transport=transport, base_url="http://tabular") as client:
            swap = await client.post("/admin/model", json={"uri": "models:/fraud@challenger"})
            ready = await client.get("/ready")
            return swap.status_code, ready.json()["model_version"]


def test_model_control_from_a_remote_client_is_refused(model_home: ModelHome) -> None:
    assert asyncio.run(_swap_from("203.0.113.7", model_home)) == (403, "1")


def test_model_control_from_loopback_is_accepted(model_home: ModelHome) -> None:
    assert asyncio.run(_swap_from("127.20.0.5", model_home)) == (200, "2")

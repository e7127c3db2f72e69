"""``python -m gameday.platforms.local.faultproxy``: run the fault proxy until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from pathlib import Path

from gameday.errors import ConfigError
from gameday.platforms.local.faultproxy.errors import ApiError
from gameday.platforms.local.faultproxy.server import FaultProxyServer

__all__ = ["main"]


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m gameday.platforms.local.faultproxy",
        description="TCP fault proxy speaking the Toxiproxy HTTP API (loopback only).")
    parser.add_argument("--host", default="127.0.0.1", help="API address (loopback only)")
    parser.add_argument("--port", type=int, default=8474, help="API port (0: any free port)")
    parser.add_argument("--config", type=Path,
                        help="JSON list of proxies, as for POST /populate, created at start")
    parser.add_argument("--log-level", default="WARNING",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser.parse_args(argv)


def _read_config(path: Path) -> object:
    try:
        return json.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", source=str(path)) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not JSON: {exc}", source=str(path)) from None


async def _serve(args: argparse.Namespace) -> None:
    server = FaultProxyServer(args.host, args.port)
    config = _read_config(args.config) if args.config else None
    try:
        await server.start()
    except OSError as exc:
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    try:
        if config is not None:
            _, error = await server.collection.populate(config)
            if error is not None:
                raise error
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        print(f"faultproxy listening on {server.host}:{server.port}", flush=True)
        await stopping.wait()
    except ApiError as exc:
        raise ConfigError(exc.message, source=str(args.config)) from None
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    logging.basicConfig(level=args.log_level, format="faultproxy %(levelname)s %(message)s")
    try:
        asyncio.run(_serve(args))
    except ConfigError as exc:
        print(f"faultproxy: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Command line of the perception service process: ``python -m spatialclaw_ros.perception``.

Serves on a Unix socket (``--socket``, the default deployment) or on TCP (``--tcp HOST:PORT``, or
``--host``/``--port``, for a fleet's remote service); a TCP service on a non-loopback address requires a
bearer token, read from the environment variable ``SPATIALCLAW_PERCEPTION_TOKEN`` (never from the
command line); with ``--ssl-certfile`` and ``--ssl-keyfile`` it serves https. The Hugging Face hub is
put offline: weights are only ever read from disk. The HTTP parser is h11 whatever else is installed:
it bounds a request head to 16 KiB.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from spatialclaw_ros.perception._signals import die_with_parent
from spatialclaw_ros.protocol.perception import TOKEN_ENV


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: Sequence[str] | None = None) -> None:
    """Parse arguments, build the engine and app, and serve until terminated."""
    parser = argparse.ArgumentParser(prog="python -m spatialclaw_ros.perception", description=__doc__)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--socket", help="Unix socket path to serve on")
    where.add_argument("--tcp", metavar="HOST:PORT", help="TCP address to serve on")
    where.add_argument("--port", type=int, help="TCP port to serve on (with --host)")
    parser.add_argument("--host", default="127.0.0.1", help="TCP address (default 127.0.0.1)")
    parser.add_argument("--settings", default="{}", help="PerceptionSettings as JSON")
    parser.add_argument("--ssl-certfile", help="TLS certificate (PEM): serve https on TCP")
    parser.add_argument("--ssl-keyfile", help="TLS private key (PEM) of --ssl-certfile")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    if args.tcp is not None:
        host, separator, port = args.tcp.rpartition(":")
        if not separator or not port.isdigit():
            parser.error(f"--tcp takes HOST:PORT, got {args.tcp!r}")
        args.host, args.port = host.strip("[]") or "127.0.0.1", int(port)
    # Started by a node (or launch): never outlive it, whatever killed it.
    die_with_parent()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")

    import uvicorn

    from spatialclaw_ros.perception._app import build_app
    from spatialclaw_ros.perception._engine import PerceptionEngine
    from spatialclaw_ros.perception._settings import PerceptionSettings

    token = os.environ.get(TOKEN_ENV) or None
    if (args.ssl_certfile is None) != (args.ssl_keyfile is None):
        parser.error("--ssl-certfile and --ssl-keyfile go together")
    if args.port is not None and not token and not _is_loopback(args.host):
        parser.error(f"serving on {args.host} needs a bearer token in {TOKEN_ENV}")
    app = build_app(PerceptionEngine(PerceptionSettings.from_json(args.settings)), token=token)
    if args.socket:
        socket_path = Path(args.socket)
        socket_path.parent.mkdir(parents=True, exist_ok=True)
        socket_path.unlink(missing_ok=True)
        config = uvicorn.Config(
            app, uds=str(socket_path), log_level=args.log_level, access_log=False, http="h11"
        )
    else:
        config = uvicorn.Config(
            app,
            host=args.host,
            port=args.port,
            log_level=args.log_level,
            access_log=False,
            http="h11",
            ssl_certfile=args.ssl_certfile,
            ssl_keyfile=args.ssl_keyfile,
        )
    uvicorn.Server(config).run()

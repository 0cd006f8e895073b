"""`onewindow-kiosk`: run one kiosk — its UI on localhost, its own devices, the hall over its API.

    onewindow-kiosk --server http://192.168.10.2:8000 --token "$KIOSK_TOKEN" --devices /etc/onewindow/kiosk.toml

The token is a kiosk account's (POST /api/v1/auth/login on the hall server; kiosk tokens last a year).
It may also come from the ONEWINDOW_KIOSK_TOKEN environment variable, which keeps it out of `ps`.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="onewindow-kiosk", description="onewindow self-service kiosk")
    parser.add_argument("--server", required=True, help="the hall server, e.g. http://192.168.10.2:8000")
    parser.add_argument("--token", default=os.environ.get("ONEWINDOW_KIOSK_TOKEN", ""),
                        help="a kiosk account's bearer token (or set ONEWINDOW_KIOSK_TOKEN)")
    parser.add_argument("--devices", required=True,
                        help="the kiosk's devices file (TOML), e.g. config/kiosks/kiosk-sim.toml")
    parser.add_argument("--name", default="", help="the kiosk's name in the hall (default: the devices file's, "
                        "else the token's user name)")
    parser.add_argument("--host", default="127.0.0.1", help="where the UI is served (the kiosk's own browser)")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)     # not a line per request to the hall
    if not args.token:
        print("onewindow-kiosk: no token: pass --token or set ONEWINDOW_KIOSK_TOKEN (log in as a kiosk account "
              "on the hall server: POST /api/v1/auth/login)", file=sys.stderr)
        return 2

    from .hall_client import HallClient, HallRefused, HallUnreachable
    from .settings import SettingsError, load_settings

    try:
        settings = load_settings(args.devices)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    name = args.name or settings.kiosk.name
    try:
        me = asyncio.run(_whoami(args.server, args.token))
    except HallRefused as exc:
        print(f"onewindow-kiosk: the hall server refused the token: {exc}; log in again as a kiosk account",
              file=sys.stderr)
        return 2
    except HallUnreachable as exc:
        me = None    # the kiosk starts anyway: its page says the server cannot be reached, and it keeps trying
        print(f"onewindow-kiosk: the hall server does not answer yet ({exc}); starting anyway", file=sys.stderr)
    if me is not None and me.get("role") not in ("kiosk", "admin"):
        print(f"onewindow-kiosk: the token is {me.get('username')!r}'s, a {me.get('role')}; use a kiosk account",
              file=sys.stderr)
        return 2
    name = name or (me or {}).get("username") or "kiosk"

    import uvicorn

    from .app import create_app
    from .runtime import Kiosk

    kiosk = Kiosk(name, settings, HallClient(args.server, args.token))
    print(f"  kiosk {name}: http://{args.host}:{args.port}/  (hall server {args.server})", flush=True)
    uvicorn.run(create_app(kiosk), host=args.host, port=args.port, log_level="warning", access_log=False,
                timeout_graceful_shutdown=2)
    return 0


async def _whoami(server: str, token: str) -> dict:
    from .hall_client import HallClient

    client = HallClient(server, token)
    try:
        return await client.me()
    finally:
        await client.close()


if __name__ == "__main__":
    sys.exit(main())

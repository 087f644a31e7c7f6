"""`jangar serve`: the same app in a browser, through textual-serve.

Each browser tab that connects starts its own `jangar` as a subprocess (textual-serve's model) with
this process's environment and flags, so every tab reads the same config file and data dir as
`jangar` in a terminal and attaches to that data dir's embedded runtime like another terminal would.

Who may connect:
- Bound to loopback (the default), anyone on this machine, as with a terminal; a token is asked
  for only when one is set (`JANGAR_SERVE_TOKEN`).
- Bound elsewhere, a token is required: the one set, else one generated now. The URL to open,
  token included, is printed once on this console and nowhere else (no access log is kept).
  Opening it stores the token in an HttpOnly, SameSite=Strict cookie and redirects to `/`, so the
  token leaves the address bar; every request without the token (query or cookie) gets 401.
- Always: the websocket refuses a page of another origin (a web page open in the same browser
  cannot drive the app), and on loopback a Host that is not a loopback name (DNS rebinding).
The page loads nothing from elsewhere: its template is Jangar's own (textual-serve's asks a font
host for its font; this one uses the font textual-serve ships), and a Content-Security-Policy
keeps it to this server.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import ipaddress
import os
import secrets
import shlex
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp_jinja2
from aiohttp import web
from textual_serve.server import Server

from jangar_tui.config import ConfigError, Settings

TOKEN_COOKIE = "jangar_token"
TEMPLATES = Path(__file__).with_name("serve_templates")
DEFAULT_PORT = 8000
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def app_command(argv: list[str]) -> str:
    """The shell command textual-serve runs per tab: this Python's `jangar`, with the serve's flags."""
    return shlex.join([sys.executable, "-m", "jangar_tui", *argv])


class JangarServer(Server):
    """textual-serve's server with Jangar's page, a token check, and origin checks."""

    def __init__(self, command: str, *, host: str, port: int, token: str | None) -> None:
        super().__init__(command, host=host, port=port, title="Jangar", templates_path=TEMPLATES)
        self.token = token
        self.loopback = is_loopback(host)

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self._guard)
        app.on_response_prepare.append(self._security_headers)
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.loopback and not is_loopback(_hostname(request.host)):
            return web.Response(status=403, text="This server answers to localhost only.\n")
        if request.path == "/ws" and not _same_origin(request):
            return web.Response(status=403, text="A page of another origin may not connect.\n")
        if self.token is not None:
            given = request.query.get("token")
            if given is not None and hmac.compare_digest(given.encode(), self.token.encode()):
                # Into a cookie, out of the address bar (and the history, and any referrer).
                response = web.HTTPSeeOther(location="/")
                response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="Strict", path="/")
                return response
            cookie = request.cookies.get(TOKEN_COOKIE, "")
            if not hmac.compare_digest(cookie.encode(), self.token.encode()):
                return web.Response(
                    status=401, text="A token is needed: open the URL `jangar serve` printed on its console.\n"
                )
        return await handler(request)

    async def _security_headers(self, request: web.Request, response: web.StreamResponse) -> None:
        host = request.host
        response.headers["Content-Security-Policy"] = (
            f"default-src 'self'; connect-src 'self' ws://{host} wss://{host}; img-src 'self' data:; "
            "style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; font-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"

    @aiohttp_jinja2.template("app_index.html")
    async def handle_index(self, request: web.Request) -> dict[str, Any]:
        """The page, its URLs on the host the browser used (textual-serve would name the bound
        address, 0.0.0.0 included, which a browser elsewhere cannot reach)."""
        scheme = "wss" if request.secure else "ws"
        font_size = request.query.get("fontsize", "16")
        return {
            "font_size": int(font_size) if font_size.isdigit() else 16,
            "app_websocket_url": f"{scheme}://{request.host}/ws",
            "config": {"static": {"url": "/static/"}},
            "application": {"name": self.title},
        }

    async def on_startup(self, app: web.Application) -> None:
        """textual-serve prints its banner here; `serve()` prints Jangar's once the port is known."""


def _hostname(host_header: str) -> str:
    return urlsplit(f"//{host_header}").hostname or ""


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser page (a browser always sends Origin on a websocket)
    return urlsplit(origin).netloc.lower() == request.host.lower()


def _public_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        return socket.gethostname()
    return f"[{host}]" if ":" in host else host


async def serve(server: JangarServer, *, on_ready: Callable[[str], None]) -> None:
    """Serve until SIGINT or SIGTERM; `on_ready` gets the URL to open once the port is bound."""
    runner = web.AppRunner(await server._make_app(), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, server.host, server.port)
        await site.start()
        port = server.port or _bound_port(runner)
        url = f"http://{_public_host(server.host)}:{port}/"
        on_ready(url + (f"?token={quote(server.token, safe='')}" if server.token else ""))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        # Closes each tab's websocket; textual-serve then tells its app to quit and waits for it,
        # so every tab's `jangar` detaches from the runtime before this returns.
        await runner.cleanup()


def _bound_port(runner: web.AppRunner) -> int:
    address = runner.addresses[0]
    return int(address[1])


def serve_main(argv: list[str], settings_from: Callable[[argparse.Namespace, Mapping[str, str]], Settings]) -> int:
    parser = argparse.ArgumentParser(
        prog="jangar serve",
        description="Run jangar in a browser: each tab runs its own jangar on this machine, with these settings.",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only); any other requires a token, "
        "JANGAR_SERVE_TOKEN or else one generated and printed once",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any free)")
    parser.add_argument("--backend", choices=("local", "convex"), help="where the data lives (JANGAR_BACKEND)")
    parser.add_argument("--data-dir", metavar="DIR", help="embedded data directory (JANGAR_DATA_DIR)")
    parser.add_argument("--user", help="whose sessions to show (JANGAR_USER)")
    args = parser.parse_args(argv)
    try:
        settings = settings_from(args, os.environ)
        # The tabs' apps would each refuse a bad [keys] table: say it once, here, before serving.
        from jangar_tui.ui.keymap import key_table_of

        key_table_of(settings)
    except ConfigError as error:
        print(f"jangar serve: {error}", file=sys.stderr)
        return 2
    if not 0 <= args.port <= 65535:
        print(f"jangar serve: --port must be 0-65535 (got {args.port}).", file=sys.stderr)
        return 2
    forwarded = [
        f"--{flag.replace('_', '-')}={value}"
        for flag in ("backend", "data_dir", "user")
        if (value := getattr(args, flag)) is not None
    ]
    token = settings.serve_token.get_secret_value() if settings.serve_token else None
    if not is_loopback(args.host):
        token = token or secrets.token_urlsafe(24)
        print(
            f"jangar serve: listening on {args.host}, not only this machine: anyone who can reach it and has the "
            "token below can use jangar as you (your data, your work orders). Prefer an ssh tunnel to 127.0.0.1.",
            file=sys.stderr,
        )
    # The tabs run in a browser, not in this terminal's tmux: tmux's passthrough would be garbage.
    # The token stays in this process: the tabs' apps have no use for it.
    for variable in ("TMUX", "JANGAR_SERVE_TOKEN"):
        os.environ.pop(variable, None)
    server = JangarServer(app_command(forwarded), host=args.host, port=args.port, token=token)

    def ready(url: str) -> None:
        print(f"jangar serve: open {url}  (ctrl+c stops it and every tab's jangar)", flush=True)

    try:
        asyncio.run(serve(server, on_ready=ready))
    except OSError as error:
        print(f"jangar serve: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    return 0

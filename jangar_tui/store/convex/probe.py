"""Is the Convex deployment answering? One HTTP request on asyncio streams, never blocking the loop.

The official client reconnects silently and exposes no connection state, so `WorkerTransport`
asks the deployment directly: any HTTP response counts as "answering" (the status does not
matter); a refused connection, a reset or silence until the timeout does not.
"""

from __future__ import annotations

import asyncio
import ssl
from urllib.parse import urlsplit


def url_host(url: str) -> str:
    """Host and explicit port of a URL, for people: never the scheme, path or credentials."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port else host


async def probe(url: str, timeout_s: float) -> bool:
    """True when an HTTP server answers at `url` within `timeout_s`."""
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    host = parts.hostname or "127.0.0.1"
    try:
        port = parts.port or (443 if secure else 80)
    except ValueError:
        return False
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout_s):
            reader, writer = await asyncio.open_connection(
                host, port, ssl=ssl.create_default_context() if secure else None
            )
            writer.write(f"GET /version HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
            status = await reader.readline()
            return status.startswith(b"HTTP/")
    except (OSError, TimeoutError, ssl.SSLError, EOFError):
        return False
    finally:
        if writer is not None:
            writer.close()

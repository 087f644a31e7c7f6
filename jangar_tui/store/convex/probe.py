"""Is the Convex deployment answering? One HTTP request on asyncio streams, never blocking the loop.

The official client reconnects silently and exposes no connection state, so `WorkerTransport`
asks the deployment directly: any HTTP response counts as "answering" (the status does not
matter); a refused connection, a reset or silence until the timeout does not, and `probe` says
which, so the operator sees "connection refused" (nothing listens: refused at once) apart from
"no answer within 5 s" (a host that drops packets, a hung server).
"""

from __future__ import annotations

import asyncio
import socket
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


async def probe(url: str, timeout_s: float) -> str | None:
    """None when an HTTP server answers at `url` within `timeout_s`; else why not, in a few words."""
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    host = parts.hostname or "127.0.0.1"
    try:
        port = parts.port or (443 if secure else 80)
    except ValueError:
        return "the URL's port is not a number"
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout_s):
            reader, writer = await asyncio.open_connection(
                host, port, ssl=ssl.create_default_context() if secure else None
            )
            writer.write(f"GET /version HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
            status = await reader.readline()
            return None if status.startswith(b"HTTP/") else "not an HTTP server"
    except TimeoutError:
        return f"no answer within {timeout_s:g} s"
    except ConnectionRefusedError:
        return "connection refused"
    except socket.gaierror:
        return "host not found"
    except ssl.SSLError:
        return "TLS handshake failed"
    except (OSError, EOFError) as exc:
        return (getattr(exc, "strerror", None) or type(exc).__name__).lower()
    finally:
        if writer is not None:
            writer.close()

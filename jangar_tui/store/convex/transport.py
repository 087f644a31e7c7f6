"""How `ConvexStore` reaches Convex: the transport protocol, its errors and the wire encoding.

The store speaks to a transport, never to the `convex` client directly, so the same adapter runs
over the real client (in a worker process, `process.WorkerTransport`) and, in tests, over
a `convex-test` bridge that executes the real functions and validators.

Values cross process boundaries in Convex's JSON encoding (`convex_to_json` / `json_to_convex`),
the one the official clients use, so int64, bytes and special floats survive the trip.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from convex.values import coerce_args_to_convex, convex_to_json, json_to_convex

from jangar_tui.models import ConnectionState


class ConvexFunctionError(Exception):
    """The deployment ran the function and it failed.

    `data` is set for a `ConvexError` thrown by the function (Jangar's functions throw
    `{code, message}`); otherwise `message` is the server's error text (e.g. a validator error).
    """

    def __init__(self, message: str, data: Any = None, *, is_convex_error: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.data = data
        self.is_convex_error = is_convex_error


class ConvexUnavailable(Exception):
    """The deployment could not be reached or did not answer in time. The message names the host.

    `maybe_delivered`: the request may have reached the deployment before the answer was lost
    (a mutation may then have been applied).
    """

    def __init__(self, message: str, *, maybe_delivered: bool = False) -> None:
        super().__init__(message)
        self.maybe_delivered = maybe_delivered


class ConvexTransport(Protocol):
    """Async access to a Convex deployment. Values are plain Python (`json_to_convex` output)."""

    @property
    def host(self) -> str:
        """Where the deployment is, for people: host (and port), never credentials."""
        ...

    async def query(self, name: str, args: dict[str, Any]) -> Any: ...

    async def mutation(self, name: str, args: dict[str, Any]) -> Any: ...

    def subscribe(self, name: str, args: dict[str, Any]) -> AsyncIterator[Any]:
        """The query's result now and after every change; transport outages are retried inside."""
        ...

    def watch_connection(self) -> AsyncIterator[ConnectionState]:
        """The connection state now, then each change."""
        ...

    @property
    def connection_detail(self) -> str | None:
        """Why the deployment is not answering ("connection refused", "no answer within 5 s"), or None."""
        ...

    async def close(self) -> None: ...


def encode_args(args: dict[str, Any]) -> Any:
    """Function arguments in Convex's JSON encoding, coerced as the official client does (ints → floats)."""
    return convex_to_json(coerce_args_to_convex(args))


def decode_value(wire: Any) -> Any:
    """A value in Convex's JSON encoding back to Python, as the official client returns it."""
    return json_to_convex(_ints_as_floats(wire))


def _ints_as_floats(value: Any) -> Any:
    # Every Convex `number` is a float64, and the official client returns floats; JSON decoding
    # turns a `3` written by JavaScript into an int, which `json_to_convex` refuses.
    if isinstance(value, bool):
        return value
    if type(value) is int:
        return float(value)
    if isinstance(value, list):
        return [_ints_as_floats(item) for item in value]
    if isinstance(value, dict):
        return {key: _ints_as_floats(item) for key, item in value.items()}
    return value

"""Connecting to Temporal: which address to use, and a connect that fails fast.

Both the client (launcher) and the worker use `pydantic_data_converter`, so the payload models
travel as JSON and come back as models.
"""

from __future__ import annotations

import logging

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import LogForwardingConfig, LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.service import RPCError, RPCStatusCode

from jangar_tui.aio import within
from jangar_tui.config import Settings

CONNECT_TIMEOUT_S = 3.0
# RPC failures that mean "the server is not there (right now)" rather than "the call was wrong".
UNREACHABLE_CODES = frozenset({RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED})


_runtime: Runtime | None = None


def temporal_runtime() -> Runtime:
    """The SDK runtime Jangar uses: its core logs go to Python logging, never straight to the
    terminal (the TUI owns the screen; the app decides where log records go)."""
    global _runtime
    if _runtime is None:
        _runtime = Runtime(
            telemetry=TelemetryConfig(
                logging=LoggingConfig(
                    filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                    forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
                )
            )
        )
    return _runtime


def temporal_target(settings: Settings) -> tuple[str, bool]:
    """(address, embedded): the configured server, else the data dir's embedded one.

    For the embedded one this is where it is expected before attaching (the configured port, else
    the recorded one); the runtime sets the launcher's address to what `attach()` found.
    """
    if settings.temporal_address_configured:
        return settings.temporal_address, False
    if settings.embedded_temporal_port is not None:
        return f"127.0.0.1:{settings.embedded_temporal_port}", True
    from jangar_tui.orchestration.embedded import recorded_address  # embedded.py imports this module

    return recorded_address(settings.data_dir) or "127.0.0.1:0", True


async def connect(address: str, namespace: str, *, timeout_s: float = CONNECT_TIMEOUT_S) -> Client:
    """Connect (the SDK checks the server answers) or raise `ConnectionError` saying why."""
    try:
        return await within(
            Client.connect(
                address, namespace=namespace, data_converter=pydantic_data_converter, runtime=temporal_runtime()
            ),
            timeout_s,
        )
    except TimeoutError:
        raise ConnectionError(f"no answer within {timeout_s:g} s") from None
    except (RuntimeError, RPCError, OSError) as exc:
        raise ConnectionError(_short_reason(exc)) from None


def is_unreachable(exc: BaseException) -> bool:
    return isinstance(exc, (ConnectionError, TimeoutError)) or (
        isinstance(exc, RPCError) and exc.status in UNREACHABLE_CODES
    )


def _short_reason(exc: BaseException) -> str:
    text = str(exc)
    # The core's transport errors are long Rust debug strings; keep the useful part.
    for marker in ("Connection refused", "connection refused", "dns error", "timed out", "Unavailable"):
        if marker in text:
            return marker.lower()
    return text[:200]

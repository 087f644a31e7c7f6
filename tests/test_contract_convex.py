"""Every contract scenario, unchanged, against `ConvexStore`.

- Over the convex-test bridge: the real schema, functions and validators of convex/, so the
  adapter's function names, argument shapes, decoding and error mapping are checked for real.
- Through the official `convex` client (in the adapter's worker process) speaking its WebSocket
  protocol to `ConvexSyncServer`, a stand-in deployment that runs the functions on the same bridge:
  the whole production path except the Convex backend itself.
- Against a live deployment through the official client when `JANGAR_TEST_CONVEX_URL` is set
  (with `JANGAR_TEST_CONVEX_ADMIN_KEY` if it needs one). Scenarios there share one deployment
  that keeps what earlier runs wrote (nothing is ever hard-deleted), so each runs under fresh user
  and workflow ids; the ones reading the cross-user `listByStatus` are skipped there (they run
  against convex-test above, on an empty backend each).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from jangar_tui.config import load_settings
from jangar_tui.store.convex.store import ConvexStore
from tests.contract_runner import load_scenarios, run_scenario
from tests.convex_bridge.client import BridgeTransport, ConvexBridge
from tests.convex_bridge.sync_server import ConvexSyncServer

SCENARIOS = load_scenarios()
IDS = [name for name, _ in SCENARIOS]


def _settings(tmp_path: Path, **environ: str) -> Any:
    return load_settings({"JANGAR_USER": "contract", "JANGAR_DATA_DIR": str(tmp_path), **environ})


@pytest.mark.parametrize(("name", "scenario"), SCENARIOS, ids=IDS)
async def test_scenario_over_convex_test(
    bridge: ConvexBridge, tmp_path: Path, name: str, scenario: dict[str, Any]
) -> None:
    bridge.reset()
    store = ConvexStore(_settings(tmp_path, CONVEX_URL="http://127.0.0.1:3210"), transport=BridgeTransport(bridge))
    try:
        await run_scenario(store, scenario)
    finally:
        await store.close()


@pytest.mark.parametrize(("name", "scenario"), SCENARIOS, ids=IDS)
async def test_scenario_through_the_official_client(
    bridge: ConvexBridge, tmp_path: Path, name: str, scenario: dict[str, Any]
) -> None:
    bridge.reset()
    server = ConvexSyncServer(bridge)
    await server.start()
    store = ConvexStore(_settings(tmp_path, CONVEX_URL=server.url, CONVEX_ADMIN_KEY="stand-in-admin-key"))
    try:
        await run_scenario(store, scenario)
    finally:
        await store.close()
        await server.stop()


def _unique(value: str, suffix: str) -> str:
    # Appending keeps a short id valid; a long one (a length-limit scenario) keeps its length.
    return f"{value}-{suffix}" if len(value) + len(suffix) < 190 else value[: -len(suffix)] + suffix


def _isolated(value: Any, suffix: str) -> Any:
    """The scenario with its user and workflow ids made unique to this run (a shared deployment)."""
    if isinstance(value, dict):
        return {
            key: _unique(item, suffix)
            if key in ("userId", "workflowId") and isinstance(item, str) and item and not item.startswith("$")
            else _isolated(item, suffix)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_isolated(item, suffix) for item in value]
    return value


def _reads_global_lists(scenario: dict[str, Any]) -> bool:
    return any(step.get("call") == "workOrders:listByStatus" for step in scenario["steps"])


@pytest.mark.parametrize(("name", "scenario"), SCENARIOS, ids=IDS)
async def test_scenario_against_live_deployment(tmp_path: Path, name: str, scenario: dict[str, Any]) -> None:
    url = os.environ.get("JANGAR_TEST_CONVEX_URL")
    if not url:
        pytest.skip("JANGAR_TEST_CONVEX_URL not set: no live Convex deployment to run the contract against")
    if _reads_global_lists(scenario):
        pytest.skip(
            "reads workOrders:listByStatus, which spans every user: on a live deployment it also sees "
            "the rows of other scenarios and earlier runs (nothing is ever hard-deleted)"
        )
    environ = {"CONVEX_URL": url, "JANGAR_CONVEX_TIMEOUT": "30"}
    if key := os.environ.get("JANGAR_TEST_CONVEX_ADMIN_KEY"):
        environ["CONVEX_ADMIN_KEY"] = key
    store = ConvexStore(_settings(tmp_path, **environ))
    try:
        await run_scenario(store, _isolated(scenario, uuid.uuid4().hex[:12]))
    finally:
        await store.close()

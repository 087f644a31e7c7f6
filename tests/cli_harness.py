"""Runs `jangar` commands in this process against a given store and checks their JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from io import StringIO
from typing import Any

import jsonschema

from jangar_tui.commands.main import build_parser, run
from jangar_tui.commands.schemas import COMMAND_SCHEMAS, ERROR
from jangar_tui.config import Settings
from jangar_tui.store.base import Store
from jangar_tui.store.convex.store import ConvexStore
from jangar_tui.store.sqlite.store import LocalStore
from tests.convex_bridge.client import BridgeTransport, ConvexBridge

_NOUNS = {"sessions": "session", "messages": "message", "work-order": "wo", "work-orders": "wo"}


@dataclass
class Outcome:
    code: int
    documents: list[Any]
    text: str
    stderr: str

    @property
    def document(self) -> Any:
        assert len(self.documents) == 1, self.documents
        return self.documents[0]


@dataclass
class Cli:
    store: Store
    settings: Settings

    async def json(self, *argv: str, stdin: str = "") -> Outcome:
        """The command with --json; every line it prints is checked against its schema."""
        outcome = await self.text(*argv, "--json", stdin=stdin)
        assert outcome.text.isascii(), "JSON output must be ASCII (escaped), whatever the data"
        documents = [json.loads(line) for line in outcome.text.splitlines()]
        command = argv[0] if argv[0] in COMMAND_SCHEMAS else f"{_NOUNS.get(argv[0], argv[0])} {argv[1]}"
        schema = ERROR if outcome.code else COMMAND_SCHEMAS[command]
        for document in documents:
            jsonschema.validate(document, schema)
        outcome.documents = documents
        return outcome

    async def text(self, *argv: str, stdin: str = "") -> Outcome:
        args = build_parser().parse_args(list(argv))
        out, err = StringIO(), StringIO()
        code = await run(args, self.settings, self.store, stdout=out, stderr=err, stdin=StringIO(stdin))
        return Outcome(code, [], out.getvalue(), err.getvalue())


def backend_store(backend: str, settings: Settings, bridge: ConvexBridge | None = None) -> Store:
    """The store a CLI test runs against: the embedded one, or Convex's functions over the bridge."""
    if backend == "local":
        return LocalStore(settings.db_path)
    assert bridge is not None, "the convex backend runs over the bridge"
    bridge.reset()
    return ConvexStore(
        settings.model_copy(update={"backend": "convex", "convex_url": "http://127.0.0.1:3210"}),
        transport=BridgeTransport(bridge),
    )

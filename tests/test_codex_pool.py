"""The worker's pool of `codex app-server` processes, on the real binary: a thread kept loaded
serves the session's next turn, a stale one is never used, and no process outlives its bounds."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from codex_standin import Reply, StandIn

from jangar_tui.agents.codex_app_server import CodexAppServer, CodexOptions
from jangar_tui.agents.codex_events import TurnEnded
from jangar_tui.agents.codex_pool import CodexPool

GONE_WITHIN_S = 15.0


def options(codex_bin: Path, tmp_path: Path, env: dict[str, str]) -> CodexOptions:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return CodexOptions(binary=[str(codex_bin)], cwd=work, env=env)


async def one_turn(server: CodexAppServer, text: str, thread_id: str | None = None) -> str:
    """Run a turn (opening `thread_id` or a new thread first unless one is loaded); the turn's id."""
    if server.thread_id is None:
        await server.open_thread(thread_id)
    events = [event async for event in server.run_turn(text)]
    assert events[-1] == TurnEnded(status="completed")
    assert server.last_turn_id is not None
    return server.last_turn_id


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose: its group was signalled and it is only waiting to be reaped.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


async def gone(pid: int) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + GONE_WITHIN_S
    while alive(pid):
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def test_a_kept_thread_serves_the_next_turn_without_resuming(
    codex_bin: Path, tmp_path: Path, codex_env: dict[str, str], standin: StandIn
) -> None:
    standin.script(Reply(text="First answer."), Reply(text="Second answer."))
    pool = CodexPool()
    opts = options(codex_bin, tmp_path, codex_env)
    try:
        first = await pool.take(opts)
        turn = await one_turn(first, "first question")
        thread = first.thread_id
        assert thread is not None
        pool.keep(first)
        assert pool.warm_threads == [thread]

        again = await pool.take(opts, thread_id=thread, last_turn_id=turn)
        assert again is first and again.thread_id == thread, "the same process, thread still loaded"
        assert pool.warm_threads == []
        await one_turn(again, "second question")
        pool.keep(again)
    finally:
        await pool.close()
    assert standin.user_texts(1)[-2:] == ["first question", "second question"], "the thread continued"
    assert standin.assistant_texts(1)[-1] == "First answer."
    assert await gone(first.proc.pid)


async def test_a_kept_thread_another_process_moved_on_is_stopped_not_used(
    codex_bin: Path, tmp_path: Path, codex_env: dict[str, str], standin: StandIn
) -> None:
    pool = CodexPool()
    opts = options(codex_bin, tmp_path, codex_env)
    try:
        kept = await pool.take(opts)
        await one_turn(kept, "first question")
        thread = kept.thread_id
        pool.keep(kept)
        # Another worker gets the thread's next turn while we keep it: codex lets one process
        # hold a thread, so that worker carries the conversation on in a fork.
        other = await CodexAppServer.start(opts)
        try:
            ready = await other.open_thread(thread)
            assert ready.resumed and ready.threadId != thread
            newer = await one_turn(other, "asked elsewhere")
            forked = other.thread_id
        finally:
            await other.close()
        assert standin.user_texts(1)[-2:] == ["first question", "asked elsewhere"], "the fork has the conversation"

        # The store names the fork now; a retry here names the original thread with no turn: in
        # both cases the kept copy is not current, so it is stopped and the thread opened afresh.
        stale = await pool.take(opts, thread_id=thread, last_turn_id=None)
        assert stale is not kept and stale.thread_id is None, "a fresh process, which resumes the thread"
        assert await gone(kept.proc.pid), "the stale copy is stopped (before anyone resumes the thread)"
        await one_turn(stale, "third question", thread)
        await stale.close()
        assert pool.warm_threads == []
        fresh = await pool.take(opts, thread_id=forked, last_turn_id=newer)
        assert fresh.thread_id is None, "nothing kept for the fork here"
        await one_turn(fresh, "fourth question", forked)
        await fresh.close()
    finally:
        await pool.close()
    assert standin.user_texts(2)[-2:] == ["first question", "third question"], "resumed, not forked: it was free"
    assert standin.user_texts(3)[-3:] == ["first question", "asked elsewhere", "fourth question"]


async def test_kept_threads_are_bounded_in_number_and_time_and_stopped_on_close(
    codex_bin: Path, tmp_path: Path, codex_env: dict[str, str], standin: StandIn
) -> None:
    opts = options(codex_bin, tmp_path, codex_env)
    pool = CodexPool(max_threads=1, idle_s=3600)
    try:
        a = await pool.take(opts)
        await one_turn(a, "a")
        b = await pool.take(opts)
        await one_turn(b, "b")
        pool.keep(a)
        pool.keep(b)
        assert pool.warm_threads == [b.thread_id], "the cap keeps the most recent"
        assert await gone(a.proc.pid), "the one over the cap is stopped"
        spare_task = next(iter(pool._spares.values()))
        spare = await spare_task
    finally:
        await pool.close()
    assert await gone(b.proc.pid) and await gone(spare.proc.pid), "close stops the kept thread and the spare"
    assert pool.warm_threads == []

    idle = CodexPool(idle_s=0.3)
    try:
        c = await idle.take(opts)
        await one_turn(c, "c")
        idle.keep(c)
        assert await gone(c.proc.pid), "an idle kept thread is stopped after idle_s"
        assert idle.warm_threads == []
    finally:
        await idle.close()


async def test_a_server_mid_turn_or_without_a_thread_is_not_kept(
    codex_bin: Path, tmp_path: Path, codex_env: dict[str, str], standin: StandIn
) -> None:
    opts = options(codex_bin, tmp_path, codex_env)
    pool = CodexPool()
    try:
        bare = await pool.take(opts)
        pool.keep(bare)  # never opened a thread
        assert pool.warm_threads == []
        assert await gone(bare.proc.pid)
    finally:
        await pool.close()
    late = await CodexAppServer.start(opts)
    pool.keep(late)  # after close nothing is kept
    assert pool.warm_threads == []
    await pool.close()
    assert await gone(late.proc.pid)

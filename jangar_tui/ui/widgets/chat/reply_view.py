"""How an agent's reply shows in the transcript, beyond its text: status, tokens, what it did.

A reply's metadata (`jangar_tui.chat.reply`) comes from an agent: every string of it goes through
`text_safety.visible` and is shown as plain `Text`, never markup.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.text import Text

from jangar_tui.chat.reply import REPLY_KIND, STREAMING, session_total
from jangar_tui.models import ChatMessage
from jangar_tui.text_safety import visible
from jangar_tui.ui.safe_text import line_text

_STATUS_NOTES = {STREAMING: "writing…", "interrupted": "interrupted", "failed": "failed"}
_EXPANDED_OUTPUT_LINES = 6


def reply_meta(message: ChatMessage) -> dict[str, Any] | None:
    meta = message.metadata
    return meta if isinstance(meta, dict) and meta.get("kind") == REPLY_KIND else None


def is_streaming(message: ChatMessage) -> bool:
    meta = reply_meta(message)
    return meta is not None and meta.get("status") == STREAMING


def tokens(count: Any) -> str:
    if not isinstance(count, int | float):
        return "?"
    return f"{count / 1000:.1f}k" if count >= 1000 else str(int(count))


def header_notes(message: ChatMessage) -> list[str]:
    """What follows the role label, most important first: the reply's status, its tokens, and the
    session's tokens so far. A narrow header drops whole parts from the end, never cuts one."""
    meta = reply_meta(message)
    if meta is None:
        return []
    parts = []
    note = _STATUS_NOTES.get(str(meta.get("status")))
    if note:
        parts.append(note)
    usage = meta.get("usage")
    if isinstance(usage, dict) and isinstance(usage.get("turn"), dict):
        turn = usage["turn"]
        parts.append(f"{tokens(turn.get('inputTokens'))}↑ {tokens(turn.get('outputTokens'))}↓ tok")
        session = usage.get("session")
        if isinstance(session, dict):
            parts.append(f"session {tokens(session.get('totalTokens'))} tok")
    return parts


def has_activity(message: ChatMessage) -> bool:
    meta = reply_meta(message)
    return meta is not None and any(meta.get(key) for key in ("commands", "files", "reasoning", "errors"))


def activity(message: ChatMessage, *, expanded: bool) -> Text | None:
    """One compact line of what the agent did; with `expanded`, each command, file and the reasoning."""
    meta = reply_meta(message)
    if meta is None or not has_activity(message):
        return None
    commands = [c for c in meta.get("commands") or [] if isinstance(c, dict)]
    files = [f for f in meta.get("files") or [] if isinstance(f, dict)]
    parts = []
    if commands:
        codes = ", ".join("…" if c.get("exitCode") is None else str(c.get("exitCode")) for c in commands[:8])
        parts.append(f"ran {len(commands)} command{'s' if len(commands) != 1 else ''} (exit {codes})")
    if files:
        parts.append(f"changed {len(files)} file{'s' if len(files) != 1 else ''}")
    if meta.get("reasoning"):
        parts.append("reasoned")
    if meta.get("errors"):
        parts.append(f"{len(meta['errors'])} error{'s' if len(meta['errors']) != 1 else ''}")
    line = Text("⚙ " + " · ".join(parts), style="dim")
    if not expanded:
        line.append("  (select to expand)", style="dim italic")
        return line
    lines = [line]
    for command in commands:
        code = command.get("exitCode")
        lines.append(Text(f"  $ {visible(str(command.get('command', '')))}", style="bold"))
        lines[-1].append(f"  → exit {code if code is not None else '?'}", style="green" if code == 0 else "red")
        output = str(command.get("output", "")).strip().splitlines()[-_EXPANDED_OUTPUT_LINES:]
        for out in output:
            lines.append(Text(f"    {visible(out)}", style="dim"))
    for change in files:
        lines.append(Text(f"  {visible(str(change.get('kind', '')))} {visible(str(change.get('path', '')))}"))
    if meta.get("reasoning"):
        lines.append(Text("  reasoning: " + visible(str(meta["reasoning"])), style="italic dim"))
    for error in meta.get("errors") or []:
        lines.append(Text("  error: " + visible(str(error)), style="red"))
    return Text("\n").join(lines)


def chat_title(title: str, messages: list[ChatMessage]) -> RenderableType:
    """The chat pane's title: the session's title, then its tokens so far when both fit whole
    (a narrow pane shows the title alone: it names the session, the tokens are in each reply)."""
    total = session_total(messages)
    if total is None:
        return line_text(title)
    return _TitleWithTokens(line_text(title), Text(f"session {tokens(total.totalTokens)} tok", style="dim"))


class _TitleWithTokens:
    def __init__(self, title: Text, note: Text) -> None:
        self.title, self.note = title, note

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        gap = options.max_width - self.title.cell_len - self.note.cell_len
        if gap < 2:
            yield self.title
            return
        yield Text.assemble(self.title, " " * gap, self.note, no_wrap=True)

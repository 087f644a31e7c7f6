"""Wide, combining, zero-width and bidi characters in data never push a pane's border: every line
of the screen is exactly as wide as the terminal, and the borders stay in their columns."""

from __future__ import annotations

from rich.cells import cell_len
from textual.pilot import Pilot
from ui_support import until

from jangar_tui.service import JangarService
from jangar_tui.ui.app import JangarApp
from jangar_tui.ui.widgets.chat.transcript import Transcript

TRICKY = "日本語👩\u200d💻e\u0301\u0301\u0301\u0301\u0301\u202eRTL\u202c\u200bzw\ufeff❤\ufe0f\u0301 ｗｉｄｅ"


def lines(pilot: Pilot[object]) -> list[str]:
    strips = pilot.app.screen._compositor.render_strips()
    return ["".join(segment.text for segment in strip) for strip in strips]


async def test_tricky_unicode_keeps_every_line_to_the_terminal_width(service: JangarService) -> None:
    session = await service.new_session("Title " + TRICKY * 3)
    await service.send_message(session.id, TRICKY * 8)
    await service.create_work_order(
        session.id, title=TRICKY, prompt="p", target_repo="owner/repo", target_branch="feature"
    )
    app = JangarApp(service)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.screen.query_one(Transcript).messages, "the message")
        await pilot.pause(0.2)
        shown = lines(pilot)
        assert [cell_len(line) for line in shown] == [120] * 30
        # The panes' borders (▕ before the chat, ▏ before the work orders) in one column each.
        for border in ("▕", "▏"):
            columns = {cell_len(line[: line.index(border)]) for line in shown[2:-2] if border in line}
            assert len(columns) == 1, (border, columns)

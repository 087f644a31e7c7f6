"""The scriptable CLI: `jangar session|message|wo|search|workspace|config ...`, what the UI does, from a script.

Every command goes through `JangarService` (the same validation and errors as the UI), prints
text for a person or, with `--json`, one JSON document (schemas in `schemas.py`), and exits with
a code that names the error (`exit_codes.py`). This module stays tiny: `jangar_tui.cli` imports
it to decide whether a command line is one of ours before anything heavy is imported.
"""

from __future__ import annotations

# The first word of a command line that selects this CLI (aliases included).
# tests/test_commands_process.py holds it equal to the nouns main.build_parser knows.
COMMAND_NAMES = frozenset(
    {
        "config",
        "search",
        "session",
        "sessions",
        "message",
        "messages",
        "wo",
        "work-order",
        "work-orders",
        "workspace",
        "workspaces",
    }
)

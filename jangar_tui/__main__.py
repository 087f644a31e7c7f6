"""The `jangar` command (`python -m jangar_tui` too): pause the collector, then run the CLI.

Kept free of imports beyond `gc_policy` so the pause starts before the heavy ones (see
`jangar_tui.gc_policy` for why).
"""

from __future__ import annotations

import sys

from jangar_tui import gc_policy


def main() -> int:
    gc_policy.pause_for_startup()
    from jangar_tui.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())

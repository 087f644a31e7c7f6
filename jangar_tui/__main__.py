"""The `jangar` command (`python -m jangar_tui` too): pause the collector, then run the CLI.

Kept free of imports beyond `startup_gc` so the pause starts before the heavy ones (see
`jangar_tui.startup_gc` for why).
"""

from __future__ import annotations

import sys

from jangar_tui import startup_gc


def main() -> int:
    startup_gc.pause()
    from jangar_tui.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())

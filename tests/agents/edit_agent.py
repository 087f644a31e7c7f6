"""Scripted agent: changes a file in its working directory (the workspace), then says so."""

from pathlib import Path

Path("CHANGELOG.md").write_text("- Fixed the flaky test.\n")
print("Wrote CHANGELOG.md.")

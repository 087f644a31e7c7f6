"""The Textual terminal UI: the only package that imports textual (docs/architecture.md, Layers).

Import `jangar_tui.ui.app.JangarApp` lazily: `jangar worker` and `jangar deploy` never load it.
"""

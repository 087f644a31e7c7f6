"""Chat turns: an agent answers the user's message into a growing assistant message."""

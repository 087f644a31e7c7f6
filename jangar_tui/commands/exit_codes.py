"""What `jangar`'s exit status means (the table in the README, section "Scripting")."""

from __future__ import annotations

from jangar_tui.models import ErrorCode

OK = 0
FAILURE = 1  # something unexpected (a bug, or the data store failed below Jangar)
USAGE = 2  # a malformed command line or configuration value

BY_ERROR_CODE: dict[ErrorCode, int] = {
    ErrorCode.NOT_FOUND: 3,
    ErrorCode.INVALID_ARGUMENT: 4,
    ErrorCode.INVALID_TRANSITION: 5,
    ErrorCode.CONFLICT: 6,
    ErrorCode.FORBIDDEN: 7,
    ErrorCode.UNAVAILABLE: 8,
}

"""PostgreSQL errors as SQL Server errors: (number, severity, message) by SQLSTATE."""

from __future__ import annotations

import re

# SQLSTATE -> (SQL Server error number, severity)
_NUMBERS = {
    "42P01": (208, 16),  # undefined table: Invalid object name
    "42703": (207, 16),  # undefined column: Invalid column name
    "42601": (102, 15),  # syntax error: Incorrect syntax
    "42P07": (2714, 16),  # duplicate table: There is already an object named
    "23505": (2627, 14),  # unique violation: Violation of PRIMARY KEY/UNIQUE constraint
    "23502": (515, 16),  # not null: Cannot insert the value NULL
    "23503": (547, 16),  # foreign key: conflicted with the FOREIGN KEY constraint
    "23514": (547, 16),  # check: conflicted with the CHECK constraint
    "22012": (8134, 16),  # Divide by zero error encountered.
    "22P02": (245, 16),  # Conversion failed
    "22003": (8115, 16),  # Arithmetic overflow error
    "40P01": (1205, 13),  # deadlock victim
    "55P03": (1222, 16),  # Lock request time out period exceeded.
    "42501": (229, 14),  # permission denied
}


def sqlserver_error(pgcode: str | None, message: str) -> tuple[int, int, str]:
    """The SQL Server (number, severity, text) for a PostgreSQL error."""
    number, severity = _NUMBERS.get(pgcode or "", (50000, 16))
    first = message.strip().splitlines()[0] if message.strip() else "error"
    first = re.sub(r"^ERROR:\s*", "", first)
    if number == 208 and (
        match := re.search(r'relation "([^"]+)" does not exist', first)
    ):
        return number, severity, f"Invalid object name '{match.group(1)}'."
    if number == 8134:
        return number, severity, "Divide by zero error encountered."
    if number == 1205:
        return (
            number,
            severity,
            (
                "Transaction (Process ID 51) was deadlocked on lock resources with another process "
                "and has been chosen as the deadlock victim. Rerun the transaction."
            ),
        )
    return number, severity, first

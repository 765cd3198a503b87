"""What the command-line tests check of every failed command (shared by tests/test_cli*.py)."""

import re


def one_line_error(err: str) -> str:
    """stderr of a failed command: exactly one ``sinapsi: error:`` line, no traceback."""
    assert "Traceback" not in err
    assert re.fullmatch(r"sinapsi: error: [^\n]+\n", err), err
    return err

"""mixcli's exceptions: each carries one line for the user and the exit code to end with."""


class MixcliError(Exception):
    """A problem with the input or the environment: exit 1."""

    exit_code = 1


class UsageError(MixcliError):
    """A bad option or combination of options: exit 2."""

    exit_code = 2


def listing(items: list[str], limit: int = 10) -> str:
    """'a, b, c' with at most `limit` items and a count of the rest."""
    shown = ", ".join(items[:limit])
    rest = len(items) - limit
    return shown + (f" (and {rest} more)" if rest > 0 else "")

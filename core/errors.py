"""Error classes. Every message is one line naming the file, the row or feature, and the fix."""

from __future__ import annotations

from collections.abc import Iterable


class GridCommandError(Exception):
    """Base class of the project's own errors: safe to print to a user as one line."""


class InputError(GridCommandError):
    """Bad input file or value.

    Parameters
    ----------
    source : str
        The file (or argument) that is wrong.
    problem : str
        What is wrong with it.
    fix : str
        What the user should do.
    where : str, optional
        The row, feature or field, e.g. ``"row 17"`` or ``"feature 3 (code 370811004001)"``.
    """

    def __init__(self, source: str, problem: str, fix: str, *, where: str | None = None) -> None:
        self.source = str(source)
        self.problem = problem
        self.fix = fix
        self.where = where
        location = f"{self.source}: {where}" if where else self.source
        super().__init__(f"{location}: {problem}. Fix: {fix}")


class ConflictError(GridCommandError):
    """Someone else changed the record first (optimistic locking)."""


class TransitionError(GridCommandError):
    """A case transition that the lifecycle does not allow."""


class PermissionDenied(GridCommandError):
    """The caller's role or scope does not allow this."""


class NotFound(GridCommandError):
    """No such record in the caller's view: it does not exist, or it lies outside the caller's scope.

    The two are deliberately indistinguishable, so that nobody learns another area's record ids.
    """


def few(names: Iterable[object], limit: int = 5, *, width: int = 60) -> str:
    """A bounded list for a message: ``"a, b, c, d, e and 2,995 more"`` (``"none"`` when empty).

    Parameters
    ----------
    names : iterable
        The items (file names, columns, layers); each is shown with ``str``.
    limit : int
        How many items to show before the count of the rest.
    width : int
        Longest item shown; a longer one is cut and ends with ``…``.
    """
    items = [str(n) for n in names]
    if not items:
        return "none"
    shown = [s if len(s) <= width else s[: width - 1] + "…" for s in items[:limit]]
    rest = len(items) - len(shown)
    return ", ".join(shown) + (f" and {rest:,} more" if rest else "")

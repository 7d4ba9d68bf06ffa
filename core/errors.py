"""Error classes. Every message is one line naming the file, the row or feature, and the fix."""

from __future__ import annotations


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

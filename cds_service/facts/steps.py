"""Each reader of the record run on its own, so that a defect in one loses only what depends on it.

A reader that raises is a defect of the service: no request can be blamed. It gives no facts, and
the fact types it yields are *lost*: the rules that test one do not run, and the answer names
them (``service.check``, rule ``checks-not-run-fault``). What it would have handed to the readers
after it is a :class:`Lost` value, which raises :class:`LostInput` on any use: a reader that
touches it is lost in turn, and one that does not touch it does not depend on it and keeps its
facts. :class:`LostInput` is a ``BaseException``, so that no reader's ``except`` clause, written
for what bad data raises, takes it for bad data and carries on as if the value were empty.

Each step declares the fact types it yields. A fact of another type is a defect too (the step is
lost): an undeclared type would escape the rules that a loss must stop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NoReturn, TypeVar

from .types.fact import Fact

T = TypeVar("T")


class LostInput(BaseException):
    """A reader used what a failed reader would have given it."""


class Lost:
    """What a failed step would have given: any use of it raises :class:`LostInput`.

    Only an identity or type test does not (``is None``, ``isinstance``): a reader tests what it
    is handed by using it, and none tests an input so today.
    """

    __slots__ = ("step",)

    def __init__(self, step: str):
        object.__setattr__(self, "step", step)

    def __repr__(self) -> str:
        return f"Lost({self.step!r})"

    def _lost(self, *_: Any, **__: Any) -> NoReturn:
        raise LostInput(self.step)


_USES = """
__getattr__ __setattr__ __iter__ __len__ __bool__ __getitem__ __contains__ __call__
__eq__ __ne__ __lt__ __le__ __gt__ __ge__ __hash__ __str__ __format__ __index__ __int__
__float__ __add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ __truediv__ __rtruediv__
__or__ __ror__ __and__ __rand__
""".split()  # noqa: SIM905 (one word each, read as a paragraph)
"""Every way a value is used: each raises."""
for _name in _USES:
    setattr(Lost, _name, Lost._lost)


class Steps:
    """The readers of one record run one by one, and what was lost."""

    def __init__(self) -> None:
        self.lost: dict[str, frozenset[str]] = {}
        """Per lost step, the fact kinds it yields."""
        self.errors: list[tuple[str, Exception]] = []
        """Per step that failed on its own (not for a lost input), what it raised."""

    def facts(
        self, name: str, yields: tuple[type[Fact], ...], read: Callable[[], Any]
    ) -> list[Fact] | Lost:
        """The facts ``read()`` gives, each of a type in ``yields``."""
        made = self.value(name, yields, read)
        if isinstance(made, Lost):
            return made
        stray = next((f for f in made if not isinstance(f, yields)), None)
        if stray is not None:
            error = TypeError(f"step {name} yields {type(stray).__name__}, not declared")
            return self._lose(name, yields, error)
        return made  # type: ignore[no-any-return]

    def value(self, name: str, yields: tuple[type[Fact], ...], make: Callable[[], T]) -> T | Lost:
        """What ``make()`` gives (a generator run to its end), or :class:`Lost`."""
        try:
            made = make()
            return list(made) if isinstance(made, Iterator) else made  # type: ignore[return-value]
        except LostInput:
            return self._lose(name, yields, None)
        except Exception as error:  # a defect of the service: see the module's doc
            return self._lose(name, yields, error)

    def _lose(self, name: str, yields: tuple[type[Fact], ...], error: Exception | None) -> Lost:
        kinds = frozenset(kind.kind for kind in yields)
        self.lost[name] = self.lost.get(name, frozenset()) | kinds  # a step's value and its facts
        if error is not None:
            self.errors.append((name, error))
        return Lost(name)

"""What the garbage collector walks, and when it may not.

CPython's collector runs when allocations outnumber deallocations by a threshold, in the middle
of whatever made the objects, and a full collection walks every tracked object. Two kinds of
work make objects by the hundred thousand and need no collection while they do: building a
rule set (long-lived, moved out of reach once built) and parsing a request body (a tree with no
cycles, freed when the call ends).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


def settle_heap() -> None:
    """Move what start-up or a reload built out of the collector's reach.

    A rule set and the FHIR models are some 100,000 long-lived objects; left in the collected
    generations, each full collection walks them all (17-35 ms) in the middle of whichever call
    triggered it, which made the p99 of a call ten times its median.
    """
    gc.collect()
    gc.freeze()


@contextmanager
def collector_paused() -> Iterator[None]:
    """No automatic collection while the block makes its objects.

    Building a rule set makes some 100,000 objects; each time they passed the collector's
    threshold a full collection walked them all while holding the GIL, so two to four pauses of
    30-110 ms fell on the calls served during a reload (:func:`settle_heap` collects once, at
    the swap). Parsing the 800 kB body of a thousand resources made some 150 collections of
    objects that cannot form a cycle: 14 ms of its 16 ms.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()

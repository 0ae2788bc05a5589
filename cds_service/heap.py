"""What the garbage collector walks, and when it may not.

CPython's collector runs when allocations outnumber deallocations by a threshold, in the middle
of whatever made the objects, and a full collection walks every tracked object. Building a rule
set makes some 100,000 long-lived objects: no collection runs while it is built, and once it is
the objects are moved out of the collector's reach.
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
    the swap).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()

"""What the garbage collector walks, and when it may not.

CPython's collector runs when allocations outnumber deallocations by a threshold, in the middle
of whatever made the objects, and a full collection walks every tracked object. Building a rule
set makes some 100,000 long-lived objects: no collection runs while it is built, and once it is
the objects are moved out of the collector's reach. A call's own objects are freed by reference
counting when it ends, so the collector is set to look only past what one call holds.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


def settle_heap() -> None:
    """Move what start-up or a reload built out of the collector's reach, and let calls be.

    A rule set and the FHIR models are some 100,000 long-lived objects; left in the collected
    generations, each full collection walks them all (17-35 ms) in the middle of whichever call
    triggered it, which made the p99 of a call ten times its median. What a call makes is
    walked only past :data:`YOUNG_OBJECTS`.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_OBJECTS, *gc.get_threshold()[1:])


YOUNG_OBJECTS = 50_000
"""New objects not yet freed before the collector walks them: more than a call holds.

With CPython's 700, a call of 1,000 resources set off some 25 young collections and, as the
survivors moved up, a full one every five calls (1.3 ms of a 15 ms call in all); a call of 55
resources two young ones. What a call makes lives until it ends and is then freed by reference
counting, so the walks freed next to nothing. Past 50,000 (a 1,000-resource call holds between
10,000 and 50,000), a collection runs only when that many objects have outlived their calls, in
cycles or in caches filling: a server made none in 10,000 calls after start-up
(``bench/README.md``).
"""


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

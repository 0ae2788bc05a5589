"""Values kept between calls: bounded in entries and in bytes, each caller its own copy."""

from __future__ import annotations

from cds_service.kept import Kept


def made(value: object, log: list[object]):
    def make() -> object:
        log.append(value)
        return value

    return make


def test_a_kept_value_is_a_copy_of_what_was_made():
    kept: Kept[list[int]] = Kept(4)
    first = kept.get(b"k", lambda: [1, 2])
    again = kept.get(b"k", lambda: [3])
    assert again == first == [1, 2]
    again.append(9)  # a caller changing its copy changes nothing kept
    assert kept.get(b"k", lambda: [3]) == [1, 2]


def test_the_oldest_values_go_first_by_count_and_by_bytes():
    log: list[object] = []
    kept: Kept[str] = Kept(2, max_bytes=16 * 1000)
    for key in (b"a", b"b", b"a", b"c"):  # "a" used again, so "b" is the oldest
        kept.get(key, made(key.decode(), log))
    kept.get(b"b", made("b", log))
    assert log == ["a", "b", "c", "b"]
    assert len(kept) == 2
    big: Kept[str] = Kept(100, max_bytes=16 * 600)
    for n in range(20):
        big.get(str(n).encode(), lambda n=n: f"{n:02d}" * 250)  # about 515 bytes pickled each
    assert 0 < big.size <= 16 * 600
    assert 10 < len(big) < 20


def test_a_value_too_large_for_its_share_is_not_kept():
    log: list[object] = []
    kept: Kept[str] = Kept(10, max_bytes=16 * 100)
    for _ in range(2):
        kept.get(b"huge", made("x" * 500, log))
    assert len(log) == 2
    assert len(kept) == 0


def test_on_second_use_a_value_is_kept_when_it_is_made_again():
    log: list[object] = []
    kept: Kept[str] = Kept(10, on_second_use=True)
    for _ in range(4):
        kept.get(b"k", made("v", log))
    assert log == ["v", "v"]


def test_what_make_raises_is_raised_and_nothing_is_kept():
    kept: Kept[str] = Kept(10)

    def failing() -> str:
        raise ValueError("no")

    for _ in range(2):
        try:
            kept.get(b"k", failing)
        except ValueError:
            pass
        else:
            raise AssertionError("the error was swallowed")
    assert len(kept) == 0

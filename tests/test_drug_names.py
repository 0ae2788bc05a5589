"""Finding drugs named in free text: the word index finds what trying every name finds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cds_service.knowledge.tables import load_knowledge
from tests.conftest import RULES

DRUGS = load_knowledge(RULES / "knowledge").drugs
NAMES = [pattern.pattern for pattern, _ in DRUGS.names]
WRITTEN = sorted(
    {p.removeprefix(r"(?<![\w-])").removesuffix(r"(?![\w-])").replace("\\", "") for p in NAMES}
)


def every_name_tried(text: str) -> str | None:
    return next((drug for pattern, drug in DRUGS.names if pattern.search(text)), None)


pieces = st.one_of(
    st.sampled_from(WRITTEN),
    st.sampled_from(WRITTEN).map(str.upper),
    st.sampled_from(WRITTEN).map(lambda name: name[: max(1, len(name) // 2)]),
    st.sampled_from([" ", "-", "/", "(", ")", ",", "mg", "500", "tablet", "\u017f", "\u0130", "x"]),
    st.text(max_size=4),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(pieces, max_size=6).map("".join))
def test_the_index_finds_what_every_name_finds(text: str):
    assert DRUGS.by_name(text) == every_name_tried(text)


def test_names_in_the_words_prescribers_write():
    assert DRUGS.by_name("Xeloda 500 mg tablet") == "capecitabine"
    assert DRUGS.by_name("5-FU bolus") == DRUGS.by_name("fluorouracil")
    assert DRUGS.by_name("lisinopril 10 mg tablet") is None
    assert DRUGS.by_name("capecitabinex") is None

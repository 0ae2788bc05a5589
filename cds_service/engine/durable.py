"""The only module that calls durable-rules.

durable-rules 2.0.28 is fast, but its C core has defects that a clinical service cannot live with
(measured in the project's design notes). Each is made impossible here by construction:

* ``delete_state`` segfaults on a state where no action ran: every batch carries a sentinel fact
  that a sentinel rule always matches, so every state runs at least one action.
* States and facts are found by a 32-bit hash with no string check, so two requests can share a
  state and a rule can join facts of two patients: sids come from a fixed pool whose hashes are
  pairwise distinct, and fact ids are positions whose hashes are pairwise distinct too.
* More than 1024 live states make the ruleset unusable: the pool is smaller, and a state is
  deleted in ``finally``.
* Two facts with the same content are silently merged: positional ids keep them apart.
* ``123 == "123"`` is true inside the engine: every attribute has one declared type, rule
  literals are checked against it at compile time and fact values at assert time.
* The ``Host`` API runs a background thread that can steal a request's results: only the
  low-level functions are used, and actions are drained synchronously.
* Limits that hang or fail late (512 equality values on one node, more than 16 conditions, more
  than 256 rules on one alpha node, more than 252 properties) are refused at compile time with
  the rule named.
* Its C JSON parser misreads ``1e-06`` (crash or no match): numbers are written as it reads
  them, and a value it cannot hold is refused (``encoding``).
* Errors come back as bare numbers: each rule is compiled alone to name the one at fault.
* Absence (``x$not``) is judged when the other facts arrive: a fact asserted later in the same
  batch does not retract the match, and an absence listed first never matches. So "no fact
  like this" is compiled as a rule of its own that fires when such a fact *is* there, and a
  rule whose absent fact fired is dropped: the result no longer depends on fact order.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import durable_rules_engine as dre
import orjson

from .encoding import FactSchema, Scalar, encode_fact, engine_json, refusal

Conditions = Sequence[tuple[str, dict]]
"""A rule's conditions, each ``(alias, durable expression)``."""


class Engine(Protocol):
    """A compiled rule set, in this process (:class:`CompiledRules`) or in an engine process."""

    def evaluate(
        self, facts: Sequence[Mapping[str, Scalar]], timeout: float = 1.0
    ) -> list[Match]: ...

    def close(self) -> None: ...


class EngineFactory(Protocol):
    """Compiles ``rules`` (and the ``absent`` conditions) over ``schema`` into an Engine."""

    def __call__(
        self,
        rules: Mapping[str, Conditions],
        schema: FactSchema,
        absent: Mapping[str, Conditions] | None = None,
    ) -> Engine: ...


SENTINEL = "$sentinel"
MAX_CONDITIONS = 16
MAX_EQUALITY_VALUES = 500
MAX_CONDITIONS_PER_FACT_TYPE = 250
MAX_PROPERTIES = 240
POOL_SIZE = 256
_COMPARISONS = ("$lt", "$lte", "$gt", "$gte", "$neq")
_EXISTENCE = ("$ex", "$nex")
_RESERVED = frozenset({"sid", "id", "t"})


class EngineError(Exception):
    """A rule set the engine cannot run; the message names the rule, ``rule_id`` too if known."""

    def __init__(self, message: str, rule_id: str | None = None):
        super().__init__(f"rule {rule_id}: {message}" if rule_id else message)
        self.rule_id, self.reason = rule_id, message

    def __reduce__(self) -> tuple[Any, ...]:
        """Rebuilt with its rule when an engine process sends it back."""
        return (EngineError, (self.reason, self.rule_id))


class EngineBusy(Exception):
    """Every state slot is taken: the caller should answer 503, not wait."""


def fnv1a32(text: str) -> int:
    """The 32-bit FNV-1a that durable-rules uses to find states and facts (signed bytes)."""
    value = 0x811C9DC5
    for byte in text.encode():
        signed = byte - 256 if byte > 127 else byte
        value = ((value ^ signed) & 0xFFFFFFFF) * 16777619 & 0xFFFFFFFF
    return value


def _distinct_hash_names(names: Iterator[str], count: int) -> list[str]:
    chosen: list[str] = []
    seen: set[int] = set()
    for name in names:
        digest = fnv1a32(name)
        if digest not in seen:
            seen.add(digest)
            chosen.append(name)
            if len(chosen) == count:
                return chosen
    raise AssertionError("not enough distinct hashes")  # pragma: no cover


FACT_IDS = _distinct_hash_names((str(i) for i in itertools.count()), 4096)
SIDS = _distinct_hash_names((f"s{i}" for i in itertools.count()), POOL_SIZE)
MAX_FACTS = len(FACT_IDS) - 1  # one id is kept for the sentinel
_ID_TAILS = [f'{fact_id}"}}'.encode() for fact_id in FACT_IDS]
"""What closes a prepared fact after its sid: its positional id."""


def prepare(schema: FactSchema, facts: Sequence[Mapping[str, Scalar]]) -> list[bytes]:
    """Each fact checked against ``schema`` and written as the engine reads it, its closing
    brace left off for the sid and id of the state it is asserted in.

    Done by the caller, so that an engine process is sent text, not objects to check again.
    """
    if len(facts) > MAX_FACTS:
        raise ValueError(f"{len(facts)} facts; at most {MAX_FACTS} per evaluation")
    return [orjson.dumps(encode_fact(schema, i, fact))[:-1] for i, fact in enumerate(facts)]


@dataclass(frozen=True, slots=True)
class Match:
    """One firing: the rule and, per alias of its conditions, the index of the matched fact."""

    rule_id: str
    facts: Mapping[str, int]


class CompiledRules:
    """A compiled rule set; ``evaluate`` is safe from any thread."""

    _names = itertools.count()

    def __init__(
        self,
        rules: Mapping[str, Conditions],
        schema: FactSchema,
        absent: Mapping[str, Conditions] | None = None,
    ):
        """``rules`` maps a rule id to its conditions; ``absent`` to those no fact may meet."""
        check_schema(schema)
        absent = absent or {}
        self._schema = schema
        self._rule_ids = list(rules)
        definition: dict[str, Any] = {}
        for number, (rule_id, conditions) in enumerate(rules.items()):
            _check_rule(rule_id, conditions, schema)
            definition[f"r{number}"] = {"all": [{alias: expr} for alias, expr in conditions]}
            for index, (alias, expression) in enumerate(absent.get(rule_id, ())):
                _check_rule(rule_id, [(alias, expression)], schema)
                definition[f"a{number}_{index}"] = {"all": [{alias: expression}]}
        _check_rule_set([*rules.items(), *absent.items()])
        definition[SENTINEL] = {"all": [{"m": {"t": SENTINEL}}]}
        self._handle = _create(definition, self._rule_ids)
        self._lock = threading.Lock()
        self._sids: queue.SimpleQueue[str] = queue.SimpleQueue()
        for sid in SIDS:
            self._sids.put(sid)

    def evaluate(self, facts: Sequence[Mapping[str, Scalar]], timeout: float = 1.0) -> list[Match]:
        """Assert ``facts`` as one isolated state and return every rule that fired."""
        return self.run(prepare(self._schema, facts), timeout)

    def run(self, prepared: Sequence[bytes], timeout: float = 1.0) -> list[Match]:
        """:meth:`evaluate` on facts already checked and written by :func:`prepare`."""
        try:
            sid = self._sids.get(timeout=timeout)
        except queue.Empty:
            raise EngineBusy("no free engine state") from None
        try:
            return self._run(sid, prepared)
        finally:
            self._sids.put(sid)

    def close(self) -> None:
        """Free the C ruleset; later calls to ``evaluate`` fail."""
        with self._lock:
            handle, self._handle = self._handle, None
        if handle is not None:
            dre.delete_ruleset(handle)

    def _run(self, sid: str, prepared: Sequence[bytes]) -> list[Match]:
        if len(prepared) > MAX_FACTS:
            raise ValueError(f"{len(prepared)} facts; at most {MAX_FACTS} per evaluation")
        middle = b',"sid":"' + sid.encode() + b'","id":"'
        batch = [fact + middle + _ID_TAILS[index] for index, fact in enumerate(prepared)]
        batch.append(b'{"t":"' + SENTINEL.encode() + b'"' + middle + _ID_TAILS[len(prepared)])
        with self._lock:
            handle = self._handle
        if handle is None:
            raise EngineError("rule set is closed")
        matches: list[Match] = []
        vetoed: set[str] = set()
        try:
            _, state = dre.assert_facts(handle, (b"[" + b",".join(batch) + b"]").decode())
            result = dre.start_action_for_state(handle, state)
            messages = result[1] if result else None
            while messages:
                for name, matched in orjson.loads(messages).items():
                    if name.startswith("a"):
                        vetoed.add(name[1:].partition("_")[0])
                    elif name != SENTINEL:
                        matches.append(self._match(name, matched, sid))
                messages = dre.complete_and_start_action(handle, state)
        finally:
            dre.delete_state(handle, sid)
        vetoed_ids = {self._rule_ids[int(number)] for number in vetoed}
        return [match for match in matches if match.rule_id not in vetoed_ids]

    def _match(self, name: str, matched: Mapping[str, Mapping[str, Any]], sid: str) -> Match:
        facts: dict[str, int] = {}
        for alias, fact in matched.items():
            if fact.get("sid") != sid:  # the pool makes this impossible; refuse rather than mix
                raise EngineError(f"fact from another state in {name}")
            facts[alias] = int(fact["id"])
        return Match(self._rule_ids[int(name[1:])], facts)


def _create(definition: dict[str, Any], rule_ids: list[str]) -> int:
    try:
        return dre.create_ruleset(f"cds{next(CompiledRules._names)}", engine_json(definition))
    except dre.error as whole:
        for number, rule_id in enumerate(rule_ids):  # find the rule the bare error code is about
            alone = {f"r{number}": definition[f"r{number}"]}
            try:
                handle = dre.create_ruleset(f"cds{next(CompiledRules._names)}", engine_json(alone))
            except dre.error as error:
                raise EngineError(f"the engine refused it ({error})", rule_id) from None
            dre.delete_ruleset(handle)
        raise EngineError(f"the engine refused the rule set ({whole})") from None


def _check_rule(rule_id: str, conditions: Conditions, schema: FactSchema) -> None:
    if not conditions:
        raise EngineError("no conditions", rule_id)
    if len(conditions) > MAX_CONDITIONS:
        raise EngineError(f"{len(conditions)} conditions, at most {MAX_CONDITIONS}", rule_id)
    for alias, expression in conditions:
        if alias in _RESERVED or alias.startswith("$"):
            raise EngineError(f"{alias!r} cannot name a condition", rule_id)
        kind = _fact_type(expression)
        if kind not in schema:
            raise EngineError(f"condition {alias} must test a known fact type", rule_id)
        try:
            _check_expression(alias, expression, schema[kind])
        except EngineError as error:
            raise EngineError(error.reason, rule_id) from None


def _fact_type(expression: dict) -> str | None:
    for part in expression.get("$and", [expression]):
        if isinstance(part, dict) and isinstance(part.get("t"), str):
            return part["t"]
    return None


def _check_expression(alias: str, expression: Any, attributes: Mapping[str, type]) -> None:
    where = f"condition {alias}"
    if not isinstance(expression, dict) or len(expression) != 1:
        raise EngineError(f"{where}: malformed expression {expression!r}")
    ((key, value),) = expression.items()
    if key in ("$and", "$or"):
        if not isinstance(value, list) or not value:
            raise EngineError(f"{where}: {key} needs a list")
        for part in value:
            _check_expression(alias, part, attributes)
    elif key in _COMPARISONS or key in _EXISTENCE:
        if not isinstance(value, dict) or len(value) != 1:
            raise EngineError(f"{where}: malformed {key}")
        ((name, literal),) = value.items()
        expected = _attribute_type(where, name, attributes)
        if key in _COMPARISONS:
            _check_literal(where, name, literal, expected)
    elif key == "t":
        if not isinstance(value, str):
            raise EngineError(f"{where}: fact type must be text")
    else:
        _check_literal(where, key, value, _attribute_type(where, key, attributes))


def _attribute_type(where: str, name: str, attributes: Mapping[str, type]) -> type:
    if name in _RESERVED or name not in attributes:
        raise EngineError(f"{where}: unknown attribute {name!r}")
    return attributes[name]


def _check_literal(where: str, name: str, literal: Any, expected: type) -> None:
    if type(literal) is not expected:
        raise EngineError(
            f"{where}: {name} is {expected.__name__}, compared with {literal!r} "
            f"({type(literal).__name__})"
        )
    reason = refusal(literal)
    if reason is not None:
        raise EngineError(f"{where}: {name} is compared with {reason}")


def _check_rule_set(rules: Iterable[tuple[str, Conditions]]) -> None:
    """Limits of the whole set, blamed on the rule that crosses them."""
    values: dict[tuple[str, str], set[Scalar]] = {}
    per_type: dict[str, int] = {}
    for rule_id, conditions in rules:
        for _, expression in conditions:
            kind = _fact_type(expression) or ""
            per_type[kind] = per_type.get(kind, 0) + 1
            if per_type[kind] > MAX_CONDITIONS_PER_FACT_TYPE:
                raise EngineError(
                    f"more than {MAX_CONDITIONS_PER_FACT_TYPE} conditions in the rule set "
                    f"test {kind} facts",
                    rule_id,
                )
            for name, literal in _equalities(expression):
                seen = values.setdefault((kind, name), set())
                seen.add(literal)
                if len(seen) > MAX_EQUALITY_VALUES:
                    raise EngineError(
                        f"{kind}.{name} is compared with more than {MAX_EQUALITY_VALUES} distinct "
                        "values in the rule set (the engine hangs at 512)",
                        rule_id,
                    )


def _equalities(expression: dict) -> Iterator[tuple[str, Scalar]]:
    for key, value in expression.items():
        if key in ("$and", "$or"):
            for part in value:
                yield from _equalities(part)
        elif not key.startswith("$"):
            yield key, value


def check_schema(schema: FactSchema) -> None:
    """Refuse a fact schema the engine could not store (reserved names, too many properties)."""
    for kind, attributes in schema.items():
        if len(attributes) > MAX_PROPERTIES:
            raise EngineError(f"fact type {kind}: more than {MAX_PROPERTIES} attributes")
        for name, kind_type in attributes.items():
            if name in _RESERVED or kind_type not in (str, float):
                raise EngineError(f"fact type {kind}: attribute {name} cannot be used")

"""Amazon EventBridge event patterns, matched against decoded records.

A pattern maps a field name to a list of matchers (any one may match) or to a
nested pattern; all fields must match, and ``"$or"`` takes a list of patterns
of which one must match.  An array value matches if any element does (under a
nested pattern: if one element record matches all of it).  Matchers as in
EventBridge: exact scalars, prefix, suffix, equals-ignore-case, wildcard,
numeric, anything-but, exists and cidr.  Choices made here:

* ``exists`` is presence of the key (``None``, arrays and records are present);
  ``anything-but`` needs the field present, then matches any value of any type
  that its operand does not match.  Under a nested pattern a missing, ``None``,
  scalar or empty-array parent is a record with no fields.
* A bool is not a number (``[1]`` does not match ``True``); ``[5]`` matches ``5.0``.
* A ``datetime`` (an Avro timestamp) is its ``isoformat()`` for the string
  matchers (exact string, prefix, suffix, equals-ignore-case, wildcard) and its
  epoch milliseconds (an int, floored; naive means UTC) for the number matchers
  (exact number, numeric).  Other types (date, Decimal, bytes, UUID) match only
  ``exists`` and ``anything-but``.

``compile_pattern`` validates up front and returns closures that check nothing
per event: operands are case-folded, wildcards compiled, exact values in sets.
"""

from __future__ import annotations

import ipaddress
import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from types import MappingProxyType
from typing import Any

from streams.errors import ConfigError

__all__ = ["Pattern", "PatternError", "avro_field_paths", "check_fields", "compile_pattern"]

Test = Callable[[Any], bool]  # one value: a scalar, or one element of an array
Node = Callable[[Mapping[str, Any]], bool]  # one record

_MISSING = object()
_EMPTY: Mapping[str, Any] = MappingProxyType({})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


class PatternError(ConfigError):
    """A pattern, or a rule's field list, that cannot work; the message starts with the path of the bad part."""


@dataclass(frozen=True, slots=True, eq=False)
class Pattern:
    """A compiled, immutable event pattern; build one with :func:`compile_pattern`."""

    _test: Node = field(repr=False)
    _fields: frozenset[str]

    def matches(self, event: Mapping[str, Any]) -> bool:
        """Whether the decoded record ``event`` matches the pattern."""
        return self._test(event)

    def fields(self) -> frozenset[str]:
        """Every field path given matchers, dotted for nesting (``"customer.id"``), ``$or`` included."""
        return self._fields


def compile_pattern(pattern: Mapping[str, Any]) -> Pattern:
    """Validate ``pattern`` as a whole and compile it; raise :class:`PatternError` naming the bad part."""
    fields: set[str] = set()
    return Pattern(_compile(pattern, "", "", fields), frozenset(fields))


def _as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else value.isoformat() if isinstance(value, datetime) else None


def _as_number(value: Any) -> int | float | None:
    if isinstance(value, datetime):
        return ((value if value.tzinfo else value.replace(tzinfo=UTC)) - _EPOCH) // _MS
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | bool) or _is_number(value)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _error(loc: str, message: str) -> PatternError:
    return PatternError(f"{loc or '<pattern>'}: {message}")


# -- matchers: (operand, error location) in, a test of one value out -----------------------------

def _one_of(values: tuple[Any, ...]) -> Test:
    """Equal to one of the scalars ``values``: a bool only equals a bool, 5 equals 5.0."""
    strs = frozenset(v for v in values if isinstance(v, str))
    numbers = frozenset(v for v in values if _is_number(v))
    others = frozenset(v for v in values if v is None or isinstance(v, bool))  # True == 1: kept apart

    def test(value: Any) -> bool:
        if isinstance(value, str):
            return value in strs
        if value is None or isinstance(value, bool):
            return value in others
        number = _as_number(value)
        return (number is not None and number in numbers) or (isinstance(value, datetime)
                                                               and value.isoformat() in strs)
    return test


def _ignore_case(operand: Any, loc: str, *, many: bool = False) -> Test:
    texts = operand if many and isinstance(operand, list) and operand else [operand]
    if not all(isinstance(text, str) for text in texts):
        raise _error(loc, "equals-ignore-case needs a string" + (" or a non-empty list of strings" if many else "")
                     + f", got {operand!r}")
    folded = frozenset(text.casefold() for text in texts)

    def test(value: Any) -> bool:
        text = _as_str(value)
        return text is not None and text.casefold() in folded
    return test


def _affix(op: str, operand: Any, loc: str) -> Test:
    check: Callable[[str, str], bool] = str.startswith if op == "prefix" else str.endswith
    fold = isinstance(operand, Mapping) and list(operand) == ["equals-ignore-case"]
    affix = operand["equals-ignore-case"] if fold else operand
    if not isinstance(affix, str):
        raise _error(loc, f'{op} needs a string or {{"equals-ignore-case": string}}, got {operand!r}')
    affix = affix.casefold() if fold else affix

    def test(value: Any) -> bool:
        text = _as_str(value)
        return text is not None and check(text.casefold() if fold else text, affix)
    return test


def _wildcard(operand: Any, loc: str) -> Test:
    if not isinstance(operand, str):
        raise _error(loc, f"wildcard needs a string, got {operand!r}")
    regex = ""
    for piece in re.findall(r"\\.?|\*+|[^\\*]+", operand, flags=re.DOTALL):
        if piece.startswith("\\") and piece not in ("\\*", "\\\\"):
            raise _error(loc, f"wildcard {operand!r}: a backslash may only escape * or \\")
        if piece.startswith("*") and len(piece) > 1:
            raise _error(loc, f"wildcard {operand!r}: consecutive * are not allowed")
        regex += ".*" if piece == "*" else re.escape(piece[1:] if piece.startswith("\\") else piece)
    compiled = re.compile(regex, re.DOTALL)

    def test(value: Any) -> bool:
        text = _as_str(value)
        return text is not None and compiled.fullmatch(text) is not None
    return test


def _numeric(operand: Any, loc: str) -> Test:
    ops, bounds = (operand[0::2], operand[1::2]) if isinstance(operand, list) and len(operand) in (2, 4) else ([], [])
    if not ops or not all(op in ("=", *_COMPARE) for op in ops) or not all(_is_number(bound) for bound in bounds):
        raise _error(loc, "numeric needs an operator followed by a number (one of =, <, <=, >, >=; a finite number, "
                          f"not a bool), once or twice as in ['>', 0, '<=', 5]; got {operand!r}")
    if len(ops) == 2 and (ops[0] not in (">", ">=") or ops[1] not in ("<", "<=")):
        raise _error(loc, f"numeric with two comparisons needs a lower bound (>, >=) then an upper bound (<, <=); "
                          f"got {operand!r}")
    # a range: above(low) and below(high); a side not given is unbounded, "=" is ">=" and "<=" one number
    above, low, below, high = operator.ge, -math.inf, operator.le, math.inf
    for op, bound in zip(ops, bounds, strict=True):
        if op in ("=", ">", ">="):
            above, low = _COMPARE[">=" if op == "=" else op], bound
        if op in ("=", "<", "<="):
            below, high = _COMPARE["<=" if op == "=" else op], bound

    def test(value: Any) -> bool:
        number = _as_number(value)
        return number is not None and above(number, low) and below(number, high)
    return test


def _cidr(operand: Any, loc: str) -> Test:
    try:
        if not isinstance(operand, str):
            raise TypeError(operand)
        network = ipaddress.ip_network(operand, strict=False)
    except (TypeError, ValueError):
        raise _error(loc, f"cidr needs an IPv4 or IPv6 network such as '10.0.0.0/24', got {operand!r}") from None

    def test(value: Any) -> bool:
        if not isinstance(value, str):
            return False
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return False
        return address.version == network.version and address in network
    return test


def _anything_but(operand: Any, loc: str) -> Test:
    if _is_scalar(operand):
        inner = _one_of((operand,))
    elif isinstance(operand, list) and operand and all(_is_scalar(item) for item in operand):
        inner = _one_of(tuple(operand))
    elif isinstance(operand, Mapping) and len(operand) == 1 and next(iter(operand)) in _NEGATABLE:
        op, arg = next(iter(operand.items()))
        inner = _ignore_case(arg, loc, many=True) if op == "equals-ignore-case" else _NEGATABLE[op](arg, loc)
    else:
        raise _error(loc, "anything-but needs a scalar, a non-empty list of scalars, or an object with one of "
                          f"prefix, suffix, equals-ignore-case, wildcard; got {operand!r}")

    def test(value: Any) -> bool:
        return not inner(value)
    return test


_NEGATABLE: dict[str, Callable[[Any, str], Test]] = {
    "prefix": partial(_affix, "prefix"), "suffix": partial(_affix, "suffix"),
    "equals-ignore-case": _ignore_case, "wildcard": _wildcard}
_OPERATORS: dict[str, Callable[[Any, str], Test]] = {
    **_NEGATABLE, "numeric": _numeric, "cidr": _cidr, "anything-but": _anything_but}


# -- nodes: one record in; a field, a nested record, $or, and the AND of them --------------------

def _any(parts: tuple[Test, ...]) -> Test:
    """True when one of ``parts`` is (never, for no parts); for tests and for nodes alike."""
    def either(value: Any) -> bool:
        return any(part(value) for part in parts)
    return either


def _leaf(key: str, matchers: list[Any], loc: str) -> Node:
    if not matchers:
        raise _error(loc, "needs at least one matcher, got an empty list")
    exact = tuple(matcher for matcher in matchers if _is_scalar(matcher))
    tests = [_one_of(exact)] if exact else []
    exists: set[bool] = set()
    for matcher in matchers:
        op, arg = next(iter(matcher.items())) if isinstance(matcher, Mapping) and len(matcher) == 1 else (None, None)
        if op == "exists" and isinstance(arg, bool):
            exists.add(arg)
        elif op in _OPERATORS:
            tests.append(_OPERATORS[op](arg, loc))
        elif not _is_scalar(matcher):
            raise _error(loc, "a matcher is a string, finite number, boolean, null, {\"exists\": true|false} or an "
                              f"object with one operator of {', '.join(sorted(_OPERATORS))}; got {matcher!r}")
    if_absent, if_present = False in exists, True in exists
    test = tests[0] if len(tests) == 1 else _any(tuple(tests))

    def node(record: Mapping[str, Any]) -> bool:
        value = record.get(key, _MISSING)
        if value is _MISSING:
            return if_absent
        if if_present:
            return True
        if isinstance(value, list):
            return any(test(item) for item in value)
        return test(value)
    return node


def _nested(key: str, inner: Node) -> Node:
    def node(record: Mapping[str, Any]) -> bool:
        value = record.get(key)
        if isinstance(value, Mapping):
            return inner(value)
        if isinstance(value, list) and value:
            return any(inner(item if isinstance(item, Mapping) else _EMPTY) for item in value)
        return inner(_EMPTY)
    return node


def _compile(pattern: Any, prefix: str, loc: str, fields: set[str]) -> Node:
    """``prefix`` is the dotted field path so far, ``loc`` the same with ``$or[i]`` steps, for messages."""
    if not isinstance(pattern, Mapping) or not pattern:
        raise _error(loc, f"must be a non-empty object of fields (and $or), got {pattern!r}")
    nodes: list[Node] = []
    for key, spec in pattern.items():
        here = _join(loc, str(key))
        if key == "$or":
            if not isinstance(spec, list) or not spec:
                raise _error(here, f"needs a non-empty list of patterns, got {spec!r}")
            nodes.append(_any(tuple(_compile(sub, prefix, f"{here}[{i}]", fields) for i, sub in enumerate(spec))))
        elif not isinstance(key, str) or not key or key.startswith("$"):
            raise _error(here, "a field name is a non-empty string; the only $ key is $or")
        elif isinstance(spec, Mapping):
            nodes.append(_nested(key, _compile(spec, _join(prefix, key), here, fields)))
        elif isinstance(spec, list):
            nodes.append(_leaf(key, spec, here))
            fields.add(_join(prefix, key))
        else:
            raise _error(here, f"expected a list of matchers or a nested pattern, got {spec!r}")
    if len(nodes) == 1:
        return nodes[0]
    group = tuple(nodes)

    def every(record: Mapping[str, Any]) -> bool:
        return all(part(record) for part in group)
    return every


# -- Avro schemas --------------------------------------------------------------------------------

def avro_field_paths(schema: Mapping[str, Any]) -> frozenset[str]:
    """Dotted paths of every field of an Avro record schema, nested records' fields included.

    Unions and arrays are transparent (``items.sku`` for field ``items``, an array of
    records with field ``sku``), and so are references by name to a named type
    defined earlier in the schema; a map is a leaf.
    """
    if not isinstance(schema, Mapping) or schema.get("type") != "record":
        raise ConfigError(f"not an Avro record schema: {str(schema)[:200]}")
    named: dict[str, tuple[Mapping[str, Any], str]] = {}  # full and short name -> (schema, enclosing namespace)
    paths: set[str] = set()
    open_records: set[str] = set()  # stops a recursive type from recursing forever

    def walk(avro_type: Any, prefix: str, namespace: str) -> None:
        if isinstance(avro_type, str):
            found = named.get(_join(namespace, avro_type)) or named.get(avro_type)
            if found is not None:
                walk(found[0], prefix, found[1])
        elif isinstance(avro_type, list):
            for branch in avro_type:
                walk(branch, prefix, namespace)
        elif isinstance(avro_type, Mapping):
            kind, name = avro_type.get("type"), avro_type.get("name")
            if kind in ("record", "enum", "fixed") and isinstance(name, str):
                space, _, short = name.rpartition(".")
                space = space or avro_type.get("namespace", namespace) or ""
                full = _join(space, short)
                named[full] = named[short] = (avro_type, namespace)
                if kind == "record" and full not in open_records:
                    open_records.add(full)
                    for item in avro_type.get("fields", ()):
                        paths.add(_join(prefix, item["name"]))
                        walk(item.get("type"), _join(prefix, item["name"]), space)
                    open_records.discard(full)
            elif kind == "array":
                walk(avro_type.get("items"), prefix, namespace)
            elif kind != "map":
                walk(kind, prefix, namespace)  # {"type": a union, a schema or a name}

    walk(schema, "", "")
    return frozenset(paths)


def check_fields(pattern: Pattern, schema: Mapping[str, Any], *, where: str) -> None:
    """Refuse a pattern that names a field the event schema does not have, listing those it has."""
    known = avro_field_paths(schema)
    unknown = sorted(pattern.fields() - known)
    if unknown:
        raise PatternError(f"{where}: unknown field(s) {', '.join(unknown)}; the schema has: "
                           f"{', '.join(sorted(known))}",
                           details=[{"field": name, "problem": "not in the event schema"} for name in unknown])

"""EventBridge event patterns: every operator both ways, properties against reference predicates, errors, Avro paths."""

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.errors import ConfigError
from streams.routing import Pattern, PatternError, avro_field_paths, check_fields, compile_pattern

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"
T0 = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
T0_MS = 1704164645678

MISSING = object()  # in a case's value: leave the field out of the event


def case(pattern_field: Any, value: Any, expected: bool, name: str) -> Any:
    """One field ``f`` with ``pattern_field`` as its pattern, matched against ``{"f": value}``."""
    return pytest.param({"f": pattern_field}, {} if value is MISSING else {"f": value}, expected, id=name)


CASES = [
    # exact scalars
    case(["a"], "a", True, "exact-str"),
    case(["a"], "b", False, "exact-str-other"),
    case(["a"], MISSING, False, "exact-str-missing"),
    case(["a"], None, False, "exact-str-none"),
    case(["5"], 5, False, "exact-str-vs-number"),
    case([5], 5.0, True, "exact-int-matches-float"),
    case([5.0], 5, True, "exact-float-matches-int"),
    case([5], "5", False, "exact-number-vs-str"),
    case([1], True, False, "exact-one-is-not-true"),
    case([0], False, False, "exact-zero-is-not-false"),
    case([True], True, True, "exact-true"),
    case([True], 1, False, "exact-true-is-not-one"),
    case([False], False, True, "exact-false"),
    case([None], None, True, "exact-null"),
    case([None], MISSING, False, "exact-null-needs-the-field"),
    case([None], "", False, "exact-null-vs-empty"),
    case(["a", {"prefix": "b"}], "bee", True, "or-in-list-second"),
    case(["a", {"prefix": "b"}], "c", False, "or-in-list-none"),
    # prefix / suffix, plain and ignoring case
    case([{"prefix": "ab"}], "abc", True, "prefix"),
    case([{"prefix": "ab"}], "xabc", False, "prefix-elsewhere"),
    case([{"prefix": "ab"}], "AB", False, "prefix-case"),
    case([{"prefix": "1"}], 12, False, "prefix-number"),
    case([{"prefix": "ab"}], None, False, "prefix-none"),
    case([{"prefix": "ab"}], MISSING, False, "prefix-missing"),
    case([{"prefix": {"equals-ignore-case": "EventB"}}], "eventbridge", True, "prefix-ignore-case"),
    case([{"prefix": {"equals-ignore-case": "EventB"}}], "xevent", False, "prefix-ignore-case-other"),
    case([{"suffix": ".png"}], "a.png", True, "suffix"),
    case([{"suffix": ".png"}], "a.PNG", False, "suffix-case"),
    case([{"suffix": {"equals-ignore-case": ".png"}}], "a.PNG", True, "suffix-ignore-case"),
    case([{"suffix": {"equals-ignore-case": ".png"}}], "a.jpg", False, "suffix-ignore-case-other"),
    # equals-ignore-case
    case([{"equals-ignore-case": "AbC"}], "aBc", True, "ignore-case"),
    case([{"equals-ignore-case": "AbC"}], "abcd", False, "ignore-case-longer"),
    case([{"equals-ignore-case": "1"}], 1, False, "ignore-case-number"),
    # wildcard
    case([{"wildcard": "a*b"}], "ab", True, "wildcard-empty-star"),
    case([{"wildcard": "a*b"}], "a-x-b", True, "wildcard"),
    case([{"wildcard": "a*b"}], "a-x-bc", False, "wildcard-whole-string"),
    case([{"wildcard": "a*b"}], "a\nb", True, "wildcard-star-spans-newline"),
    case([{"wildcard": "a.b"}], "axb", False, "wildcard-dot-is-literal"),
    case([{"wildcard": r"a\*b"}], "a*b", True, "wildcard-escaped-star"),
    case([{"wildcard": r"a\*b"}], "axb", False, "wildcard-escaped-star-is-literal"),
    case([{"wildcard": r"a\\*"}], "a\\xyz", True, "wildcard-escaped-backslash"),
    case([{"wildcard": "*"}], 5, False, "wildcard-number"),
    # numeric
    case([{"numeric": [">", 0, "<=", 5]}], 5, True, "numeric-upper-inclusive"),
    case([{"numeric": [">", 0, "<=", 5]}], 0, False, "numeric-lower-exclusive"),
    case([{"numeric": [">", 0, "<=", 5]}], 0.5, True, "numeric-float-in-int-range"),
    case([{"numeric": [">", 0, "<=", 5]}], 5.01, False, "numeric-float-above"),
    case([{"numeric": [">", 0, "<=", 5]}], True, False, "numeric-bool-is-not-a-number"),
    case([{"numeric": [">", 0, "<=", 5]}], "3", False, "numeric-string"),
    case([{"numeric": [">", 0, "<=", 5]}], None, False, "numeric-none"),
    case([{"numeric": [">", 0, "<=", 5]}], MISSING, False, "numeric-missing"),
    case([{"numeric": [">=", 1.5, "<", 2]}], 1.5, True, "numeric-float-bounds"),
    case([{"numeric": ["=", 3]}], 3.0, True, "numeric-equals"),
    case([{"numeric": ["=", 3.018e2]}], 301.8, True, "numeric-equals-exponent"),
    case([{"numeric": ["=", 3]}], 3.5, False, "numeric-equals-other"),
    case([{"numeric": ["<", 0]}], -1, True, "numeric-below"),
    case([{"numeric": ["<", 0]}], 0, False, "numeric-below-exclusive"),
    case([{"numeric": [">=", 10]}], 10, True, "numeric-at-least"),
    case([{"numeric": ["<=", 10]}], 11, False, "numeric-at-most"),
    # anything-but, every operand form
    case([{"anything-but": "x"}], "y", True, "anything-but-str"),
    case([{"anything-but": "x"}], "x", False, "anything-but-str-same"),
    case([{"anything-but": "x"}], MISSING, False, "anything-but-missing"),
    case([{"anything-but": "x"}], None, True, "anything-but-none-is-present"),
    case([{"anything-but": 5}], 5.0, False, "anything-but-number-same"),
    case([{"anything-but": 5}], 6, True, "anything-but-number"),
    case([{"anything-but": 1}], True, True, "anything-but-one-vs-true"),
    case([{"anything-but": None}], None, False, "anything-but-null"),
    case([{"anything-but": ["a", "b"]}], "c", True, "anything-but-list"),
    case([{"anything-but": ["a", "b"]}], "b", False, "anything-but-list-member"),
    case([{"anything-but": [100, 200]}], 200.0, False, "anything-but-number-list-member"),
    case([{"anything-but": {"prefix": "us-"}}], "eu-west-1", True, "anything-but-prefix"),
    case([{"anything-but": {"prefix": "us-"}}], "us-east-1", False, "anything-but-prefix-same"),
    case([{"anything-but": {"suffix": ".png"}}], "a.jpg", True, "anything-but-suffix"),
    case([{"anything-but": {"suffix": ".png"}}], "a.png", False, "anything-but-suffix-same"),
    case([{"anything-but": {"equals-ignore-case": "stop"}}], "STOP", False, "anything-but-ignore-case"),
    case([{"anything-but": {"equals-ignore-case": "stop"}}], "go", True, "anything-but-ignore-case-other"),
    case([{"anything-but": {"equals-ignore-case": ["a", "B"]}}], "b", False, "anything-but-ignore-case-list"),
    case([{"anything-but": {"equals-ignore-case": ["a", "B"]}}], "c", True, "anything-but-ignore-case-list-other"),
    case([{"anything-but": {"wildcard": "*/lib/*"}}], "/usr/lib/x", False, "anything-but-wildcard"),
    case([{"anything-but": {"wildcard": "*/lib/*"}}], "/usr/bin/x", True, "anything-but-wildcard-other"),
    # exists
    case([{"exists": True}], "x", True, "exists"),
    case([{"exists": True}], None, True, "exists-none-is-present"),
    case([{"exists": True}], [], True, "exists-empty-array"),
    case([{"exists": True}], MISSING, False, "exists-missing"),
    case([{"exists": False}], MISSING, True, "not-exists"),
    case([{"exists": False}], None, False, "not-exists-none-is-present"),
    case([{"exists": False}], ["a"], False, "not-exists-array"),
    case(["a", {"exists": False}], MISSING, True, "value-or-missing-missing"),
    case(["a", {"exists": False}], "a", True, "value-or-missing-value"),
    case(["a", {"exists": False}], "b", False, "value-or-missing-other"),
    # cidr
    case([{"cidr": "10.0.0.0/24"}], "10.0.0.255", True, "cidr-v4"),
    case([{"cidr": "10.0.0.0/24"}], "10.0.1.0", False, "cidr-v4-outside"),
    case([{"cidr": "10.0.0.0/24"}], "::ffff:10.0.0.1", False, "cidr-v4-vs-v6"),
    case([{"cidr": "10.0.0.0/24"}], "not an address", False, "cidr-garbage"),
    case([{"cidr": "10.0.0.0/24"}], 167772161, False, "cidr-int"),
    case([{"cidr": "2001:db8::/32"}], "2001:db8::1", True, "cidr-v6"),
    case([{"cidr": "2001:db8::/32"}], "2001:db9::1", False, "cidr-v6-outside"),
    case([{"cidr": "2001:db8::/32"}], "10.0.0.1", False, "cidr-v6-vs-v4"),
    # arrays: any element
    case(["a"], ["x", "a"], True, "array-any"),
    case(["a"], ["x", "y"], False, "array-none"),
    case(["a"], [], False, "array-empty"),
    case([{"numeric": [">", 10]}], [1, 20], True, "array-numeric"),
    case([{"anything-but": "a"}], ["a", "b"], True, "array-anything-but-one-other"),
    case([{"anything-but": "a"}], ["a"], False, "array-anything-but-all-same"),
    # datetime: ISO string for string operators, epoch milliseconds for number operators
    case([{"prefix": "2024-01-02T03"}], T0, True, "datetime-prefix-iso"),
    case([T0.isoformat()], T0, True, "datetime-exact-iso"),
    case([T0_MS], T0, True, "datetime-exact-epoch-ms"),
    case([{"numeric": [">=", T0_MS, "<", T0_MS + 1]}], T0, True, "datetime-numeric"),
    case([{"numeric": [">", T0_MS]}], T0, False, "datetime-numeric-other"),
    case([{"numeric": ["=", T0_MS]}], T0.replace(tzinfo=None), True, "datetime-naive-is-utc"),
    case([{"cidr": "0.0.0.0/0"}], T0, False, "datetime-cidr"),
]


@pytest.mark.parametrize(("pattern", "event", "expected"), CASES)
def test_operators(pattern: dict[str, Any], event: dict[str, Any], expected: bool) -> None:
    assert compile_pattern(pattern).matches(event) is expected


ORDER = {"state": "NEW", "total": 120, "customer": {"id": "c-7", "tier": "gold", "address": None},
         "items": [{"sku": "A-1", "qty": 1}, {"sku": "B-2", "qty": 5}], "tags": ["rush"]}


@pytest.mark.parametrize(("pattern", "expected"), [
    ({"state": ["NEW"], "total": [{"numeric": [">", 100]}]}, True),
    ({"state": ["NEW"], "total": [{"numeric": [">", 500]}]}, False),       # AND: one field fails
    ({"customer": {"tier": ["gold"], "id": [{"prefix": "c-"}]}}, True),   # nested record
    ({"customer": {"tier": ["silver"]}}, False),
    ({"customer": {"address": {"city": ["Paris"]}}}, False),               # None parent: no fields
    ({"customer": {"address": {"city": [{"exists": False}]}}}, True),
    ({"missing": {"deeper": [{"exists": False}]}}, True),
    ({"missing": {"deeper": [{"exists": True}]}}, False),
    ({"state": {"deeper": ["x"]}}, False),                                 # scalar parent: no fields
    ({"items": {"sku": ["B-2"]}}, True),                                   # array of records
    ({"items": {"sku": ["A-1"], "qty": [{"numeric": [">", 2]}]}}, False),  # ... one element matches all
    ({"items": {"sku": ["B-2"], "qty": [{"numeric": [">", 2]}]}}, True),
    ({"$or": [{"state": ["SHIPPED"]}, {"tags": ["rush"]}]}, True),
    ({"$or": [{"state": ["SHIPPED"]}, {"tags": ["slow"]}]}, False),
    ({"state": ["SHIPPED"], "$or": [{"tags": ["rush"]}, {"total": [120]}]}, False),  # $or AND-ed with fields
    ({"state": ["NEW"], "$or": [{"tags": ["slow"]}, {"total": [120]}]}, True),
    ({"customer": {"$or": [{"tier": ["silver"]}, {"id": ["c-7"]}]}}, True),           # $or inside a record
    ({"$or": [{"$or": [{"state": ["X"]}, {"state": ["NEW"]}]}, {"total": [0]}]}, True),  # nested $or
])
def test_combinations(pattern: dict[str, Any], expected: bool) -> None:
    assert compile_pattern(pattern).matches(ORDER) is expected


def test_fields_are_dotted_and_include_or() -> None:
    pattern = compile_pattern({"state": ["NEW"], "customer": {"id": ["c"], "$or": [{"tier": ["g"]}, {"vip": [True]}]},
                               "$or": [{"items": {"sku": ["A"]}}, {"total": [1]}]})
    assert pattern.fields() == {"state", "customer.id", "customer.tier", "customer.vip", "items.sku", "total"}


def test_compiled_pattern_is_immutable_and_detached_from_its_source() -> None:
    source: dict[str, Any] = {"state": ["NEW"], "tags": [{"anything-but": ["a"]}]}
    pattern = compile_pattern(source)
    source["state"].append("OLD")
    source["tags"][0]["anything-but"].append("b")
    source["total"] = [0]
    assert pattern.matches({"state": "NEW", "tags": "b"})
    assert not pattern.matches({"state": "OLD", "tags": "c"})
    assert pattern.fields() == {"state", "tags"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        pattern._fields = frozenset()  # type: ignore[misc]


# -- properties against reference predicates ------------------------------------------------------

NUMBERS = st.one_of(st.integers(-10**6, 10**6), st.floats(-1e6, 1e6, allow_nan=False))
TEXT = st.text(alphabet="abcAB.-*", max_size=6)
KEYS = st.sampled_from(["a", "b", "c"])
EVENTS = st.dictionaries(KEYS, st.one_of(st.none(), TEXT, st.integers(-3, 3)), max_size=3)


@given(x=NUMBERS, a=st.integers(-10**6, 10**6), width=st.integers(1, 10**6))
def test_numeric_range_is_a_lt_x_le_b(x: float, a: int, width: int) -> None:
    b = a + width
    assert compile_pattern({"f": [{"numeric": [">", a, "<=", b]}]}).matches({"f": x}) is (a < x <= b)


@given(x=NUMBERS, bound=NUMBERS, op=st.sampled_from(["=", "<", "<=", ">", ">="]))
def test_single_comparison_is_the_python_comparison(x: float, bound: float, op: str) -> None:
    expected = {"=": x == bound, "<": x < bound, "<=": x <= bound, ">": x > bound, ">=": x >= bound}[op]
    assert compile_pattern({"f": [{"numeric": [op, bound]}]}).matches({"f": x}) is expected


@given(value=TEXT, affix=TEXT)
def test_prefix_and_suffix_are_startswith_and_endswith(value: str, affix: str) -> None:
    assert compile_pattern({"f": [{"prefix": affix}]}).matches({"f": value}) is value.startswith(affix)
    assert compile_pattern({"f": [{"suffix": affix}]}).matches({"f": value}) is value.endswith(affix)
    ignoring = compile_pattern({"f": [{"prefix": {"equals-ignore-case": affix}}]})
    assert ignoring.matches({"f": value}) is value.lower().startswith(affix.lower())


@given(value=TEXT, other=TEXT)
def test_wildcard_without_a_star_is_equality(value: str, other: str) -> None:
    literal = other.replace("*", "")
    assert compile_pattern({"f": [{"wildcard": literal}]}).matches({"f": value}) is (value == literal)


@given(event=EVENTS, excluded=st.lists(TEXT, min_size=1, max_size=3))
def test_anything_but_list_is_present_and_not_in(event: dict[str, Any], excluded: list[str]) -> None:
    expected = "a" in event and event["a"] not in excluded
    assert compile_pattern({"a": [{"anything-but": excluded}]}).matches(event) is expected


@given(event=EVENTS, flag=st.booleans())
def test_exists_is_presence(event: dict[str, Any], flag: bool) -> None:
    assert compile_pattern({"a": [{"exists": flag}]}).matches(event) is (("a" in event) is flag)


FIELD_PATTERNS = st.sampled_from([["a"], [{"prefix": "a"}], [{"exists": False}], [{"anything-but": [1, 2]}],
                                  [None], [{"numeric": [">", 0]}], [2, {"suffix": "b"}]])


@given(event=EVENTS, first=FIELD_PATTERNS, second=FIELD_PATTERNS)
def test_fields_are_anded(event: dict[str, Any], first: list[Any], second: list[Any]) -> None:
    both = compile_pattern({"a": first, "b": second}).matches(event)
    assert both is (compile_pattern({"a": first}).matches(event) and compile_pattern({"b": second}).matches(event))


@given(event=EVENTS, alternatives=st.lists(st.tuples(KEYS, FIELD_PATTERNS), min_size=1, max_size=4))
def test_or_is_any(event: dict[str, Any], alternatives: list[tuple[str, list[Any]]]) -> None:
    subs = [{key: spec} for key, spec in alternatives]
    expected = any(compile_pattern(sub).matches(event) for sub in subs)
    assert compile_pattern({"$or": subs}).matches(event) is expected


# -- configuration errors name the path of the bad part -------------------------------------------

@pytest.mark.parametrize(("pattern", "path", "words"), [
    ({"state": "NEW"}, "state", "list of matchers"),
    ({"state": 5}, "state", "list of matchers"),
    ({"state": []}, "state", "at least one matcher"),
    ({"state": [["NEW"]]}, "state", "a matcher is"),
    ({"state": [float("nan")]}, "state", "finite number"),
    ({"state": [{"prefix": "a", "suffix": "b"}]}, "state", "one operator"),
    ({"state": [{"contains": "a"}]}, "state", "one operator of"),
    ({"state": [{"exists": "yes"}]}, "state", "exists"),
    ({"state": [{"prefix": 5}]}, "state", "prefix needs a string"),
    ({"state": [{"prefix": {"equals-ignore-case": 5}}]}, "state", "prefix needs a string"),
    ({"state": [{"suffix": {"other": "x"}}]}, "state", "suffix needs a string"),
    ({"state": [{"equals-ignore-case": ["a"]}]}, "state", "equals-ignore-case needs a string"),
    ({"state": [{"wildcard": 5}]}, "state", "wildcard needs a string"),
    ({"state": [{"wildcard": "a**"}]}, "state", "consecutive"),
    ({"state": [{"wildcard": r"a\b"}]}, "state", "backslash"),
    ({"state": [{"wildcard": "a\\"}]}, "state", "backslash"),
    ({"items": {"qty": [{"numeric": [">"]}]}}, "items.qty", "numeric needs an operator followed by a number"),
    ({"items": {"qty": [{"numeric": ["!=", 1]}]}}, "items.qty", "numeric needs an operator followed by a number"),
    ({"items": {"qty": [{"numeric": [">", "1"]}]}}, "items.qty", "numeric needs an operator followed by a number"),
    ({"items": {"qty": [{"numeric": [">", True]}]}}, "items.qty", "numeric needs an operator followed by a number"),
    ({"items": {"qty": [{"numeric": 5}]}}, "items.qty", "numeric needs an operator followed by a number"),
    ({"items": {"qty": [{"numeric": [">", 1, "<", 2, "=", 3]}]}}, "items.qty", "numeric needs"),
    ({"items": {"qty": [{"numeric": ["<", 5, ">", 1]}]}}, "items.qty", "lower bound (>, >=) then an upper bound"),
    ({"ip": [{"cidr": "10.0.0.0/33"}]}, "ip", "cidr"),
    ({"ip": [{"cidr": "not-a-network"}]}, "ip", "cidr"),
    ({"ip": [{"cidr": 10}]}, "ip", "cidr"),
    ({"s": [{"anything-but": []}]}, "s", "anything-but needs"),
    ({"s": [{"anything-but": [["a"]]}]}, "s", "anything-but needs"),
    ({"s": [{"anything-but": {"numeric": [">", 1]}}]}, "s", "anything-but needs"),
    ({"s": [{"anything-but": {"prefix": 5}}]}, "s", "prefix needs a string"),
    ({"s": [{"anything-but": {"equals-ignore-case": [1]}}]}, "s", "equals-ignore-case needs"),
    ({"$or": {"a": ["x"]}}, "$or", "non-empty list of patterns"),
    ({"$or": []}, "$or", "non-empty list of patterns"),
    ({"$or": [{"a": ["x"]}, "b"]}, "$or[1]", "non-empty object"),
    ({"$or": [{"a": ["x"]}, {"b": "x"}]}, "$or[1].b", "list of matchers"),
    ({"customer": {"$or": [{}]}}, "customer.$or[0]", "non-empty object"),
    ({"customer": {}}, "customer", "non-empty object"),
    ({"$and": [{"a": ["x"]}]}, "$and", "the only $ key is $or"),
    ({}, "<pattern>", "non-empty object"),
])
def test_pattern_errors_name_the_path(pattern: dict[str, Any], path: str, words: str) -> None:
    with pytest.raises(PatternError) as caught:
        compile_pattern(pattern)
    message = str(caught.value)
    assert message.startswith(f"{path}: "), message
    assert words in message
    assert isinstance(caught.value, ConfigError)
    assert not caught.value.dead_letter


# -- Avro field paths ----------------------------------------------------------------------------

ADDRESS = {"type": "record", "name": "Address", "namespace": "com.acme.common",
           "fields": [{"name": "city", "type": "string"}, {"name": "zip", "type": ["null", "string"]}]}
ORDER_SCHEMA: dict[str, Any] = {
    "type": "record", "name": "Order", "namespace": "com.acme.orders",
    "fields": [
        {"name": "state", "type": {"type": "enum", "name": "State", "symbols": ["NEW", "DONE"]}},
        {"name": "customer", "type": {"type": "record", "name": "Customer", "fields": [
            {"name": "id", "type": "string"},
            {"name": "address", "type": ["null", ADDRESS], "default": None},      # optional record
        ]}},
        {"name": "items", "type": {"type": "array", "items": {"type": "record", "name": "Item", "fields": [
            {"name": "sku", "type": "string"}, {"name": "qty", "type": "int"}]}}},
        {"name": "billing", "type": "com.acme.common.Address"},                  # reference by full name
        {"name": "shipping", "type": ["null", "Customer"]},                      # by short name, in a union
        {"name": "old_state", "type": "State"},                                  # a named enum: a leaf
        {"name": "attributes", "type": {"type": "map", "values": "string"}},    # a map: a leaf
        {"name": "placed_at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    ],
}


def test_avro_field_paths() -> None:
    assert avro_field_paths(ORDER_SCHEMA) == {
        "state", "customer", "customer.id", "customer.address", "customer.address.city", "customer.address.zip",
        "items", "items.sku", "items.qty", "billing", "billing.city", "billing.zip",
        "shipping", "shipping.id", "shipping.address", "shipping.address.city", "shipping.address.zip",
        "old_state", "attributes", "placed_at"}


def test_avro_field_paths_stop_at_a_recursive_type() -> None:
    node = {"type": "record", "name": "Node", "fields": [
        {"name": "value", "type": "int"}, {"name": "next", "type": ["null", "Node"]}]}
    assert avro_field_paths(node) == {"value", "next"}


def test_avro_field_paths_of_the_order_placed_schema() -> None:
    paths = avro_field_paths(json.loads((SCHEMAS / "OrderPlaced.avsc").read_text()))
    assert {"order_id", "items", "items.sku", "items.quantity"} <= paths


def test_avro_field_paths_needs_a_record() -> None:
    with pytest.raises(ConfigError, match="not an Avro record"):
        avro_field_paths({"type": "array", "items": "string"})


def test_check_fields_accepts_known_fields() -> None:
    pattern = compile_pattern({"items": {"sku": ["A"]}, "customer": {"address": {"city": ["Paris"]}},
                               "$or": [{"billing": {"zip": [{"exists": False}]}}, {"state": ["NEW"]}]})
    check_fields(pattern, ORDER_SCHEMA, where="fan-out rule 'fraud-review'")


def test_check_fields_names_the_rule_the_unknown_fields_and_the_known_ones() -> None:
    pattern: Pattern = compile_pattern({"items": {"price": [{"numeric": [">", 0]}]}, "$or": [{"colour": ["red"]}]})
    with pytest.raises(PatternError) as caught:
        check_fields(pattern, ORDER_SCHEMA, where="fan-out rule 'fraud-review'")
    message = str(caught.value)
    assert message.startswith("fan-out rule 'fraud-review': unknown field(s) colour, items.price;")
    assert "items.sku" in message
    assert "customer.address.city" in message
    assert caught.value.details == [{"field": "colour", "problem": "not in the event schema"},
                                    {"field": "items.price", "problem": "not in the event schema"}]

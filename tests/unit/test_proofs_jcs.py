"""JCS (RFC 8785): the RFC's own examples, its number table, and a differential test."""

from __future__ import annotations

import json
import struct
from typing import Any

import pytest
from c14n.Canonicalize import canonicalize as cyberphone_canonicalize
from hypothesis import given
from hypothesis import strategies as st

from signers.proofs import CanonicalizationError, jcs

# RFC 8785 appendix B: IEEE-754 bit patterns and their canonical text.
NUMBERS = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("bits", "expected"), NUMBERS)
def test_rfc_8785_number_serialization(bits: str, expected: str) -> None:
    (value,) = struct.unpack(">d", bytes.fromhex(bits))
    assert jcs(value) == expected


@pytest.mark.parametrize("bits", ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"])
def test_nan_and_infinity_are_refused(bits: str) -> None:
    (value,) = struct.unpack(">d", bytes.fromhex(bits))
    with pytest.raises(CanonicalizationError, match="NaN and Infinity"):
        jcs({"n": value})


def test_rfc_8785_main_example() -> None:
    source = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    assert jcs(json.loads(source)) == (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )


def test_members_sort_by_utf16_code_units_not_code_points() -> None:
    names = ["\u20ac", "\r", "\ufb33", "1", "\U0001f600", "\u0080", "\u00f6"]
    canonical = jcs({name: 0 for name in names})
    # U+1F600 is the surrogate pair D83D DE00, so it sorts before U+FB33.
    order = ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    assert canonical == "{" + ",".join(f'"{n}":0' if n != "\r" else '"\\r":0' for n in order) + "}"


def test_control_characters_are_escaped_in_lowercase_hex() -> None:
    assert jcs("\x00\x1f\b\t\n\f\r\u2028") == '"\\u0000\\u001f\\b\\t\\n\\f\\r\u2028"'


def test_integers_beyond_two_to_the_53_go_through_a_double() -> None:
    assert jcs(10**21) == "1e+21"
    # ECMAScript prints the shortest round-tripping digits, then zeros.
    assert jcs(2**60) == "1152921504606847000"
    with pytest.raises(CanonicalizationError, match="not exactly an IEEE-754 double"):
        jcs(2**53 + 1)


@pytest.mark.parametrize("value", ["\ud800", {"\udead": 1}, {1: "a"}, {"a": {1, 2}}])
def test_values_outside_i_json_are_refused(value: Any) -> None:
    with pytest.raises(CanonicalizationError):
        jcs(value)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_agrees_with_the_rfc_authors_python_implementation(value: Any) -> None:
    # c14n (vendored with PyLD) is Anders Rundgren's reference implementation.
    assert jcs(value) == cyberphone_canonicalize(value).decode("utf-8")


@given(json_values)
def test_canonical_text_parses_back_to_the_same_value(value: Any) -> None:
    # Compared as doubles: JCS writes 6.0e16 as an integer literal.
    assert json.loads(jcs(value), parse_int=float) == value

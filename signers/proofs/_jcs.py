"""JSON Canonicalization Scheme (RFC 8785), the canonical form of ``eddsa-jcs-2022``.

Strings and numbers are serialized as ECMAScript's ``JSON.stringify`` does; object members
are sorted by their names' UTF-16 code units.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from signers.proofs._canon import CanonicalizationError

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f"}
_ESCAPES["\r"] = "\\r"
_TO_ESCAPE = re.compile(r'["\\\x00-\x1f]')
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# Integers up to 2**53 print alike in Python and ECMAScript; beyond, go through a double.
_EXACT_INT = 2**53


class JcsCanonicalizer:
    """The :class:`~signers.proofs.Canonicalizer` of ``eddsa-jcs-2022``."""

    def canonize(self, document: Mapping[str, Any]) -> str:
        return jcs(document)


def jcs(value: Any) -> str:
    """The RFC 8785 canonical JSON text of ``value`` (parsed JSON: dict, list, str, ...)."""
    out: list[str] = []
    try:
        _write(value, out)
    except RecursionError:
        raise CanonicalizationError("JCS: the value is nested too deeply") from None
    return "".join(out)


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_string(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(_integer(value))
    elif isinstance(value, float):
        out.append(_number(value))
    elif isinstance(value, Mapping):
        _write_object(value, out)
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise CanonicalizationError(f"JCS: {type(value).__name__} is not a JSON value")


def _write_object(value: Mapping[Any, Any], out: list[str]) -> None:
    for name in value:
        if not isinstance(name, str):
            raise CanonicalizationError(f"JCS: object member name {name!r} is not a string")
    try:
        names = sorted(value, key=lambda name: name.encode("utf-16-be"))
    except UnicodeEncodeError:
        raise CanonicalizationError("JCS: a member name contains a lone surrogate") from None
    out.append("{")
    for index, name in enumerate(names):
        if index:
            out.append(",")
        out.append(_string(name))
        out.append(":")
        _write(value[name], out)
    out.append("}")


def _string(value: str) -> str:
    # RFC 8785 3.2.2.2: lone surrogates must terminate canonicalization.
    if _LONE_SURROGATE.search(value):
        raise CanonicalizationError("JCS: a string contains a lone surrogate")
    return '"' + _TO_ESCAPE.sub(_escape, value) + '"'


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char) or f"\\u{ord(char):04x}"


def _integer(value: int) -> str:
    if -_EXACT_INT <= value <= _EXACT_INT:
        return str(value)
    try:
        as_double = float(value)
    except OverflowError:
        as_double = math.inf
    if as_double != value:
        raise CanonicalizationError(f"JCS: integer {value} is not exactly an IEEE-754 double")
    return _number(as_double)


def _number(value: float) -> str:
    """ECMAScript Number::toString (the shortest round-tripping digits, as ``repr``)."""
    if not math.isfinite(value):
        raise CanonicalizationError("JCS: NaN and Infinity are not JSON numbers")
    if value == 0:
        return "0"  # also -0
    sign = "-" if value < 0 else ""
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    # value = 0.<digits> x 10**point
    point = len(whole) + int(exponent or 0) - (len(whole + fraction) - len(digits))
    digits = digits.rstrip("0")
    count = len(digits)
    if count <= point <= 21:
        text = digits + "0" * (point - count)
    elif 0 < point <= 21:
        text = digits[:point] + "." + digits[point:]
    elif -6 < point <= 0:
        text = "0." + "0" * -point + digits
    else:
        power = point - 1
        head = digits[0] + ("." + digits[1:] if count > 1 else "")
        text = f"{head}e{'+' if power >= 0 else '-'}{abs(power)}"
    return sign + text

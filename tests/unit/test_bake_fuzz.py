"""Properties of baking: any credential round-trips; damaged files fail with a typed error."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from signers.render import (
    BakingError,
    bake_png,
    bake_svg,
    default_png,
    default_svg,
    extract_png,
    extract_svg,
)

ARTWORK_PNG = default_png("urn:fuzz")
ARTWORK_SVG = default_svg("urn:fuzz", "Fuzz")
# Any Unicode text except lone surrogates (which UTF-8 cannot carry).
TEXT = st.text(st.characters(exclude_categories=("Cs",)))
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=20,
)


@given(TEXT.filter(lambda t: t.strip()))
def test_png_carries_any_text_exactly(text: str) -> None:
    assert extract_png(bake_png(ARTWORK_PNG, text)) == text


@given(JSON_VALUES)
def test_svg_carries_any_json_value(value: Any) -> None:
    text = json.dumps({"credential": value}, ensure_ascii=False)
    assert json.loads(extract_svg(bake_svg(ARTWORK_SVG, text))) == {"credential": value}


def _damaged(image: bytes, data: st.DataObject) -> bytes:
    kind = data.draw(st.sampled_from(["flip", "truncate", "insert", "delete"]))
    position = data.draw(st.integers(0, len(image) - 1))
    if kind == "flip":
        return (
            image[:position]
            + bytes([image[position] ^ data.draw(st.integers(1, 255))])
            + image[position + 1 :]
        )
    if kind == "truncate":
        return image[:position]
    if kind == "insert":
        return image[:position] + data.draw(st.binary(min_size=1, max_size=8)) + image[position:]
    return image[:position] + image[position + data.draw(st.integers(1, 16)) :]


def _outcome(operation: Callable[[bytes], str | bytes], image: bytes) -> str:
    """'refused' (a typed error) or 'ok' (a result of the right type); anything else raises."""
    try:
        result = operation(image)
    except BakingError:
        return "refused"
    assert isinstance(result, str | bytes)
    return "ok"


def _rebake(image: bytes) -> bytes:
    return bake_svg(image, "{}")


@settings(max_examples=300)
@given(st.data())
def test_damaged_png_extracts_or_fails_typed(data: st.DataObject) -> None:
    damaged = _damaged(bake_png(ARTWORK_PNG, '{"id":"urn:uuid:1"}'), data)
    assert _outcome(extract_png, damaged) in ("ok", "refused")


@settings(max_examples=300)
@given(st.data())
def test_damaged_svg_extracts_bakes_or_fails_typed(data: st.DataObject) -> None:
    damaged = _damaged(bake_svg(ARTWORK_SVG, '{"id":"urn:uuid:1"}'), data)
    assert _outcome(extract_svg, damaged) in ("ok", "refused")
    assert _outcome(_rebake, damaged) in ("ok", "refused")


def test_damage_is_detected() -> None:
    # The properties above are not vacuous: damage inside the chunk's CRC is refused.
    baked = bake_png(ARTWORK_PNG, '{"id":"urn:uuid:1"}')
    assert _outcome(extract_png, baked[:-20] + b"x" + baked[-19:]) == "refused"
    assert _outcome(extract_svg, bake_svg(ARTWORK_SVG, "{}")[:-3]) == "refused"


@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_crash(blob: bytes) -> None:
    for operation in (extract_png, extract_svg, lambda b: bake_png(b, "{}"), _rebake):
        assert _outcome(operation, blob) in ("ok", "refused")

"""Baked PNG and SVG badges: round trips that verify, the exact layout, malformed files."""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

import pytest

from signers.proofs import RdfcReferenceCanonicalizer, add_proof, ed25519_signer, verify_proof
from signers.render import (
    OB_NAMESPACE,
    BakingError,
    CredentialNotBakedError,
    MalformedImageError,
    bake_png,
    bake_svg,
    default_png,
    default_svg,
    extract_png,
    extract_svg,
    png_size,
)
from signers.render._png import PNG_SIGNATURE, Chunk, read_chunks
from tests.unit._proofs_vectors import OB, load, ob_expected, ob_signed

SEED = "https://example.edu/achievements/da-101"
ITXT = b"openbadgecredential\x00\x00\x00\x00\x00"  # keyword, flags, empty tag, empty keyword
COMPRESSED = b"openbadgecredential\x00\x01\x00\x00\x00"


def compact(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def hostile_credential() -> tuple[dict[str, Any], bytes]:
    """An OB credential whose text has non-ASCII, ']]>' and XML-illegal characters, signed
    here with the OB vector's key; returns it with the public key."""
    expected = ob_expected()
    unsigned = load(OB / "unsigned.json")
    unsigned["name"] = "Ünïcode ✓ ]]> <svg> & \ufffe end"
    seed = bytes.fromhex(expected["privateKeySeedHex"])
    signed = add_proof(
        unsigned, expected["proofOptions"], ed25519_signer(seed), RdfcReferenceCanonicalizer()
    )
    return signed, bytes.fromhex(expected["publicKeyHex"])


CREDENTIALS = {
    "ob-vector": (ob_signed(), bytes.fromhex(ob_expected()["publicKeyHex"])),
    "hostile": hostile_credential(),
}


@pytest.mark.parametrize("name", sorted(CREDENTIALS))
@pytest.mark.parametrize(
    ("bake", "extract", "artwork"),
    [
        (bake_png, extract_png, default_png(SEED)),
        (bake_svg, extract_svg, default_svg(SEED, "Data Analysis 101")),
    ],
    ids=["png", "svg"],
)
def test_bake_extract_verify(name: str, bake: Any, extract: Any, artwork: bytes) -> None:
    credential, public_key = CREDENTIALS[name]
    text = compact(credential)
    baked = bake(artwork, text)
    extracted = json.loads(extract(baked))
    assert extracted == credential
    assert verify_proof(extracted, public_key, RdfcReferenceCanonicalizer()).verified
    assert bake(artwork, text) == baked  # deterministic: conditional writes see a replay


def test_png_extraction_gives_back_the_exact_stored_bytes() -> None:
    text = compact(CREDENTIALS["hostile"][0])
    assert extract_png(bake_png(default_png(SEED), text)) == text


def test_png_chunk_layout_follows_open_badges_3() -> None:
    text = '{"id":"urn:uuid:1"}'
    chunks = read_chunks(bake_png(default_png(SEED), text))
    assert [c.type for c in chunks[-2:]] == [b"iTXt", b"IEND"]  # just before IEND
    data = chunks[-2].data
    # keyword NUL, compression flag 0, method 0, empty language tag NUL, empty translated NUL
    assert data == b"openbadgecredential\x00" + b"\x00\x00" + b"\x00" + b"\x00" + text.encode()


def test_png_rebaking_replaces_the_chunk_and_keeps_every_other_chunk() -> None:
    artwork = default_png(SEED)
    original = read_chunks(artwork)
    with_text = PNG_SIGNATURE + b"".join(
        c.encode() for c in [*original[:-1], Chunk(b"tEXt", b"Comment\x00kept"), original[-1]]
    )
    twice = bake_png(bake_png(with_text, '{"n":1}'), '{"n":2}')
    chunks = read_chunks(twice)
    assert extract_png(twice) == '{"n":2}'
    assert sum(c.type == b"iTXt" for c in chunks) == 1
    assert [c for c in chunks if c.type != b"iTXt"] == read_chunks(with_text)


def svg_children(svg: bytes) -> list[str]:
    from xml.etree import ElementTree

    root = ElementTree.fromstring(svg)
    return [child.tag for child in root]


def test_svg_element_is_the_first_child_with_the_namespace_declared() -> None:
    baked = bake_svg(default_svg(SEED, "Badge"), '{"a":"x]]>y"}')
    assert svg_children(baked)[0] == f"{{{OB_NAMESPACE}}}credential"
    assert f'xmlns:openbadges="{OB_NAMESPACE}"'.encode() in baked
    assert b"<![CDATA[" in baked and b"]]]]><![CDATA[>" in baked  # ']]>' split across sections
    assert extract_svg(baked) == '{"a":"x]]>y"}'


def test_svg_rebaking_replaces_the_credential_and_declares_the_prefix_once() -> None:
    twice = bake_svg(bake_svg(default_svg(SEED, "Badge"), '{"n":1}'), '{"n":2}')
    assert twice.count(b"xmlns:openbadges=") == 1
    assert twice.count(b"<openbadges:credential>") == 1
    assert extract_svg(twice) == '{"n":2}'
    assert twice == bake_svg(default_svg(SEED, "Badge"), '{"n":2}')


def test_svg_artwork_is_kept_byte_for_byte() -> None:
    artwork = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- made by hand -->\n'
        b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4" data-x="a>b">'
        b'\n  <rect width="4" height="4" fill="#123"/>\n</svg>\n'
    )
    baked = bake_svg(artwork, "{}")
    element = (
        f' xmlns:openbadges="{OB_NAMESPACE}"'.encode(),
        b"<openbadges:credential><![CDATA[{}]]></openbadges:credential>",
    )
    expected = artwork.replace(b"<svg", b"<svg" + element[0], 1).replace(
        b'data-x="a>b">', b'data-x="a>b">' + element[1], 1
    )
    assert baked == expected


def test_svg_self_closing_root_and_prefixed_root() -> None:
    empty = bake_svg(b'<svg xmlns="http://www.w3.org/2000/svg" />', "{}")
    assert empty.endswith(b"<openbadges:credential><![CDATA[{}]]></openbadges:credential></svg>")
    prefixed = b'<s:svg xmlns:s="http://www.w3.org/2000/svg"><s:g/></s:svg>'
    assert extract_svg(bake_svg(prefixed, '{"p":1}')) == '{"p":1}'


def test_svg_extraction_reads_the_spec_layout_and_a_jws_in_verify() -> None:
    spec_style = (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="{OB_NAMESPACE}">\n'
        '  <openbadges:credential>\n    <![CDATA[\n  {"id": 1}\n    ]]>\n'
        "  </openbadges:credential>\n</svg>"
    ).encode()
    assert json.loads(extract_svg(spec_style)) == {"id": 1}
    jws = (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="{OB_NAMESPACE}">'
        '<openbadges:credential verify="eyJh.eyJz.c2ln"/></svg>'
    ).encode()
    assert extract_svg(jws) == "eyJh.eyJz.c2ln"
    rebaked = bake_svg(jws, '{"j":0}')
    assert b"verify=" not in rebaked and extract_svg(rebaked) == '{"j":0}'


def test_svg_with_an_existing_openbadges_declaration_is_not_declared_twice() -> None:
    declared = f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="{OB_NAMESPACE}"/>'
    baked = bake_svg(declared.encode(), "{}")
    assert baked.count(b"xmlns:openbadges") == 1


@pytest.mark.parametrize(
    ("svg", "message"),
    [
        (b"<html/>", "root element must be <svg>"),
        (b"<svg>", "not well-formed"),
        (b"<svg/>", "root element must be <svg> in http://www.w3.org/2000/svg"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org"/>',
            "binds the prefix 'openbadges'",
        ),
        (
            b'<?xml version="1.0" encoding="ISO-8859-1"?><svg xmlns="http://www.w3.org/2000/svg"/>',
            "only UTF-8",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b'<svg xmlns="http://www.w3.org/2000/svg">&b;</svg>',
            "entity declarations are not allowed",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<svg xmlns="http://www.w3.org/2000/svg">&x;</svg>',
            "entity declarations are not allowed",
        ),
        ("\ufeff".encode("utf-16-le") + b"<\x00", "UTF-16"),
    ],
)
def test_svg_that_cannot_be_baked_fails_naming_why(svg: bytes, message: str) -> None:
    with pytest.raises(MalformedImageError, match=message):
        bake_svg(svg, "{}")


def test_svg_extraction_errors_are_typed() -> None:
    plain = b'<svg xmlns="http://www.w3.org/2000/svg"/>'
    with pytest.raises(CredentialNotBakedError):
        extract_svg(plain)
    element = f'<b:credential xmlns:b="{OB_NAMESPACE}"><![CDATA[{{}}]]></b:credential>'
    two = f'<svg xmlns="http://www.w3.org/2000/svg">{element}{element}</svg>'.encode()
    with pytest.raises(MalformedImageError, match="2 openbadges:credential elements"):
        extract_svg(two)
    empty = (
        f'<svg xmlns="http://www.w3.org/2000/svg"><b:credential xmlns:b="{OB_NAMESPACE}"/></svg>'
    )
    with pytest.raises(MalformedImageError, match="is empty"):
        extract_svg(empty.encode())


def png_with(*chunks: Chunk) -> bytes:
    header = Chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    data = Chunk(b"IDAT", zlib.compress(b"\x00\x00"))
    return PNG_SIGNATURE + b"".join(
        c.encode() for c in [header, data, *chunks, Chunk(b"IEND", b"")]
    )


def test_png_extraction_errors_are_typed_and_say_what_is_wrong() -> None:
    baked = bake_png(png_with(), '{"x":1}')
    cases: list[tuple[bytes, type[BakingError], str]] = [
        (b"GIF89a", MalformedImageError, "signature"),
        (baked[:-5], MalformedImageError, "truncated"),
        (baked[:30] + bytes([baked[30] ^ 1]) + baked[31:], MalformedImageError, "CRC mismatch"),
        (baked[: -len(Chunk(b"IEND", b"").encode())], MalformedImageError, "no IEND"),
        (baked + b"junk", MalformedImageError, "stray bytes after IEND"),
        (png_with(), CredentialNotBakedError, "no iTXt chunk"),
        (
            png_with(Chunk(b"iTXt", COMPRESSED + zlib.compress(b"{}"))),
            MalformedImageError,
            "compressed",
        ),
        (
            png_with(*[Chunk(b"iTXt", ITXT + b"{}")] * 2),
            MalformedImageError,
            "2 openbadgecredential chunks",
        ),
        (
            png_with(Chunk(b"iTXt", ITXT + b"\xff\xfe")),
            MalformedImageError,
            "not UTF-8",
        ),
        (
            png_with(Chunk(b"iTXt", b"openbadgecredential\x00\x00\x00")),
            MalformedImageError,
            "missing NUL",
        ),
    ]
    for image, error, message in cases:
        with pytest.raises(error, match=message):
            extract_png(image)


def test_png_with_a_language_tag_still_extracts() -> None:
    # Not what we bake, but a reader takes the text whatever the tag says.
    image = png_with(Chunk(b"iTXt", b"openbadgecredential\x00\x00\x00en\x00Badge\x00{}"))
    assert extract_png(image) == "{}"


def test_default_artwork_is_deterministic_valid_and_coloured_by_achievement() -> None:
    assert default_png(SEED) == default_png(SEED)
    assert png_size(default_png(SEED)) == (256, 256)
    palettes = {
        next(c.data for c in read_chunks(default_png(seed)) if c.type == b"PLTE")
        for seed in (SEED, SEED + "-2", "urn:other")
    }
    assert len(palettes) == 3
    svg = default_svg(SEED, 'Data <Analysis> & "More"\x07 and a very long name indeed')
    assert svg == default_svg(SEED, 'Data <Analysis> & "More"\x07 and a very long name indeed')
    assert svg_children(svg)[0] == "{http://www.w3.org/2000/svg}title"
    assert b"&lt;Analysis&gt; &amp;" in svg and b"\x07" not in svg
    assert "…".encode() in svg  # the visible label is shortened; the title keeps it all

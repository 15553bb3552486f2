"""Baked SVG badges (Open Badges 3.0, 5.3.2): an ``<openbadges:credential>`` element.

The element, in the namespace ``https://purl.imsglobal.org/ob/v3p0``, is the first child
of the root ``<svg>`` and holds the credential JSON in CDATA (a ``]]>`` inside splits
the section); the root declares ``xmlns:openbadges``. A credential already baked in is
replaced. Baking edits the original bytes in place (expat finds where), so the artwork is
kept byte for byte and the output is deterministic.

Parsing refuses DTD entity declarations and never resolves external entities: an SVG
is untrusted input (billion laughs, XXE).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NoReturn
from xml.parsers import expat

from signers.render._errors import CredentialNotBakedError, MalformedImageError

OB_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
SVG_NAMESPACE = "http://www.w3.org/2000/svg"
_CREDENTIAL = f"{OB_NAMESPACE} credential"
_PREFIX = "openbadges"
# Characters XML 1.0 does not allow anywhere, CDATA included. In JSON they can only sit
# inside strings, where a \uXXXX escape is the same value.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass
class _Layout:
    """Where things are in the original bytes."""

    root_start: int = -1
    root_name: str = ""
    root_declares: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None
    credentials: list[tuple[int, int]] = field(default_factory=list)  # [start, end)
    texts: list[str] = field(default_factory=list)  # each credential element's content


def _refuse_entities(*_: object) -> NoReturn:
    raise MalformedImageError("SVG: entity declarations are not allowed")


def _tag_end(svg: bytes, start: int) -> int:
    """Index just past the ``>`` of the tag starting at ``start`` (quotes respected)."""
    quote = 0
    for index in range(start + 1, len(svg)):
        byte = svg[index]
        if quote:
            if byte == quote:
                quote = 0
        elif byte in b"\"'":
            quote = byte
        elif byte == 0x3E:  # '>'
            return index + 1
    raise MalformedImageError(f"SVG: unterminated tag at byte {start}")


class _Scanner:
    """One expat pass that records the layout (offsets are into the original bytes)."""

    def __init__(self, svg: bytes) -> None:
        self._svg = svg
        self.layout = _Layout()
        self._depth = 0
        self._pending: dict[str, str] = {}
        self._inside: list[int] = []  # start offsets of open credential elements
        self._text: list[str] = []
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.buffer_text = True
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.EntityDeclHandler = _refuse_entities
        parser.UnparsedEntityDeclHandler = _refuse_entities
        parser.ExternalEntityRefHandler = _refuse_entities
        parser.XmlDeclHandler = self._declaration
        parser.StartNamespaceDeclHandler = self._namespace
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._characters
        self._parser = parser

    def scan(self) -> _Layout:
        try:
            self._parser.Parse(self._svg, True)
        except expat.ExpatError as error:
            raise MalformedImageError(f"SVG: not well-formed XML ({error})") from None
        root = self.layout.root_name
        if root != f"{SVG_NAMESPACE} svg":
            shown = root.replace(" ", ":") or "none"
            raise MalformedImageError(
                f"SVG: the root element must be <svg> in {SVG_NAMESPACE}, not {shown}"
            )
        return self.layout

    def _declaration(self, _version: str, encoding: str | None, _standalone: int) -> None:
        self.layout.encoding = encoding

    def _namespace(self, prefix: str | None, uri: str) -> None:
        if self._depth == 0:
            self._pending[prefix or ""] = uri

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        offset = self._parser.CurrentByteIndex
        if self._depth == 0:
            self.layout.root_start, self.layout.root_name = offset, name
            self.layout.root_declares = dict(self._pending)
        self._depth += 1
        if name == _CREDENTIAL:
            if self._inside:
                raise MalformedImageError("SVG: openbadges:credential elements are nested")
            self._inside.append(offset)
            self._text.clear()
            if attributes.get("verify"):  # a compact JWS (VC-JWT) in the attribute
                self._text.append(attributes["verify"])

    def _end(self, name: str) -> None:
        self._depth -= 1
        if name != _CREDENTIAL:
            return
        start = self._inside.pop()
        head_end = _tag_end(self._svg, start)
        if self._svg[head_end - 2 : head_end] == b"/>":
            end = head_end
        else:
            end = _tag_end(self._svg, self._parser.CurrentByteIndex)
        self.layout.credentials.append((start, end))
        self.layout.texts.append("".join(self._text))

    def _characters(self, data: str) -> None:
        if self._inside:
            self._text.append(data)


def _scan(svg: bytes) -> _Layout:
    return _Scanner(svg).scan()


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def bake_svg(image: bytes, credential: str) -> bytes:
    """``image`` with ``credential`` baked in (deterministic: same inputs, same bytes)."""
    if image.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise MalformedImageError("SVG: UTF-16 documents cannot be baked; use UTF-8")
    layout = _scan(image)
    if layout.encoding is not None and layout.encoding.lower().replace("_", "-") not in (
        "utf-8",
        "utf8",
    ):
        raise MalformedImageError(
            f"SVG: declares encoding {layout.encoding!r}; only UTF-8 SVGs can be baked"
        )
    declared = layout.root_declares.get(_PREFIX)
    if declared not in (None, OB_NAMESPACE):
        raise MalformedImageError(
            f"SVG: the root binds the prefix {_PREFIX!r} to {declared!r}, not {OB_NAMESPACE}"
        )
    start = layout.root_start
    name_end = start + 1
    while name_end < len(image) and image[name_end] not in b" \t\r\n/>":
        name_end += 1
    head_end = _tag_end(image, start)
    self_closing = image[head_end - 2 : head_end] == b"/>"
    attribute = b"" if declared else f' xmlns:{_PREFIX}="{OB_NAMESPACE}"'.encode()
    element = f"<{_PREFIX}:credential>{_cdata(_XML_ILLEGAL.sub(_escape, credential))}"
    element += f"</{_PREFIX}:credential>"
    # Credentials baked before are removed (they are all inside the root, after head_end).
    rest, position = [], head_end
    for begin, finish in sorted(layout.credentials):
        rest.append(image[position:begin])
        position = finish
    rest.append(image[position:])
    head = image[start:name_end] + attribute + image[name_end:head_end]
    if self_closing:
        head = head[:-2].rstrip() + b">"
        rest.insert(0, f"</{image[start + 1 : name_end].decode()}>".encode())
    tail = b"".join(rest)
    baked = image[:start] + head + element.encode("utf-8") + tail
    _scan(baked)  # the result is well-formed, or we fail here rather than publish it
    return baked


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def extract_svg(image: bytes) -> str:
    """The credential text baked into an SVG (CDATA content, or a ``verify`` JWS)."""
    layout = _scan(image)
    if not layout.texts:
        raise CredentialNotBakedError("SVG: no openbadges:credential element")
    if len(layout.texts) > 1:
        raise MalformedImageError(
            f"SVG: {len(layout.texts)} openbadges:credential elements (one allowed)"
        )
    text = layout.texts[0].strip()
    if not text:
        raise MalformedImageError("SVG: the openbadges:credential element is empty")
    return text

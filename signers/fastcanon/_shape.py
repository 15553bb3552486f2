"""Document shapes: the JSON structure of a credential with its leaf values taken out.

``describer(...)`` gives the hot-path walk: one pass over the document yields a flat,
hashable *shape* (keys, nesting, list lengths and the kind of every leaf) and the list of
leaf *values* in walk order. Two documents with the same shape differ only in those values,
so their canonical N-Quads differ only where the values go. ``parse`` turns a shape back
into a tree for the (slow, cached) template assembly.

The strings of ``type`` (types select contexts, and expand against ``@vocab``) and of the
terms typed ``@vocab`` (whose values may be terms, as ``proofPurpose``) are part of the
shape, not values. Whether a string value is a safe IRI is not part of the shape: the
render function checks the values that land where an IRI is expected.

Only a conservative subset of JSON-LD is described; anything else gets ``None`` and goes to
the reference canonicalizer: no ``@``-keywords but the root ``@context`` (a packaged URL or
a list of them) and value objects, no nested lists, and no keys that the packaged contexts
give semantics the templates do not model (keyword aliases, map containers, reverse).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Final

# A shape is one string: tokens joined by NUL. Keys and constants are printable (the walk
# gives up on others), so the control characters below never occur inside a token and
# the encoding is injective: equal shapes are equal structures. A string leaf adds no
# token of its own: a key followed by a key or by END holds a string.
SEPARATOR: Final = "\x00"
NODE: Final = "\x01"
END: Final = "\x02"
LIST: Final = "\x03"  # followed by the length
CONST: Final = "\x04"  # followed by the constant string
TRUE: Final = "\x05"
FALSE: Final = "\x06"
NULL: Final = "\x07"
K_STR: Final = "\x0e"  # a string element of a list
K_INT: Final = "\x0f"
K_FLOAT: Final = "\x10"
VALUE_OBJECT: Final = "\x11"  # followed by its other entries' count, the entries, the value
HOLE_KINDS: Final = frozenset((K_STR, K_INT, K_FLOAT))
NO_TYPE: Final = "\x12"
"""The type token of an object without ``type`` (never a token of a shape)."""
# Tags of the tuples ``parse`` makes for leaves that are not holes of a plain kind.
CONST_LEAF: Final = "const"  # ("const", constant)
VALUE_LEAF: Final = "value"  # ("value", hole kind or boolean, ((key, value), ...))

_VALUE_OBJECT_KEYS: Final = frozenset(("@value", "@language", "@type", "@direction"))
_KNOWN_KEYS_MAX: Final = 4096
# Key classes: a property, a key whose strings are constants, the root's @context.
_PROPERTY, _CONSTANT_VALUES, _CONTEXT = 0, 1, 2

Describe = Callable[[dict[str, Any]], "tuple[str, list[Any]] | None"]


@dataclass(frozen=True)
class Vocabulary:
    """What the packaged contexts define, as far as the walk needs it.

    ``constant_keys``: keys whose string values are part of the shape: ``type`` (types
    select contexts and expand against ``@vocab``) and the terms typed ``@vocab`` (their
    values may be terms, e.g. ``proofPurpose``).
    ``unsupported_keys``: keys whose definitions the templates do not model.
    ``terms``: every term name (a scheme that is a term would make a compact IRI).
    """

    terms: frozenset[str]
    constant_keys: frozenset[str]
    unsupported_keys: frozenset[str]


def describer(contexts: Collection[str], vocabulary: Vocabulary) -> Describe:  # noqa: PLR0915
    """``describe(document) -> (shape, values)``, or None when the walk does not model it.

    One closure per canonicalizer: this is the per-document hot path, so what it needs is
    bound to local names and the common cases are written out rather than factored.
    """
    known: dict[str, int] = {}  # key -> class, for keys seen before (bounded)
    printable: set[str] = set()  # constants seen before (bounded)

    def classify(key: str) -> int | None:
        if key == "@context":
            return _CONTEXT
        if key[:1] == "@" or key in vocabulary.unsupported_keys or not key.isprintable():
            return None
        kind = _CONSTANT_VALUES if key in vocabulary.constant_keys else _PROPERTY
        if len(known) < _KNOWN_KEYS_MAX:
            known[key] = kind
        return kind

    def describe(document: dict[str, Any]) -> tuple[str, list[Any]] | None:
        context = document.get("@context")
        if type(context) is str:
            if context not in contexts:
                return None
            head = "S" + context
        elif type(context) is list and context:
            for item in context:
                if type(item) is not str or item not in contexts:
                    return None
            head = "L" + "\x1f".join(context)
        else:
            return None
        shape: list[str] = [head]
        values: list[Any] = []
        if not node(document, shape.append, values.append, True):
            return None
        return SEPARATOR.join(shape), values

    def node(obj: dict[str, Any], put: Any, hole: Any, root: bool = False) -> bool:
        put(NODE)
        for key, value in obj.items():
            kind = known.get(key)
            if kind is None:
                kind = classify(key)
                if kind is None:
                    return False
            if kind:
                if kind == _CONTEXT:
                    if root:
                        continue
                    return False
                put(key)
                # The usual ``"type": ["Achievement"]``, without a call.
                if (
                    type(value) is list
                    and len(value) == 1
                    and type(value[0]) is str
                    and value[0] in printable
                ):
                    put(LIST)
                    put("1")
                    put(CONST)
                    put(value[0])
                elif not constants(value, put):
                    return False
                continue
            put(key)
            value_type = type(value)
            if value_type is str:
                hole(value)
            elif value_type is list:
                put(LIST)
                put(str(len(value)))
                for item in value:
                    if type(item) is str:
                        put(K_STR)
                        hole(item)
                    elif not element(item, put, hole):
                        return False
            elif not element(value, put, hole):
                return False
        put(END)
        return True

    def element(value: Any, put: Any, hole: Any) -> bool:
        kind = type(value)
        if kind is dict:
            if "@value" in value:
                return value_object(value, put, hole)
            return node(value, put, hole)
        if kind is str:
            put(K_STR)
            hole(value)
        elif kind is int:
            put(K_INT)
            hole(value)
        elif kind is float:
            put(K_FLOAT)
            hole(value)
        elif kind is bool:
            put(TRUE if value else FALSE)
        elif value is None:
            put(NULL)
        else:
            return False  # nested lists, and anything that is not JSON
        return True

    def constants(value: Any, put: Any) -> bool:
        """Strings (or a list of them) kept in the shape, as under ``type``."""
        if type(value) is str:
            if not value.isprintable():
                return False
            put(CONST)
            put(value)
            return True
        if type(value) is not list:
            return False
        put(LIST)
        put(str(len(value)))
        for item in value:
            if type(item) is not str or not item.isprintable():
                return False
            if len(printable) < _KNOWN_KEYS_MAX:
                printable.add(item)
            put(CONST)
            put(item)
        return True

    def value_object(obj: dict[str, Any], put: Any, hole: Any) -> bool:
        if not _VALUE_OBJECT_KEYS.issuperset(obj):
            return False
        others: list[str] = []
        for key, item in obj.items():
            if key != "@value":
                if type(item) is not str or not item.isprintable():
                    return False
                others.extend((key, item))
        put(VALUE_OBJECT)
        put(str(len(others) // 2))
        for item in others:
            put(item)
        return element(obj["@value"], put, hole) and type(obj["@value"]) in _SCALARS

    return describe


_SCALARS: Final = (str, int, float, bool)


# --- parsing a shape back into a tree (slow path, once per shape) ---------------------


class ShapeError(ValueError):
    """A shape the templates do not handle (e.g. an ``id`` that is not a string)."""


@dataclass
class Node:
    """A JSON object of the document: its identity, ``type`` token and other entries."""

    id_value: int | None = None  # index of its ``id`` in the values; None: a blank node
    types: Any = NO_TYPE  # NO_TYPE, a str or a tuple of str, as written
    entries: list[tuple[str, bool, list[Element]]] = field(default_factory=list)
    """(key, written as a list, elements)"""


@dataclass(frozen=True)
class Leaf:
    """A leaf: ``token`` is a hole kind, a CONST_LEAF or a VALUE_LEAF tuple."""

    token: Any
    value: int | None  # index in the values when the leaf is a hole


Element = Leaf | Node


def parse(shape: str) -> tuple[Any, Node]:
    """``(context, root node)`` of a shape made by ``describe``."""
    tokens = shape.split(SEPARATOR)
    head = tokens[0]
    context: Any = head[1:] if head[0] == "S" else tuple(head[1:].split("\x1f"))
    parser = _Parser(tokens)
    root = parser.node()
    if parser.position != len(tokens):
        raise ShapeError("trailing shape tokens")
    return context, root


_MARKERS: Final = frozenset((NODE, END, LIST, CONST, TRUE, FALSE, NULL, VALUE_OBJECT, *HOLE_KINDS))
_CONSTANT_LEAVES: Final = {TRUE: True, FALSE: False, NULL: None}


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.position = 1
        self.values = 0

    def take(self) -> str:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def node(self) -> Node:
        if self.take() != NODE:
            raise ShapeError("expected an object")
        node = Node()
        while True:
            key = self.take()
            if key == END:
                return node
            following = self.tokens[self.position]
            as_list = following == LIST
            if as_list:
                self.position += 1
                elements = [self.element() for _ in range(int(self.take()))]
            elif following == END or following not in _MARKERS:  # a string leaf
                elements = [Leaf(K_STR, self._hole())]
            else:
                elements = [self.element()]
            if key == "id":
                node.id_value = _identity(as_list, elements)
            elif key == "type":
                node.types = _types(as_list, elements)
            else:
                node.entries.append((key, as_list, elements))

    def element(self) -> Element:
        token = self.tokens[self.position]
        if token == NODE:
            return self.node()
        self.position += 1
        if token == CONST:
            return Leaf((CONST_LEAF, self.take()), None)
        if token in _CONSTANT_LEAVES:
            return Leaf((CONST_LEAF, _CONSTANT_LEAVES[token]), None)
        if token in HOLE_KINDS:
            return Leaf(token, self._hole())
        if token == VALUE_OBJECT:
            count = int(self.take())
            others = tuple((self.take(), self.take()) for _ in range(count))
            inner = self.element()
            assert isinstance(inner, Leaf)
            value = inner.token if inner.value is not None else inner.token[1]
            return Leaf((VALUE_LEAF, value, tuple(sorted(others))), inner.value)
        raise ShapeError(f"unexpected shape token {token!r}")

    def _hole(self) -> int:
        self.values += 1
        return self.values - 1


def _identity(as_list: bool, elements: list[Element]) -> int:
    if as_list or not isinstance(elements[0], Leaf) or elements[0].token != K_STR:
        raise ShapeError("an id must be a single string")
    assert elements[0].value is not None
    return elements[0].value


def _types(as_list: bool, elements: list[Element]) -> Any:
    names = []
    for element in elements:
        if not isinstance(element, Leaf) or not isinstance(element.token, tuple):
            raise ShapeError("type values must be strings")
        tag, name = element.token[0], element.token[1]
        if tag != CONST_LEAF or not isinstance(name, str):
            raise ShapeError("type values must be strings")
        names.append(name)
    return tuple(names) if as_list else names[0]

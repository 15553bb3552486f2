"""Document shapes: the JSON structure of a credential with its leaf values taken out.

``describer(...)`` gives the hot-path walk: one pass over the document yields a flat,
hashable *shape* (keys, nesting, list lengths and the kind of every leaf) and the list of
leaf *values* in walk order. Two documents with the same shape differ only in those values,
so their canonical N-Quads differ only where the values go. ``parse`` turns a shape back
into a tree for the (slow, cached) template assembly.

A string equal to a term of the packaged contexts is part of the shape (a constant), not a
value: JSON-LD may expand it as that term (``proofPurpose``); so is every ``type`` value
(types select contexts, and expand against ``@vocab``). Whether a
string value is a safe IRI is not part of the shape; the render function checks the values
that land where an IRI is expected.

Only a conservative subset of JSON-LD is described; anything else gets ``None`` and goes to
the reference canonicalizer: no ``@``-keywords but the root ``@context`` (a packaged URL or
a list of them) and value objects, no nested lists, and no keys that the packaged contexts
give semantics the templates do not model (keyword aliases, map containers, reverse).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Final

# Structural tokens: ints, never confused with keys (always strings).
NODE: Final = 0
END: Final = 1
LIST: Final = 2
CONST: Final = 3  # followed by the constant (a term string, a boolean or null)
# Leaf kinds: each consumes one value.
K_STR: Final = 10
K_INT: Final = 11
K_FLOAT: Final = 12
HOLE_KINDS: Final = frozenset((K_STR, K_INT, K_FLOAT))
VALUE_OBJECT: Final = 20
"""Tag of a value object's token: ``(VALUE_OBJECT, value kind or (CONST, value), others)``."""
NO_TYPE: Final = 30
"""The type token of an object without ``type``."""

_VALUE_OBJECT_KEYS: Final = frozenset(("@value", "@language", "@type", "@direction"))

Describe = Callable[[dict[str, Any]], "tuple[tuple[Any, ...], list[Any]] | None"]


@dataclass(frozen=True)
class Vocabulary:
    """What the packaged contexts define, as far as the walk needs it.

    ``terms``: every term name in any packaged context.
    ``unsupported_keys``: keys whose definitions the templates do not model.
    """

    terms: frozenset[str]
    unsupported_keys: frozenset[str]


def describer(contexts: Collection[str], vocabulary: Vocabulary) -> Describe:  # noqa: PLR0915
    """``describe(document) -> (shape, values)``, or None when the walk does not model it.

    One closure per canonicalizer: this is the per-document hot path, so what it needs is
    bound to local names and the common cases are written out rather than factored.
    """
    terms = vocabulary.terms
    unsupported = vocabulary.unsupported_keys

    def describe(document: dict[str, Any]) -> tuple[tuple[Any, ...], list[Any]] | None:
        context = document.get("@context")
        if type(context) is str:
            if context not in contexts:
                return None
        elif type(context) is list and context:
            for item in context:
                if type(item) is not str or item not in contexts:
                    return None
            context = tuple(context)
        else:
            return None
        shape: list[Any] = [context]
        values: list[Any] = []
        if not node(document, shape.append, values.append, True):
            return None
        return tuple(shape), values

    def node(obj: dict[str, Any], put: Any, hole: Any, root: bool = False) -> bool:
        put(NODE)
        for key, value in obj.items():
            if key[:1] == "@":
                if root and key == "@context":
                    continue
                return False
            if key in unsupported:
                return False
            put(key)
            kind = type(value)
            if kind is str:
                if value in terms or key == "type":
                    put(CONST)
                    put(value)
                else:
                    put(K_STR)
                    hole(value)
            elif kind is list:
                put(LIST)
                put(len(value))
                for item in value:
                    if type(item) is str:
                        if item in terms or key == "type":
                            put(CONST)
                            put(item)
                        else:
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
            if value in terms:
                put(CONST)
                put(value)
            else:
                put(K_STR)
                hole(value)
            return True
        if kind is int:
            put(K_INT)
            hole(value)
            return True
        if kind is float:
            put(K_FLOAT)
            hole(value)
            return True
        if kind is bool or value is None:
            put(CONST)
            put(value)
            return True
        return False  # nested lists, and anything that is not JSON

    def value_object(obj: dict[str, Any], put: Any, hole: Any) -> bool:
        if not _VALUE_OBJECT_KEYS.issuperset(obj):
            return False
        others = []
        for key, item in obj.items():
            if key != "@value":
                if type(item) is not str:
                    return False
                others.append((key, item))
        value = obj["@value"]
        kind = type(value)
        if kind is str:
            value_kind: Any = K_STR
        elif kind is int:
            value_kind = K_INT
        elif kind is float:
            value_kind = K_FLOAT
        elif kind is bool:
            value_kind = (CONST, value)
        else:
            return False
        put((VALUE_OBJECT, value_kind, tuple(sorted(others))))
        if value_kind in HOLE_KINDS:
            hole(value)
        return True

    return describe


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
    """A leaf: ``token`` is a hole kind, ``(CONST, value)`` or a value-object tuple."""

    token: Any
    value: int | None  # index in the values when the leaf is a hole


Element = Leaf | Node


def parse(shape: tuple[Any, ...]) -> tuple[Any, Node]:
    """``(context, root node)`` of a shape made by ``describe``."""
    parser = _Parser(shape)
    root = parser.node()
    if parser.position != len(shape):
        raise ShapeError("trailing shape tokens")
    return shape[0], root


class _Parser:
    def __init__(self, shape: tuple[Any, ...]) -> None:
        self.shape = shape
        self.position = 1
        self.values = 0

    def take(self) -> Any:
        token = self.shape[self.position]
        self.position += 1
        return token

    def node(self) -> Node:
        if self.take() != NODE:
            raise ShapeError("expected an object")
        node = Node()
        while True:
            key = self.take()
            if not isinstance(key, str):  # END
                return node
            as_list = self.shape[self.position] == LIST
            if as_list:
                self.position += 1
                elements = [self.element() for _ in range(self.take())]
            else:
                elements = [self.element()]
            if key == "id":
                node.id_value = _identity(as_list, elements)
            elif key == "type":
                node.types = _types(as_list, elements)
            else:
                node.entries.append((key, as_list, elements))

    def element(self) -> Element:
        token = self.shape[self.position]
        if token == NODE and type(token) is int:
            return self.node()
        self.position += 1
        if token == CONST and type(token) is int:
            return Leaf((CONST, self.take()), None)
        if token in HOLE_KINDS and type(token) is int:
            return Leaf(token, self._hole())
        if isinstance(token, tuple) and token[1] in HOLE_KINDS:
            return Leaf(token, self._hole())
        return Leaf(token, None)

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
            raise ShapeError("type values must be terms of the packaged contexts")
        tag, name = element.token[0], element.token[1]
        if tag != CONST or not isinstance(name, str):
            raise ShapeError("type values must be terms of the packaged contexts")
        names.append(name)
    return tuple(names) if as_list else names[0]

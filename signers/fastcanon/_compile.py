"""Compiling *units* with the reference canonicalizer.

A unit is one entry of one JSON object in a given place: ``(signature, id flag, type token,
key, element token)``, where the signature (root context and the path of (type token, key)
pairs from the root) fixes the JSON-LD active context of the object. The reference
canonicalizes a small document holding just that path, the object's ``type`` and the one
entry, with placeholders for the object, its child and its leaf value. The lines whose
subject is the object tell what the entry produces, the placeholders marking the holes.

Compiling through the reference (not pyld directly) keeps its rules: what it refuses
(undefined terms, relative IRIs: data loss) rejects the unit, so the documents that need the
unit go to the reference and fail there exactly as they would without templates. Every
check below must hold too, or the unit is rejected (``None``):

- no blank node anywhere (lists, ``@graph`` containers); no ``rdf:JSON`` literal;
- a leaf placeholder appears exactly once, as a whole literal or as a whole IRI object.
  String placeholders are safe IRIs: where one shows as a literal, every string does; where
  it shows as an IRI, the render function accepts only values that are safe IRIs too;
- a child placeholder appears exactly once, as an IRI object of the unit's object;
- no other subject than the object, its path ancestors and the child's ``rdf:type`` lines.

The type unit (``(signature, id flag, type token)``) holds the object's ``rdf:type`` lines;
key units leave those out (they would repeat them).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from signers.fastcanon._shape import CONST_LEAF, HOLE_KINDS, K_INT, K_STR, NO_TYPE, VALUE_LEAF
from signers.proofs import Canonicalizer

EMPTY_LIST: Final = ("empty",)
"""Element token of an entry written as ``[]`` (it may still produce ``rdf:nil``)."""
CHILD: Final = "node"
"""First item of the element token of a child object: ``(CHILD, id flag, type token)``."""

# Quad forms of a unit template: a constant object, a link to the child, or a hole.
FORM_CONSTANT: Final = "c"
FORM_CHILD: Final = "n"
FORM_LITERAL: Final = "lit"
FORM_IRI: Final = "iri"
FORM_INTEGER: Final = "int"
FORM_DOUBLE: Final = "dbl"

_RDF_JSON: Final = "^^<http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON>"
_RDF_TYPE: Final = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
_MARK: Final = "x-fastcanon"
_NUMBER_BASE: Final = 7315926535000
_LITERAL_SUFFIX: Final = re.compile(r'(\^\^<[^<>"\s]*>|@[A-Za-z0-9-]+)?')
_DOUBLE_EXPONENT: Final = re.compile(r"(\d)0*E\+?0*(\d)")


def double_lexical(value: float | int) -> str:
    """pyld's canonical xsd:double lexical form (e.g. ``1.5E0``)."""
    return _DOUBLE_EXPONENT.sub(r"\1E\2", "%1.15E" % value)  # noqa: UP031 (pyld's own)


@dataclass(frozen=True)
class QuadSpec:
    """One quad of a unit: subject is the unit's object, ``predicate`` as N-Quads text.

    ``form`` is FORM_CONSTANT (``text`` is the object), FORM_CHILD (the object is the
    child) or a hole form (``text`` is the literal's suffix: ``^^<datatype>``, ``@lang``).
    """

    predicate: str
    form: str
    text: str


UnitTemplate = tuple[QuadSpec, ...]
Signature = tuple[Any, tuple[tuple[Any, str], ...]]


def type_unit(signature: Signature, has_id: bool, types: Any) -> tuple[Any, ...]:
    return ("t", signature, has_id, types)


def key_unit(
    signature: Signature, has_id: bool, types: Any, key: str, element: Any
) -> tuple[Any, ...]:
    return ("k", signature, has_id, types, key, element)


class UnitCompiler:
    """Compiles units with the reference and keeps them in a bounded LRU cache."""

    def __init__(self, reference: Canonicalizer, max_units: int) -> None:
        self._reference = reference
        self._cache: OrderedDict[tuple[Any, ...], UnitTemplate | None] = OrderedDict()
        self._max = max_units
        self.compiled = 0

    def __len__(self) -> int:
        return len(self._cache)

    def templates(self, units: Iterable[tuple[Any, ...]]) -> dict[Any, UnitTemplate | None]:
        """The template of every unit (None = rejected), compiling the missing ones."""
        return {unit: self.template(unit) for unit in dict.fromkeys(units)}

    def template(self, unit: tuple[Any, ...]) -> UnitTemplate | None:
        if unit in self._cache:
            self._cache.move_to_end(unit)
            return self._cache[unit]
        types: UnitTemplate | None = ()
        if unit[0] == "k":
            types = self.template(type_unit(unit[1], unit[2], unit[3]))
        template = None if types is None else self._compile(unit, types)
        self.compiled += 1
        self._cache[unit] = template
        if len(self._cache) > self._max:
            self._cache.popitem(last=False)
        return template

    def _compile(self, unit: tuple[Any, ...], types: UnitTemplate) -> UnitTemplate | None:
        plan = _Plan(unit)
        try:
            nquads = self._reference.canonize(plan.document)
        except Exception:  # whatever the reference refuses stays the reference's to refuse
            return None
        specs = plan.specs(nquads)
        if specs is None:
            return None
        if unit[0] == "t":
            return specs if all(spec.form == FORM_CONSTANT for spec in specs) else None
        type_lines = {(spec.predicate, spec.text) for spec in types}
        return tuple(spec for spec in specs if (spec.predicate, spec.text) not in type_lines)


class _Plan:
    """The document that compiles one unit, and how to read the reference's answer."""

    def __init__(self, unit: tuple[Any, ...]) -> None:
        self._counter = 0
        kind, signature, has_id, types = unit[:4]
        context, path = signature
        self.target = self._name("t")
        target: dict[str, Any] = {("id" if has_id else "@id"): self.target}
        _put_types(target, types)
        self.child: str | None = None
        self.leaf: Any = None
        self.leaf_kind: Any = None
        if kind == "k":
            target[unit[4]] = self._element(unit[5])
        self.ancestors = []
        node = target
        for parent_types, parent_key in reversed(path):
            self.ancestors.append(self._name("a"))
            parent: dict[str, Any] = {"@id": self.ancestors[-1]}
            _put_types(parent, parent_types)
            parent[parent_key] = node
            node = parent
        node["@context"] = list(context) if isinstance(context, tuple) else context
        self.document = node

    def _name(self, role: str) -> str:
        self._counter += 1
        return f"urn:{_MARK}:{role}{self._counter}:z"

    def _element(self, element: Any) -> Any:
        """The JSON value standing for an element token, with its placeholders."""
        if element == EMPTY_LIST:
            return []
        tag = element[0] if isinstance(element, tuple) else None
        if tag == CHILD:
            _, has_id, types = element
            self.child = self._name("c")
            stub: dict[str, Any] = {("id" if has_id else "@id"): self.child}
            _put_types(stub, types)
            return stub
        if tag == CONST_LEAF:
            return element[1]
        if tag == VALUE_LEAF:
            _, value, others = element
            value_object = dict(others)
            value_object["@value"] = self._leaf(value) if value in HOLE_KINDS else value
            return value_object
        return self._leaf(element)

    def _leaf(self, kind: Any) -> Any:
        self._counter += 1
        self.leaf_kind = kind
        if kind == K_STR:
            self.leaf = f"urn:{_MARK}:v{self._counter}:z"
        elif kind == K_INT:
            self.leaf = _NUMBER_BASE + self._counter
        else:
            self.leaf = _NUMBER_BASE + self._counter + 0.8125
        return self.leaf

    def specs(self, nquads: str) -> UnitTemplate | None:
        """The target's lines as specs, or None when a check fails."""
        specs: list[QuadSpec] = []
        hits = 0
        checked = []  # where a placeholder may appear once: all but the child's own lines
        for line in nquads.splitlines(keepends=True):
            if "_:" in line or _RDF_JSON in line or not line.endswith(" .\n"):
                return None
            subject_end = line.find("> ")
            predicate_end = line.find("> ", subject_end + 2)
            if not line.startswith("<") or predicate_end < 0:
                return None
            subject = line[1:subject_end]
            predicate = line[subject_end + 2 : predicate_end + 1]
            obj = line[predicate_end + 2 : -3]
            if subject == self.child:
                if predicate != _RDF_TYPE:
                    return None
                continue
            checked.append(line)
            if subject in self.ancestors:
                continue
            if subject != self.target:
                return None
            spec = self._hole(predicate, obj)
            if spec is not None:
                hits += 1
            elif _MARK in obj:
                return None
            else:
                spec = QuadSpec(predicate, FORM_CONSTANT, obj)
            specs.append(spec)
        if self.leaf is not None or self.child is not None:
            found = sum(line.count(token) for token in self._tokens() for line in checked)
            if hits != 1 or found != 1:
                return None
        return tuple(specs)

    def _tokens(self) -> tuple[str, ...]:
        if self.child is not None:
            return (self.child,)
        if self.leaf_kind == K_STR:
            return (self.leaf,)
        if self.leaf_kind == K_INT:  # either lexical form (the two never overlap)
            return (str(self.leaf), double_lexical(self.leaf))
        return (double_lexical(self.leaf),)

    def _hole(self, predicate: str, obj: str) -> QuadSpec | None:
        """The spec when the object is the child or leaf placeholder, else None."""
        if self.child is not None:
            return QuadSpec(predicate, FORM_CHILD, "") if obj == f"<{self.child}>" else None
        if self.leaf is None:
            return None
        if self.leaf_kind == K_STR:
            if obj == f"<{self.leaf}>":
                return QuadSpec(predicate, FORM_IRI, "")
            return _literal(predicate, obj, self.leaf, FORM_LITERAL)
        if self.leaf_kind == K_INT:
            integer = _literal(predicate, obj, str(self.leaf), FORM_INTEGER)
            return integer or _literal(predicate, obj, double_lexical(self.leaf), FORM_DOUBLE)
        return _literal(predicate, obj, double_lexical(self.leaf), FORM_DOUBLE)


def _literal(predicate: str, obj: str, lexical: str, form: str) -> QuadSpec | None:
    quoted = f'"{lexical}"'
    if not obj.startswith(quoted) or _LITERAL_SUFFIX.fullmatch(obj, len(quoted)) is None:
        return None
    return QuadSpec(predicate, form, obj[len(quoted) :])


def _put_types(node: dict[str, Any], types: Any) -> None:
    if types != NO_TYPE:
        node["type"] = list(types) if isinstance(types, tuple) else types

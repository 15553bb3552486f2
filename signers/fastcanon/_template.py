"""Document templates: a shape's compiled units assembled into one render function.

``assemble`` (slow path, once per shape) lays out every quad of the document: subject (an
object of the document: its ``id`` value or a blank node), predicate and object (a constant,
a child object or a leaf value), then generates a Python function that, given the shape's
values, writes the canonical N-Quads the reference would: it fills the holes (escaping
literals as pyld does), labels the blank nodes by RDFC-1.0 and sorts the lines.

Blank-node labelling follows RDFC-1.0: each blank node's first-degree hash (SHA-256 over
its sorted quads, itself written ``_:a`` and other blank nodes ``_:z``); when all hashes
differ, the labels ``_:c14n0``... follow the order of the hashes. Equal hashes come from
identical objects (two results with the same score): when those are interchangeable,
their labels follow directly (``tied_labels``); otherwise pyld's own URDNA2015, N-degree
step included, labels the same quads (``full_rdfc``).

The render function returns None where the template proves nothing: a value where an IRI
goes that is not a safe absolute IRI, or values pyld would merge (equal values of one
property, an object written twice under one ``id``; JSON-LD keeps one of them).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

from pyld.jsonld import URDNA2015

from signers.fastcanon._compile import (
    CHILD,
    EMPTY_LIST,
    FORM_CHILD,
    FORM_CONSTANT,
    FORM_DOUBLE,
    FORM_INTEGER,
    FORM_IRI,
    FORM_LITERAL,
    Signature,
    UnitCompiler,
    UnitTemplate,
    double_lexical,
    key_unit,
    type_unit,
)
from signers.fastcanon._shape import (
    CONST_LEAF,
    K_FLOAT,
    K_INT,
    VALUE_LEAF,
    Leaf,
    Node,
    ShapeError,
    parse,
)

Render = Callable[[list[Any]], "str | None"]

_ESCAPED: Final = ("\\", "\t", "\n", "\r", '"')
# A value where an IRI goes must be one that pyld neither rewrites nor drops and N-Quads
# carries verbatim: a scheme that is not a term (never a compact IRI), a colon, then only
# printable characters (no whitespace, no control) and none that N-Quads must escape.
_SCHEME: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_NOT_IN_IRIS: Final = (" ", "<", ">", '"', "{", "}", "|", "^", "`", "\\")
_KNOWN_SCHEMES_MAX: Final = 256


class Schemes:
    """Tells safe URI schemes, remembering up to a few hundred of them (values are
    untrusted: the memory is bounded)."""

    def __init__(self, terms: frozenset[str]) -> None:
        self._terms = terms
        self.known: dict[str, bool] = {}

    def __call__(self, scheme: str) -> bool:
        safe = _SCHEME.fullmatch(scheme) is not None and scheme not in self._terms
        if safe and len(self.known) < _KNOWN_SCHEMES_MAX:
            self.known[scheme] = True
        return safe


@dataclass(frozen=True)
class Support:
    """What render functions call: the scheme check and the N-degree path."""

    schemes: Schemes
    full_rdfc: Callable[[Layout, list[Any]], str]


_NEEDS_ESCAPE: Final = re.compile(r'[\\\t\n\r"]')
_MAX_BLANK_NODES: Final = 256


def escape_literal(value: str) -> str:
    """A literal's lexical form as pyld writes it in N-Quads (only these five escapes)."""
    if _NEEDS_ESCAPE.search(value) is None:
        return value
    return (
        value.replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace('"', '\\"')
    )


@dataclass(frozen=True)
class _Object:
    """A quad's object: a constant text, a node (index) or a hole (form, suffix, value)."""

    form: str
    text: str = ""
    node: int = -1
    value: int = -1


@dataclass(frozen=True)
class _Quad:
    subject: int
    predicate: str
    obj: _Object
    numeric: bool = False  # the object is a number (its JSON value, for merge checks)
    boolean: bool = False


def assemble(
    shape: str,
    compiler: UnitCompiler,
    support: Support,
) -> Render | None:
    """The render function of a shape, or None when some part of it is not handled."""
    try:
        context, root = parse(shape)
    except ShapeError:
        return None
    nodes: list[tuple[Node, Signature]] = []
    _collect(root, (context, ()), nodes)
    index = {id(node): position for position, (node, _) in enumerate(nodes)}
    wanted: list[tuple[Any, ...]] = []
    for node, signature in nodes:
        has_id = node.id_value is not None
        wanted.append(type_unit(signature, has_id, node.types))
        for key, as_list, elements in node.entries:
            if as_list and not elements:
                wanted.append(key_unit(signature, has_id, node.types, key, EMPTY_LIST))
            for element in elements:
                token = _element_token(element)
                wanted.append(key_unit(signature, has_id, node.types, key, token))
    templates = compiler.templates(wanted)
    if any(template is None for template in templates.values()):
        return None
    quads: list[_Quad] = []
    for position, (node, signature) in enumerate(nodes):
        has_id = node.id_value is not None
        for spec in _get(templates, type_unit(signature, has_id, node.types)):
            quads.append(_Quad(position, spec.predicate, _Object(FORM_CONSTANT, spec.text)))
        for key, as_list, elements in node.entries:
            if as_list and not elements:
                unit = key_unit(signature, has_id, node.types, key, EMPTY_LIST)
                for spec in _get(templates, unit):
                    quads.append(_Quad(position, spec.predicate, _Object(FORM_CONSTANT, spec.text)))
            for element in elements:
                unit = key_unit(signature, has_id, node.types, key, _element_token(element))
                for spec in _get(templates, unit):
                    quads.append(
                        _place(position, spec.predicate, spec.form, spec.text, element, index)
                    )
    if not _mergeless(quads):
        return None
    return _generate(nodes, quads, support)


def _get(templates: dict[Any, UnitTemplate | None], unit: tuple[Any, ...]) -> UnitTemplate:
    template = templates[unit]
    assert template is not None  # checked by the caller
    return template


def _collect(node: Node, signature: Signature, out: list[tuple[Node, Signature]]) -> None:
    out.append((node, signature))
    context, path = signature
    for key, _, elements in node.entries:
        for element in elements:
            if isinstance(element, Node):
                _collect(element, (context, (*path, (node.types, key))), out)


def _element_token(element: Leaf | Node) -> Any:
    if isinstance(element, Node):
        return (CHILD, element.id_value is not None, element.types)
    return element.token


def _leaf_kind(leaf: Leaf) -> Any:
    token = leaf.token
    if isinstance(token, tuple) and token[0] == VALUE_LEAF:
        return token[1]
    return token


def _place(
    subject: int, predicate: str, form: str, text: str, element: Leaf | Node, index: dict[int, int]
) -> _Quad:
    if form == FORM_CONSTANT:
        kind = _leaf_kind(element) if isinstance(element, Leaf) else None
        if isinstance(kind, tuple) and kind[0] == CONST_LEAF:
            kind = kind[1]
        boolean = isinstance(kind, bool)
        return _Quad(subject, predicate, _Object(FORM_CONSTANT, text), boolean=boolean)
    if form == FORM_CHILD:
        assert isinstance(element, Node)
        return _Quad(subject, predicate, _Object(FORM_CHILD, node=index[id(element)]))
    assert isinstance(element, Leaf) and element.value is not None
    kind = _leaf_kind(element)
    obj = _Object(form, text, value=element.value)
    return _Quad(subject, predicate, obj, numeric=kind in (K_INT, K_FLOAT))


def _mergeless(quads: list[_Quad]) -> bool:
    """False when two values of one property might be JSON-LD-equal in every document
    of the shape (two equal constants, or a boolean constant beside a number)."""
    groups: dict[tuple[int, str], list[_Quad]] = {}
    for quad in quads:
        groups.setdefault((quad.subject, quad.predicate), []).append(quad)
    for group in groups.values():
        constants = [q.obj.text for q in group if q.obj.form == FORM_CONSTANT]
        if len(constants) != len(set(constants)):
            return False
        if any(q.boolean for q in group) and any(q.numeric for q in group):
            return False
    return True


def _generate(
    nodes: list[tuple[Node, Signature]],
    quads: list[_Quad],
    support: Support,
) -> Render | None:
    """The render function's Python source, compiled once per shape."""
    blank: dict[int, int] = {}  # node position -> blank node number, in order of appearance
    for quad in quads:
        for position in (quad.subject, quad.obj.node):
            if position >= 0 and nodes[position][0].id_value is None and position not in blank:
                blank[position] = len(blank)
    if len(blank) > _MAX_BLANK_NODES:
        return None
    code = ["def render(v):", *_guards(nodes, quads, blank)]
    for position, (node, _) in enumerate(nodes):
        if node.id_value is not None:
            code.append(f"    n{position} = '<' + v[{node.id_value}] + '>'")
    finals, hashed = _lines(quads, blank, code)
    code.extend(_labels(hashed))
    code.append(f"    lines = [{', '.join(finals)}]")
    code.append("    lines.sort()")
    code.append("    return ''.join(lines)")
    namespace: dict[str, Any] = {
        "esc": escape_literal,
        "dbl": double_lexical,
        "sha": hashlib.sha256,
        "labels": tuple(f"_:c14n{number}" for number in range(len(blank))),
        "known": support.schemes.known,
        "scheme": support.schemes,
        "full": partial(support.full_rdfc, _layout(nodes, quads, blank)),
        "ties": partial(tied_labels, _adjacency(quads, blank)),
    }
    exec(compile("\n".join(code), "<fastcanon template>", "exec"), namespace)  # noqa: S102
    render: Render = namespace["render"]
    return render


def _guards(
    nodes: list[tuple[Node, Signature]], quads: list[_Quad], blank: dict[int, int]
) -> list[str]:
    """Code that returns None for values the template does not cover, and escapes."""
    code = []
    # Values JSON-LD would merge: equal ids (one object twice), equal values of a property.
    ids = [node.id_value for node, _ in nodes if node.id_value is not None]
    groups: dict[tuple[int, str], list[int]] = {}
    for quad in quads:
        value: int | None = quad.obj.value
        if quad.obj.form == FORM_CHILD:
            value = nodes[quad.obj.node][0].id_value if quad.obj.node not in blank else None
        if value is not None and value >= 0:
            groups.setdefault((quad.subject, quad.predicate), []).append(value)
    for members in [ids, *groups.values()]:
        if len(members) > 1:
            items = ", ".join(f"v[{m}]" for m in members)
            code.append(f"    if len({{{items}}}) != {len(members)}: return None")
    # Values where an IRI goes (ids, IRI holes): string methods, far faster than a regex.
    iris = [*ids, *sorted({q.obj.value for q in quads if q.obj.form == FORM_IRI})]
    if iris:
        joined = ", ".join(f"v[{value}]" for value in iris)
        code.append(f"    i = ''.join(({joined},))")
        forbidden = " or ".join(f"{c!r} in i" for c in _NOT_IN_IRIS)
        code.append(f"    if not i.isprintable() or {forbidden}: return None")
        code.append(f"    for x in ({joined},):")
        code.append("        c = x.find(':')")
        code.append("        if c < 1 or not (x[:c] in known or scheme(x[:c])): return None")
    # Escaping is rare: check all escapable literals at once, then escape all or none.
    escaped = sorted({q.obj.value for q in quads if q.obj.form == FORM_LITERAL})
    if escaped:
        joined = ", ".join(f"v[{value}]" for value in escaped)
        code.append(f"    s = ''.join(({joined},))")
        needs = " or ".join(f"{c!r} in s" for c in _ESCAPED)
        code.append(f"    e = [esc(x) if type(x) is str else x for x in v] if {needs} else v")
    return code


def _lines(
    quads: list[_Quad], blank: dict[int, int], code: list[str]
) -> tuple[list[str], dict[int, list[str]]]:
    """Expressions of the final lines and, per blank node, of its first-degree lines
    (itself ``_:a``, other blank nodes ``_:z``); shared parts are appended to ``code``."""
    finals: list[str] = []
    hashed: dict[int, list[str]] = {number: [] for number in blank.values()}
    for number, quad in enumerate(quads):
        predicate = f" {quad.predicate} "
        subject_blank = blank.get(quad.subject)
        object_blank = blank.get(quad.obj.node) if quad.obj.form == FORM_CHILD else None
        if object_blank is None:
            rest = _rest(predicate, quad.obj)
            if subject_blank is None:
                finals.append(f"n{quad.subject} + {rest}")
            else:
                code.append(f"    r{number} = {rest}")
                hashed[subject_blank].append(f"'_:a' + r{number}")
                finals.append(f"l{subject_blank} + r{number}")
        elif subject_blank is None:
            tail = f"{predicate}_:a .\n"
            hashed[object_blank].append(f"n{quad.subject} + {tail!r}")
            finals.append(f"n{quad.subject} + {predicate!r} + l{object_blank} + ' .\\n'")
        else:
            hashed[subject_blank].append(repr(f"_:a{predicate}_:z .\n"))
            hashed[object_blank].append(repr(f"_:z{predicate}_:a .\n"))
            finals.append(f"l{subject_blank} + {predicate!r} + l{object_blank} + ' .\\n'")
    return finals, hashed


def _labels(hashed: dict[int, list[str]]) -> list[str]:
    """Code that sets ``l0``, ``l1``... to the canonical labels of the blank nodes."""
    if len(hashed) == 1:
        return ["    l0 = '_:c14n0'"]
    code = []
    for number, lines in hashed.items():
        code.append(f"    h{number} = sha(''.join(sorted([{', '.join(lines)}])).encode())")
        # Raw digests sort as their hex forms do (RDFC-1.0 orders by the hex string).
        code.append(f"    h{number} = h{number}.digest()")
    if not hashed:
        return code
    names = ", ".join(f"h{number}" for number in hashed)
    code.append(f"    ranked = sorted(({names},))")
    code.append(f"    if len(set(ranked)) == {len(hashed)}:")
    for number in hashed:
        code.append(f"        l{number} = labels[ranked.index(h{number})]")
    # Equal first-degree hashes: interchangeable blank nodes, or else RDFC-1.0's N-degree
    # step (pyld's own, on the same quads).
    code.append("    else:")
    code.append(f"        tied = ties(({names},))")
    code.append("        if tied is None: return full(v)")
    code.append(f"        {', '.join(f'l{number}' for number in hashed)}, = tied")
    return code


def _rest(predicate: str, obj: _Object) -> str:
    """Expression for `` <predicate> object .\\n`` of a quad whose object is not blank."""
    if obj.form == FORM_CONSTANT:
        return repr(f"{predicate}{obj.text} .\n")
    if obj.form == FORM_CHILD:
        return f"{predicate!r} + n{obj.node} + ' .\\n'"
    value = f"v[{obj.value}]"
    if obj.form == FORM_IRI:
        return f"{predicate + '<'!r} + {value} + '> .\\n'"
    if obj.form == FORM_LITERAL:
        lexical = f"e[{obj.value}]"
    elif obj.form == FORM_INTEGER:
        lexical = f"str({value})"
    elif obj.form == FORM_DOUBLE:
        lexical = f"dbl({value})"
    else:
        raise ValueError(f"unknown quad form {obj.form!r}")
    return f"{predicate + chr(34)!r} + {lexical} + {chr(34) + obj.text + ' .' + chr(10)!r}"


# --- blank nodes with equal first-degree hashes ------------------------------------------

Adjacency = tuple[tuple[tuple[str, bool, int], ...], ...]


def _adjacency(quads: list[_Quad], blank: dict[int, int]) -> Adjacency:
    """Per blank node: its links to other blank nodes, (predicate, outgoing, other)."""
    links: list[list[tuple[str, bool, int]]] = [[] for _ in blank]
    for quad in quads:
        if quad.subject in blank and quad.obj.form == FORM_CHILD and quad.obj.node in blank:
            subject, obj = blank[quad.subject], blank[quad.obj.node]
            links[subject].append((quad.predicate, True, obj))
            links[obj].append((quad.predicate, False, subject))
    return tuple(tuple(sorted(node_links)) for node_links in links)


def tied_labels(adjacency: Adjacency, hashes: tuple[bytes, ...]) -> list[str] | None:
    """Canonical labels when every group of blank nodes with equal first-degree hashes is
    interchangeable, else None.

    Members of a group are interchangeable when they link to the same blank nodes in the
    same way and all those have unique hashes: swapping two members is then an automorphism
    of the dataset, and the N-degree step of RDFC-1.0 (each member's related blank nodes
    already labelled, so its temporary issuer holds only itself) labels the members one
    after the other, after the unique ones, groups in hash order. Which member gets which
    label does not change the output, since they are interchangeable.
    """
    groups: dict[bytes, list[int]] = {}
    for number, value in enumerate(hashes):
        groups.setdefault(value, []).append(number)
    labels: list[str] = [""] * len(hashes)
    issued = 0
    for value in sorted(groups):
        if len(groups[value]) == 1:
            labels[groups[value][0]] = f"_:c14n{issued}"
            issued += 1
    for value in sorted(groups):
        members = groups[value]
        if len(members) == 1:
            continue
        links = adjacency[members[0]]
        for member in members:
            if adjacency[member] != links:
                return None
        if any(len(groups[hashes[other]]) != 1 for _, _, other in links):
            return None
        for member in members:
            labels[member] = f"_:c14n{issued}"
            issued += 1
    return labels


# --- blank nodes pyld must label: its URDNA2015 on the same quads ------------------------

_XSD_STRING: Final = "http://www.w3.org/2001/XMLSchema#string"
_RDF_LANGSTRING: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_CONSTANT_LITERAL: Final = re.compile(r'"((?:[^"\\]|\\.)*)"(.*)', re.DOTALL)
_UNESCAPED: Final = {"t": "\t", "n": "\n", "r": "\r", '"': '"', "\\": "\\"}

# A node: ("iri", value index) or ("blank", number). An object: a node, ("iri", value
# index), ("constant", RDF term dict), or ("literal", value index, lexical form, suffix).
_Term = tuple[Any, ...]
Layout = tuple[tuple[_Term, str, _Term], ...]


def _layout(
    nodes: list[tuple[Node, Signature]], quads: list[_Quad], blank: dict[int, int]
) -> Layout:
    """The quads as data for :func:`full_rdfc` (built once per shape)."""

    def node(position: int) -> _Term:
        if position in blank:
            return ("blank", blank[position])
        value = nodes[position][0].id_value
        assert value is not None
        return ("iri", value)

    laid = []
    for quad in quads:
        obj = quad.obj
        if obj.form == FORM_CHILD:
            term = node(obj.node)
        elif obj.form == FORM_CONSTANT:
            term = ("constant", _constant_term(obj.text))
        elif obj.form == FORM_IRI:
            term = ("iri", obj.value)
        else:
            term = ("literal", obj.value, obj.form, obj.text)
        laid.append((node(quad.subject), quad.predicate[1:-1], term))
    return tuple(laid)


def _constant_term(text: str) -> dict[str, str]:
    if text.startswith("<"):
        return {"type": "IRI", "value": text[1:-1]}
    match = _CONSTANT_LITERAL.fullmatch(text)
    if match is None:
        raise ValueError(f"unexpected constant object {text!r}")
    lexical = re.sub(r"\\(.)", lambda m: _UNESCAPED[m.group(1)], match.group(1))
    return _literal_term(lexical, match.group(2))


def _literal_term(lexical: str, suffix: str) -> dict[str, str]:
    if suffix.startswith("^^<"):
        return {"type": "literal", "value": lexical, "datatype": suffix[3:-1]}
    if suffix.startswith("@"):
        language = suffix[1:]
        return {
            "type": "literal",
            "value": lexical,
            "datatype": _RDF_LANGSTRING,
            "language": language,
        }
    return {"type": "literal", "value": lexical, "datatype": _XSD_STRING}


def full_rdfc(layout: Layout, values: list[Any]) -> str:
    """RDFC-1.0 by pyld's URDNA2015 of the document's quads, as its normalize would run."""

    def term(ref: _Term) -> dict[str, str]:
        kind = ref[0]
        if kind == "blank":
            return {"type": "blank node", "value": f"_:b{ref[1]}"}
        if kind == "iri":
            return {"type": "IRI", "value": values[ref[1]]}
        if kind == "constant":
            return dict(ref[1])
        _, index, form, suffix = ref
        value = values[index]
        if form == FORM_INTEGER:
            value = str(value)
        elif form == FORM_DOUBLE:
            value = double_lexical(value)
        return _literal_term(value, suffix)

    triples = [
        {
            "subject": term(subject),
            "predicate": {"type": "IRI", "value": predicate},
            "object": term(obj),
        }
        for subject, predicate, obj in layout
    ]
    canonical: str = URDNA2015().main({"@default": triples}, {"format": "application/n-quads"})
    return canonical

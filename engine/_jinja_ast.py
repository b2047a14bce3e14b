"""Jinja template ASTs as plain data, and back: a bundled spec's templates come parsed in its
module written by `connector docs` (engine/_spec_cache), so a first request does not run Jinja's
lexer and parser (pure Python, most of compiling a flow). The data names node classes of
`jinja2.nodes` only, and holds their fields as texts, numbers, bools, nulls and lists; anything
else is refused both ways, and a rebuilt tree still goes through every check a parsed one does
(engine._templates). Used only under the Jinja version that parsed them."""

from __future__ import annotations

import math
from typing import Any

from jinja2 import nodes
from jinja2.environment import Environment

#: A node as data: ("N", class name, line number, field, field...).
_NODE = "N"
_SCALARS = (str, int, float, bool, type(None))


class NotPlain(ValueError):
    """A tree holding something other than nodes, lists and scalars."""


def dump(node: nodes.Node) -> tuple[Any, ...]:
    """`node` and its subtree as plain data (repr writes it back exactly)."""
    fields = (_value(getattr(node, field)) for field in node.fields)
    return (_NODE, type(node).__name__, node.lineno, *fields)


def _value(value: Any) -> Any:
    if isinstance(value, nodes.Node):
        return dump(value)
    if type(value) is list:
        return [_value(item) for item in value]
    if type(value) in _SCALARS and not (type(value) is float and math.isnan(value)):
        return value
    raise NotPlain(type(value).__name__)


def build(data: Any, environment: Environment) -> nodes.Template:
    """The Template `data` describes, bound to `environment` (as Environment.parse binds it)."""
    tree = _node(data, environment)
    if not isinstance(tree, nodes.Template):
        raise NotPlain("not a template")
    return tree


def _node(data: Any, environment: Environment) -> nodes.Node:
    if type(data) is not tuple or len(data) < 3 or data[0] != _NODE:
        raise NotPlain("not a node")
    _, name, lineno, *values = data
    kind = _KINDS.get(name) if type(name) is str else None
    if kind is None or len(values) != len(kind.fields) or type(lineno) not in (int, type(None)):
        raise NotPlain(f"no node class {name!r} with these fields")
    # What Node.__init__ and set_environment would set, without their checks of each call.
    node = object.__new__(kind)
    fields = node.__dict__
    for field, value in zip(kind.fields, values, strict=True):
        fields[field] = _built(value, environment)
    fields["lineno"] = lineno
    fields["environment"] = environment
    return node


def _built(value: Any, environment: Environment) -> Any:
    if type(value) is tuple:
        return _node(value, environment)
    if type(value) is list:
        return [_built(item, environment) for item in value]
    if type(value) in _SCALARS:
        return value
    raise NotPlain(type(value).__name__)


#: The concrete node classes of jinja2.nodes, by name: the only classes data may name.
_KINDS: dict[str, type[nodes.Node]] = {
    name: kind
    for name, kind in vars(nodes).items()
    if isinstance(kind, type) and issubclass(kind, nodes.Node) and not kind.abstract
}

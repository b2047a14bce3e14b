"""Jinja expression AST → plain Python closures, for the node kinds specs use most (field paths,
literals, filters, tests, comparisons, `and`/`or`/`not`, inline `if`). Anything else returns None
and the caller keeps Jinja's own compiled template, so semantics never diverge: missing fields
are the same Undefined object Jinja would produce, and filters are the environment's own. One
deliberate difference: `{...}.get(key)` on a dict literal with constant keys evaluates only the
member the key names (as an `if`/`elif` chain would), so an error in another member is not raised.

Safer than the sandbox it stands in for: a path only ever indexes mappings and lists, and
function calls are not supported at all, so no Python attribute is reachable.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any, cast

from jinja2 import Environment, nodes
from jinja2.nodes import EvalContext
from jinja2.utils import _PassArg

from ._budget import MAX_RENDER_SIZE, current, tree_size

Evaluate = Callable[[Mapping[str, Any]], Any]

_COMPARE: Mapping[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "gt": operator.gt,
    "lteq": operator.le,
    "gteq": operator.ge,
    "in": lambda a, b: a in b,
    "notin": lambda a, b: a not in b,
}


class _Unsupported(Exception):
    pass


def compile_node(node: nodes.Node, environment: Environment, missing: Any) -> Evaluate | None:
    """A closure computing `node` as Jinja would, or None when the node kind is not handled."""
    try:
        return _compile(node, environment, missing)
    except _Unsupported:
        return None


def _leading_argument(function: Any, env: Environment) -> tuple[bool, Any]:
    """Whether a filter/test can run outside Jinja, and the argument it takes first."""
    kind = _PassArg.from_obj(function)
    if kind is None:
        return True, None
    if kind is _PassArg.environment:
        return True, env
    if kind is _PassArg.eval_context:
        return True, EvalContext(env)
    return False, None  # needs a full render Context


def _compile(node: nodes.Node, env: Environment, missing: Any) -> Evaluate:
    if isinstance(node, nodes.Const):
        value = node.value
        return lambda context: value
    if isinstance(node, nodes.Name) and node.ctx == "load":
        name = node.name
        return lambda context: context.get(name, missing)
    if isinstance(node, nodes.Getattr | nodes.Getitem):
        return _path(node, env, missing)
    if isinstance(node, nodes.List | nodes.Tuple):
        items = [_compile(item, env, missing) for item in node.items]
        build = list if isinstance(node, nodes.List) else tuple
        # A literal is charged to the render's budget, as in the sandbox (engine/_budget.py).
        return lambda context: current().charge(build(item(context) for item in items))
    if isinstance(node, nodes.Dict):
        table = _constant_table(node)
        if table is not None:  # every key and value a constant: built once, copied each time
            units = tree_size(table, MAX_RENDER_SIZE)

            def literal(context: Mapping[str, Any]) -> Any:
                current().charge_units(units)
                return dict(table)

            return literal
        pairs = [
            (_compile(p.key, env, missing), _compile(p.value, env, missing)) for p in node.items
        ]
        return lambda context: current().charge({k(context): v(context) for k, v in pairs})
    if isinstance(node, nodes.Filter | nodes.Test):
        return _call(node, env, missing)
    if isinstance(node, nodes.CondExpr):
        test = _compile(node.test, env, missing)
        then = _compile(node.expr1, env, missing)
        otherwise = _compile(node.expr2, env, missing) if node.expr2 is not None else None
        if otherwise is None:
            return lambda context: then(context) if test(context) else missing
        return lambda context: then(context) if test(context) else otherwise(context)
    if isinstance(node, nodes.Compare):
        first = _compile(node.expr, env, missing)
        ops = [(_COMPARE[op.op], _compile(op.expr, env, missing)) for op in node.ops]
        if len(ops) == 1:
            ((compare, right),) = ops
            return lambda context: compare(first(context), right(context))

        def chain(context: Mapping[str, Any]) -> Any:
            left = first(context)
            for compare, right_of in ops:
                right = right_of(context)
                if not compare(left, right):
                    return False
                left = right
            return True

        return chain
    if isinstance(node, nodes.And):
        left, right = _compile(node.left, env, missing), _compile(node.right, env, missing)
        return lambda context: left(context) and right(context)
    if isinstance(node, nodes.Or):
        left, right = _compile(node.left, env, missing), _compile(node.right, env, missing)
        return lambda context: left(context) or right(context)
    if isinstance(node, nodes.Not):
        inner = _compile(node.node, env, missing)
        return lambda context: not inner(context)
    if isinstance(node, nodes.Call):
        return _mapping_get(node, env, missing)
    raise _Unsupported


def _mapping_get(node: nodes.Call, env: Environment, missing: Any) -> Evaluate:
    """Only `mapping.get(key[, default])`: a lookup, never an arbitrary call."""
    target = node.node
    if (
        not isinstance(target, nodes.Getattr)
        or target.attr != "get"
        or node.kwargs
        or node.dyn_args
        or node.dyn_kwargs
        or not 1 <= len(node.args) <= 2
    ):
        raise _Unsupported
    key = _compile(node.args[0], env, missing)
    default = _compile(node.args[1], env, missing) if len(node.args) == 2 else None
    choices = _keyed_literal(target.node, env, missing)
    if choices is not None:
        # `{'a': x, 'b': y}.get(key)`: only the member the key names is evaluated (as an
        # `if`/`elif` chain would); the literal is never built, one unit is counted.

        def choose(context: Mapping[str, Any]) -> Any:
            current().charge_units(1)
            chosen = key(context)
            try:
                member = choices.get(chosen)
            except TypeError:  # an unhashable key: in no literal
                member = None
            if member is not None:
                return member(context)
            return default(context) if default is not None else None

        return choose
    subject = _compile(target.node, env, missing)

    def get(context: Mapping[str, Any]) -> Any:
        mapping = subject(context)
        if not isinstance(mapping, Mapping):
            raise _Unsupported  # Jinja would fail here too; surfaced as a RenderError
        fallback = default(context) if default is not None else None
        return mapping.get(key(context), fallback)

    return get


def _constant_table(node: nodes.Dict) -> dict[Any, Any] | None:
    """A dict literal's value when every key and value is a constant text, number, bool or
    null (nothing nested: the copy handed out is then wholly its own)."""
    table = {}
    for pair in node.items:
        if not isinstance(pair.key, nodes.Const) or not isinstance(pair.value, nodes.Const):
            return None
        if not isinstance(pair.key.value, str | int) or not _scalar(pair.value.value):
            return None
        table[pair.key.value] = pair.value.value
    return table


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float)  # bool is an int


def _keyed_literal(node: nodes.Node, env: Environment, missing: Any) -> dict[Any, Evaluate] | None:
    """A dict literal with constant keys, as key → its member's evaluator (a later duplicate
    key wins, as in the literal); None for anything else."""
    if not isinstance(node, nodes.Dict):
        return None
    choices: dict[Any, Evaluate] = {}
    for pair in node.items:
        if not isinstance(pair.key, nodes.Const) or not isinstance(pair.key.value, str | int):
            return None
        choices[pair.key.value] = _compile(pair.value, env, missing)
    return choices


def _path(node: nodes.Getattr | nodes.Getitem, env: Environment, missing: Any) -> Evaluate:
    segments: list[Any] = []
    current: nodes.Node = node
    while isinstance(current, nodes.Getattr | nodes.Getitem):
        if isinstance(current, nodes.Getattr):
            segments.append(current.attr)
        elif isinstance(current.arg, nodes.Const) and isinstance(current.arg.value, str | int):
            segments.append(current.arg.value)
        else:
            raise _Unsupported
        current = current.node
    segments.reverse()
    root = current.name if isinstance(current, nodes.Name) and current.ctx == "load" else None
    base = _compile(current, env, missing)

    def walk(context: Mapping[str, Any]) -> Any:
        value = context.get(root, missing) if root is not None else base(context)
        for segment in segments:
            if type(value) is dict:
                value = value.get(segment, missing)
            elif value is missing or value is None:
                return missing
            elif isinstance(value, Mapping):
                value = value.get(segment, missing)
            elif isinstance(value, list | tuple) and isinstance(segment, int):
                value = value[segment] if -len(value) <= segment < len(value) else missing
            else:
                return missing
        return value

    return walk


def _call(node: nodes.Filter | nodes.Test, env: Environment, missing: Any) -> Evaluate:
    table = env.filters if isinstance(node, nodes.Filter) else env.tests
    function = cast("Callable[..., Any] | None", table.get(node.name))
    if function is None or node.kwargs or node.dyn_args or node.dyn_kwargs or node.node is None:
        raise _Unsupported
    supported, leading = _leading_argument(function, env)
    if not supported:
        raise _Unsupported
    subject = _compile(node.node, env, missing)
    args = [_compile(arg, env, missing) for arg in node.args]
    if leading is not None:
        return lambda context: function(leading, subject(context), *(a(context) for a in args))
    if not args:
        return lambda context: function(subject(context))
    return lambda context: function(subject(context), *(arg(context) for arg in args))

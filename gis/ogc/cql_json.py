"""CQL2-JSON (OGC 21-065, filter-lang=cql2-json) read into pygeofilter's AST, as CQL2-text is.

``{"op": "and", "args": [...]}`` and the other operators of the basic, advanced-comparison,
case-insensitive and spatial classes; ``{"property": ...}``, ``{"date": ...}``,
``{"timestamp": ...}``, ``{"bbox": [...]}`` and GeoJSON geometries as operands.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from pygeofilter import ast, values

from gis.errors import InvalidInput
from gis.ogc import cql_text

MAX_FILTER_CHARS = 20_000
MAX_NESTING = 64  # [ and { inside each other: each logical level takes 2, a MULTIPOLYGON 6
MAX_LOGICAL = 100
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_LOGICAL = re.compile(r'"op"\s*:\s*"(?:and|or|not)"', re.IGNORECASE)

_COMPARISON = {"=": ast.Equal, "<>": ast.NotEqual, "<": ast.LessThan, "<=": ast.LessEqual,
               ">": ast.GreaterThan, ">=": ast.GreaterEqual}
_GEOMETRY_TYPES = {"Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon",
                   "GeometryCollection"}


def check_shape(text: str) -> None:
    """Refuse (400) a filter too long or too deep before json.loads recurses into it."""
    if len(text) > MAX_FILTER_CHARS:
        raise InvalidInput.one("filter", f"longer than {MAX_FILTER_CHARS} characters")
    bare = _STRING.sub('""', text)
    depth = deepest = 0
    for ch in bare:
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    if deepest > MAX_NESTING:
        raise InvalidInput.one("filter", f"nested {deepest} levels deep; at most {MAX_NESTING}")
    if len(_LOGICAL.findall(text)) > MAX_LOGICAL:
        raise InvalidInput.one("filter", f"more than {MAX_LOGICAL} and/or/not; use in for lists")


def parse(text: str) -> Any:
    """A CQL2-JSON filter as a pygeofilter AST; ValueError says what is wrong."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    return _condition(document)


def _args(node: dict, count: int | None = None) -> list:
    args = node.get("args")
    if not isinstance(args, list) or (count is not None and len(args) != count):
        want = f"{count} arguments" if count is not None else "a list of arguments"
        raise ValueError(f"{node.get('op')!r} needs {want} in 'args'")
    return args


def _condition(node: Any) -> Any:
    if isinstance(node, bool):
        return node
    if not isinstance(node, dict) or not isinstance(node.get("op"), str):
        raise ValueError(f"expected a condition {{'op': ..., 'args': [...]}}, got {str(node)[:40]}")
    op = node["op"].lower()
    if op in ("and", "or"):
        args = [_condition(a) for a in _args(node)]
        if len(args) < 2:
            raise ValueError(f"{op!r} needs at least 2 arguments")
        combine = ast.And if op == "and" else ast.Or
        tree = args[0]
        for arg in args[1:]:
            tree = combine(tree, arg)
        return tree
    if op == "not":
        return ast.Not(_condition(_args(node, 1)[0]))
    if op in _COMPARISON:
        lhs, rhs = (_operand(a) for a in _args(node, 2))
        return _COMPARISON[op](lhs, rhs)
    if op == "like":
        lhs, pattern = (_operand(a) for a in _args(node, 2))
        return ast.Like(lhs, pattern, nocase=False, wildcard="%", singlechar="_", escapechar="\\", not_=False)
    if op == "between":
        lhs, low, high = (_operand(a) for a in _args(node, 3))
        return ast.Between(lhs, low, high, False)
    if op == "in":
        lhs, options = _args(node, 2)
        if not isinstance(options, list) or not options:
            raise ValueError("'in' needs a non-empty list as its second argument")
        return ast.In(_operand(lhs), [_operand(o) for o in options], False)
    if op == "isnull":
        return ast.IsNull(_operand(_args(node, 1)[0]), False)
    if op in cql_text.SPATIAL:
        lhs, rhs = (_operand(a) for a in _args(node, 2))
        return cql_text.SPATIAL[op](lhs, rhs)
    raise ValueError(f"operator {node['op'][:40]!r} is not supported")


def _operand(node: Any) -> Any:
    if isinstance(node, bool | int | float | str):
        return node
    if not isinstance(node, dict):
        raise ValueError(f"unsupported value {str(node)[:40]}")
    if isinstance(node.get("property"), str):
        return ast.Attribute(node["property"])
    if isinstance(node.get("date"), str):
        return date.fromisoformat(node["date"])
    if isinstance(node.get("timestamp"), str):
        return cql_text.parse_timestamp(node["timestamp"])
    if isinstance(node.get("bbox"), list) and len(node["bbox"]) in (4, 6):
        return cql_text.envelope([float(n) for n in node["bbox"]])
    if node.get("type") in _GEOMETRY_TYPES:
        return values.Geometry(node)
    if isinstance(node.get("op"), str) and node["op"].lower() in ("casei", "accenti"):
        return ast.Function(node["op"].lower(), [_operand(a) for a in _args(node, 1)])
    raise ValueError(f"unsupported value {str(node)[:40]}")

"""CQL2-text (OGC 21-065) parsed with a grammar of our own into pygeofilter's AST.

pygeofilter 0.4's grammar gives AND and OR the same precedence (``A OR B AND C`` became
``(A OR B) AND C``) and refuses ``NOT (a OR b)``, ``'O''Brien'``, ``TRUE`` alone and ``BBOX(...)``
as a geometry. This grammar follows the standard's BNF: OR < AND < NOT, each left-associative,
keywords case-insensitive, property names bare or double-quoted. The tree is pygeofilter's, so the
translator to SQL (gis/ogc/cql.py) serves CQL2-text and CQL2-JSON (gis/ogc/cql_json.py) alike.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from typing import Any

import shapely.geometry
import shapely.wkt
from lark import Lark, Token, Transformer, v_args
from pygeofilter import ast, values

# Keywords are case-insensitive (the identifier pattern carries the same flag, so lark retypes an
# identifier that spells a keyword rather than cutting ``inside`` into IN + side).
GRAMMAR = r"""
?start: or_

?or_: and_ | or_ _OR and_                      -> or_op
?and_: not_ | and_ _AND not_                   -> and_op
?not_: _NOT not_                               -> not_op | primary
?primary: predicate | "(" or_ ")" | TRUE -> true_ | FALSE -> false_

?predicate: scalar COMP scalar                  -> compare
          | scalar _LIKE scalar                 -> like
          | scalar _NOT _LIKE scalar            -> not_like
          | scalar _BETWEEN scalar _AND scalar  -> between
          | scalar _NOT _BETWEEN scalar _AND scalar -> not_between
          | scalar _IN "(" scalar ("," scalar)* ")"       -> in_
          | scalar _NOT _IN "(" scalar ("," scalar)* ")"  -> not_in
          | scalar _IS _NULL                    -> is_null
          | scalar _IS _NOT _NULL               -> is_not_null
          | SPATIAL_FN "(" geom_arg "," geom_arg ")" -> spatial
          | _BBOX "(" property "," number "," number "," number "," number ")" -> bbox_predicate

?scalar: property | STRING -> string | number | TRUE -> true_ | FALSE -> false_
       | _DATE "(" STRING ")" -> date | _TIMESTAMP "(" STRING ")" -> timestamp | function
?geom_arg: property | function | wkt | bbox
property: IDENT | QUOTED_IDENT
function: IDENT "(" [scalar ("," scalar)*] ")"
number: NUMBER
bbox: _BBOX "(" number "," number "," number "," number ("," number "," number)? ")"

wkt: WKT_TYPE wkt_body
wkt_body: "(" wkt_part ("," wkt_part)* ")" | _EMPTY -> wkt_empty
?wkt_part: coords | wkt_body | wkt
coords: number number number?

COMP: "<>" | "<=" | ">=" | "=" | "<" | ">"
SPATIAL_FN.2: /S_(INTERSECTS|DISJOINT|CONTAINS|WITHIN|TOUCHES|CROSSES|OVERLAPS|EQUALS)\b/i
WKT_TYPE.2: /(MULTIPOINT|MULTILINESTRING|MULTIPOLYGON|GEOMETRYCOLLECTION|POINT|LINESTRING|POLYGON)\b/i
_OR: "OR"i
_AND: "AND"i
_NOT: "NOT"i
_LIKE: "LIKE"i
_BETWEEN: "BETWEEN"i
_IN: "IN"i
_IS: "IS"i
_NULL: "NULL"i
_BBOX: "BBOX"i
_DATE: "DATE"i
_TIMESTAMP: "TIMESTAMP"i
_EMPTY: "EMPTY"i
TRUE: "TRUE"i
FALSE: "FALSE"i
IDENT: /[A-Za-z_][A-Za-z0-9_:.]*/i
QUOTED_IDENT: /"(?:[^"]|"")+"/
STRING: /'(?:[^']|'')*'/
NUMBER: /[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/

%import common.WS
%ignore WS
"""

_COMPARISON = {"=": ast.Equal, "<>": ast.NotEqual, "<": ast.LessThan, "<=": ast.LessEqual,
               ">": ast.GreaterThan, ">=": ast.GreaterEqual}
SPATIAL = {"s_intersects": ast.GeometryIntersects, "s_disjoint": ast.GeometryDisjoint,
           "s_contains": ast.GeometryContains, "s_within": ast.GeometryWithin,
           "s_touches": ast.GeometryTouches, "s_crosses": ast.GeometryCrosses,
           "s_overlaps": ast.GeometryOverlaps, "s_equals": ast.GeometryEquals}


def parse_timestamp(text: str) -> datetime:
    """An RFC 3339 timestamp; a zone is required by CQL2 but UTC is assumed when it is missing."""
    stamp = datetime.fromisoformat(text.strip().upper().replace("Z", "+00:00"))
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)


def envelope(numbers: list[float]) -> values.Envelope:
    """BBOX(west, south, east, north) or with heights (west, south, low, east, north, high)."""
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    west, south, east, north = numbers
    return values.Envelope(west, east, south, north)


@v_args(inline=True)
class _ToAst(Transformer):
    def or_op(self, a: Any, b: Any) -> ast.Node:
        return ast.Or(a, b)

    def and_op(self, a: Any, b: Any) -> ast.Node:
        return ast.And(a, b)

    def not_op(self, a: Any) -> ast.Node:
        return ast.Not(a)

    def true_(self, _: Token) -> bool:
        return True

    def false_(self, _: Token) -> bool:
        return False

    def compare(self, lhs: Any, op: Token, rhs: Any) -> ast.Node:
        return _COMPARISON[str(op)](lhs, rhs)

    def like(self, lhs: Any, pattern: Any, not_: bool = False) -> ast.Node:
        return ast.Like(lhs, pattern, nocase=False, wildcard="%", singlechar="_", escapechar="\\", not_=not_)

    def not_like(self, lhs: Any, pattern: Any) -> ast.Node:
        return self.like(lhs, pattern, True)

    def between(self, lhs: Any, low: Any, high: Any) -> ast.Node:
        return ast.Between(lhs, low, high, False)

    def not_between(self, lhs: Any, low: Any, high: Any) -> ast.Node:
        return ast.Between(lhs, low, high, True)

    def in_(self, lhs: Any, *options: Any) -> ast.Node:
        return ast.In(lhs, list(options), False)

    def not_in(self, lhs: Any, *options: Any) -> ast.Node:
        return ast.In(lhs, list(options), True)

    def is_null(self, lhs: Any) -> ast.Node:
        return ast.IsNull(lhs, False)

    def is_not_null(self, lhs: Any) -> ast.Node:
        return ast.IsNull(lhs, True)

    def spatial(self, name: Token, lhs: Any, rhs: Any) -> ast.Node:
        return SPATIAL[str(name).lower()](lhs, rhs)

    def bbox_predicate(self, lhs: Any, *numbers: float) -> ast.Node:
        return ast.GeometryIntersects(lhs, envelope(list(numbers)))

    def bbox(self, *numbers: float) -> values.Envelope:
        return envelope(list(numbers))

    def property(self, token: Token) -> ast.Attribute:
        text = str(token)
        if token.type == "QUOTED_IDENT":
            text = text[1:-1].replace('""', '"')
        return ast.Attribute(text)

    def function(self, name: Token, *args: Any) -> ast.Function:
        return ast.Function(str(name).lower(), [a for a in args if a is not None])

    def string(self, token: Token) -> str:
        return str(token)[1:-1].replace("''", "'")

    def number(self, token: Token) -> int | float:
        text = str(token)
        return int(text) if text.lstrip("+-").isdigit() else float(text)

    def date(self, token: Token) -> date:
        return date.fromisoformat(self.string(token))

    def timestamp(self, token: Token) -> datetime:
        return parse_timestamp(self.string(token))

    # WKT is rebuilt as text and read by shapely (the same reader as everywhere else).
    def coords(self, *numbers: float) -> str:
        return " ".join(repr(n) for n in numbers)

    def wkt_body(self, *parts: str) -> str:
        return "(" + ", ".join(parts) + ")"

    def wkt_empty(self) -> str:
        return " EMPTY"

    def wkt(self, kind: Token, body: str) -> Any:
        return f"{str(kind).upper()} {body}"


@cache
def _parser() -> Lark:
    return Lark(GRAMMAR, parser="lalr", maybe_placeholders=False)


def parse(text: str) -> Any:
    """A CQL2-text filter as a pygeofilter AST; lark's errors and bad literals raise ValueError."""
    try:
        tree = _parser().parse(text)
        return _geometries(_ToAst().transform(tree))
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - lark raises a family of errors (and wraps ours)
        cause = exc.__context__ if isinstance(exc.__context__, ValueError) else exc
        first = str(cause).splitlines()[0][:200] if str(cause) else type(cause).__name__
        raise ValueError(first) from None


def _geometries(node: Any) -> Any:
    """WKT text left in spatial predicates becomes a Geometry value (GeoJSON, as pygeofilter has it)."""
    if isinstance(node, ast.SpatialComparisonPredicate):
        node.lhs, node.rhs = _geometry(node.lhs), _geometry(node.rhs)
    elif isinstance(node, ast.Combination):
        node.lhs, node.rhs = _geometries(node.lhs), _geometries(node.rhs)
    elif isinstance(node, ast.Not):
        node.sub_node = _geometries(node.sub_node)
    return node


def _geometry(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return values.Geometry(shapely.geometry.mapping(shapely.wkt.loads(value)))
    except Exception:  # noqa: BLE001 - shapely raises several types for bad WKT
        raise ValueError(f"invalid geometry literal {value[:40]}") from None

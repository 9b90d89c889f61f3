"""Strict YAML and JSON parsing: nothing a reader could take two ways is accepted.

YAML (scenarios, library files, sweep values) is read with PyYAML's safe loader (no tags that
build Python objects) plus these refusals, each one error line ``file:line:column: what``:

- a **duplicate key** in a mapping (a second ``import_limit_kw``, a trailing ``storage: []`` that
  would silently drop the battery);
- **YAML 1.1 literals that YAML 1.2 reads differently**: integers with a leading zero (``0160``
  is 112 in YAML 1.1, 160 in YAML 1.2), ``0b…`` and ``0o…`` integers, numbers with ``_`` or
  ``:`` (sexagesimal ``1:20`` is 80 in YAML 1.1), and the booleans ``yes``/``no``/``on``/``off``
  (strings in YAML 1.2). Write the number plainly, or quote the value to mean the text.

JSON (state and schedule files) refuses duplicate keys and the non-standard ``NaN``,
``Infinity`` and numbers that overflow to infinity (``1e999``).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode

from zeropark.errors import ScenarioError
from zeropark.guard import snippet

__all__ = ["YamlSyntaxError", "json_data", "yaml_data"]

_INT_AMBIGUOUS = re.compile(r"^[-+]?(0[0-9_]+|0[bo][0-9a-fA-F_]+|.*[_:].*)$")
_FLOAT_AMBIGUOUS = re.compile(r"^.*[_:].*$")
_BOOL_12 = {"true", "false"}


class YamlSyntaxError(ScenarioError):
    """A YAML file that cannot be read; the message is ``file:line:column: problem``."""

    def __init__(self, where: str, problem: str) -> None:
        self.field = where
        self.value = None
        self.allowed = problem
        Exception.__init__(self, f"{where}: {problem}")


class _Strict(yaml.constructor.SafeConstructor):
    """The refusals of the strict loaders (a mixin on PyYAML's safe loaders)."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # unhashable key: the base class reports it
                    continue
                if first is not None:
                    raise ConstructorError(
                        None, None,
                        f"duplicate key {_short(key)} (first given on line {first.line + 1}); "
                        "each key may appear once", key_node.start_mark)
                seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: Any) -> int:
        if _INT_AMBIGUOUS.match(str(node.value)):
            raise ConstructorError(
                None, None,
                f"number {_short(node.value)} is read differently by YAML 1.1 and 1.2 (leading "
                "zero, 0b/0o prefix, '_' or ':'); write it as a plain decimal, or quote it",
                node.start_mark)
        return super().construct_yaml_int(node)

    def construct_yaml_float(self, node: Any) -> float:
        if _FLOAT_AMBIGUOUS.match(str(node.value)):
            raise ConstructorError(
                None, None,
                f"number {_short(node.value)} is read differently by YAML 1.1 and 1.2 ('_' or "
                "':'); write it as a plain decimal, or quote it", node.start_mark)
        return super().construct_yaml_float(node)

    def construct_yaml_bool(self, node: Any) -> bool:
        if str(node.value).lower() not in _BOOL_12:
            raise ConstructorError(
                None, None,
                f"{_short(node.value)} is a boolean in YAML 1.1 but text in YAML 1.2; write "
                "true/false, or quote it", node.start_mark)
        return super().construct_yaml_bool(node)


class _StrictLoader(_Strict, yaml.SafeLoader):
    """Safe loader that refuses duplicate keys and YAML 1.1-only literals."""


#: The same on libyaml's parser (about ten times faster on the bundled library); a document it
#: refuses is read again by :class:`_StrictLoader`, whose error messages are the documented ones.
_FastStrictLoader: Any = None
if getattr(yaml, "__with_libyaml__", False):
    class _CStrictLoader(_Strict, yaml.CSafeLoader):
        """:class:`_StrictLoader` on libyaml's parser."""

    _FastStrictLoader = _CStrictLoader

_loader: Any
for _loader in (_StrictLoader, _FastStrictLoader):
    if _loader is not None:
        _loader.add_constructor("tag:yaml.org,2002:int", _Strict.construct_yaml_int)
        _loader.add_constructor("tag:yaml.org,2002:float", _Strict.construct_yaml_float)
        _loader.add_constructor("tag:yaml.org,2002:bool", _Strict.construct_yaml_bool)


def _short(value: Any, limit: int = 40) -> str:
    return "'" + snippet(str(value), limit) + "'"


def _one_line(err: yaml.YAMLError, source: str) -> YamlSyntaxError:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    where = source if mark is None else f"{source}:{mark.line + 1}:{mark.column + 1}"
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    context = getattr(err, "context", None)
    text = " ".join(str(problem).split())
    if context:
        text += f" ({' '.join(str(context).split())})"
    # the parser may quote a piece of the file: keep the line short and escaped
    return YamlSyntaxError(where, snippet(text, 200))


def yaml_data(text: str, source: str) -> Any:
    """Parse YAML ``text`` strictly (see the module docstring).

    Parameters
    ----------
    text : str
        The YAML document.
    source : str
        File name (or another label) used as ``source:line:column`` in errors.

    Raises
    ------
    YamlSyntaxError
        One line ``source:line:column: problem`` for syntax errors, duplicate keys, ambiguous
        literals, or nesting deeper than Python's recursion limit.
    """
    if _FastStrictLoader is not None:
        try:
            return yaml.load(text, Loader=_FastStrictLoader)  # noqa: S506 - a CSafeLoader subclass
        except (yaml.YAMLError, RecursionError):
            pass  # read again below, for the error message of the pure-Python parser
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as err:
        raise _one_line(err, source) from None
    except RecursionError:
        raise YamlSyntaxError(source, "YAML nested less than a few hundred levels") from None


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows; write a finite number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:30]} overflows to infinity; write a finite number")
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key '{snippet(key, 40)}'; each key may appear once")
        out[key] = value
    return out


def json_data(text: str, field: str, source: str) -> Any:
    """Parse JSON ``text`` strictly: no duplicate keys, no NaN/Infinity, no overflow to inf.

    Raises
    ------
    ScenarioError
        Naming ``field``, ``source`` and the line and column of the problem.
    """
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant,
                          parse_float=_finite)
    except json.JSONDecodeError as err:
        raise ScenarioError(field, source, f"valid JSON (line {err.lineno}, column {err.colno}: "
                            f"{err.msg})") from None
    except ValueError as err:
        raise ScenarioError(field, source, f"strict JSON ({err})") from None
    except RecursionError:
        raise ScenarioError(field, source, "JSON nested less than a few hundred levels") from None

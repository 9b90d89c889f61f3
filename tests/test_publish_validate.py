"""The compiled schedule validator (fastjsonschema) and the reference one (jsonschema, Draft
2020-12) agree: on a valid schedule and on every document made from it by breaking one value, one
key or one list; ``validate_schedule`` refuses exactly what the reference refuses, with the
reference's message."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fastjsonschema
import jsonschema
import pytest

from zeropark.operations import publish as pub
from zeropark.operations.schedule import make_schedule
from zeropark.operations.state import load_state
from zeropark.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]
BAD_VALUES: tuple[Any, ...] = (None, "x", -1.5, 2.0, True, [], {})
REFERENCE = jsonschema.Draft202012Validator(pub.schedule_schema())


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    """A 1-hour demo schedule (storage, EV piles and sessions, flexible loads) as published."""
    s = make_schedule(load_scenario(REPO / "scenarios" / "demo-park.yaml"),
                      load_state(REPO / "tests" / "data" / "ops" / "state-demo.json"),
                      start="2026-11-29T00:00", horizon_h=1, step="15min",
                      forecast=REPO / "tests" / "data" / "ops" / "forecast-demo-48h.csv",
                      created_at="2026-11-28T22:00:00+08:00")
    assert not s.fallback and s.doc["ev_sessions"] and s.doc["assets"]["ev_groups"]
    return json.loads(pub.schedule_json(s.doc))


@pytest.fixture(scope="module")
def small(doc: dict[str, Any]) -> dict[str, Any]:
    """The same with its long number lists cut to their ends (valid exactly when ``doc`` is: the
    package validates this form), and one interval and one session kept (the schema checks
    every item with the same subschema), to break fewer copies."""
    out = pub._condensed(doc)
    out["intervals"], out["ev_sessions"] = out["intervals"][:1], out["ev_sessions"][:1]
    return out


def _paths(x: Any, path: tuple = ()) -> Iterator[tuple]:
    """Paths of the values to break: every key of every object and the first item of every list
    (the other items are checked by the same subschema)."""
    yield path
    if isinstance(x, dict):
        for k, v in x.items():
            yield from _paths(v, (*path, k))
    elif isinstance(x, list) and x:
        yield from _paths(x[0], (*path, 0))


def _at(doc: dict, path: tuple) -> Any:
    for p in path:
        doc = doc[p]
    return doc


def _variants(doc: dict) -> Iterator[tuple[str, dict]]:
    """Documents with one thing broken (or changed within the schema)."""
    for path in _paths(doc):
        if not path:
            continue
        parent, key = _at(doc, path[:-1]), path[-1]
        for bad in BAD_VALUES:
            new = copy.deepcopy(doc)
            _at(new, path[:-1])[key] = bad
            yield f"{path}={bad!r}", new
        if isinstance(parent, dict):
            new = copy.deepcopy(doc)
            del _at(new, path[:-1])[key]
            yield f"del {path}", new
    for path in _paths(doc):
        if isinstance(_at(doc, path), dict):
            new = copy.deepcopy(doc)
            _at(new, path)["unexpected_key"] = 1.0
            yield f"{path}+unexpected_key", new


def _reference(doc: dict) -> jsonschema.ValidationError | None:
    return jsonschema.exceptions.best_match(REFERENCE.iter_errors(doc))


def test_the_shipped_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(pub.schedule_schema())


def _fast_ok(doc: dict) -> bool:
    try:
        pub._fast_validator()(doc)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def test_both_validators_accept_the_valid_schedule(doc: dict) -> None:
    assert _reference(doc) is None and _fast_ok(doc)
    pub.validate_schedule(doc)
    pub.check_schedule(doc)


def test_validators_agree_on_every_broken_document(small: dict) -> None:
    assert _reference(small) is None
    n_invalid = n_valid = 0
    for what, bad in _variants(small):
        ok = REFERENCE.is_valid(bad)
        assert _fast_ok(bad) == ok, f"{what}: compiled validator says {not ok}"
        n_valid, n_invalid = n_valid + ok, n_invalid + (not ok)
        if ok:
            pub.validate_schedule(bad)
        elif n_invalid % 5 == 1:  # the error text (every 5th: best_match is slow)
            ref = _reference(bad)
            assert ref is not None
            where = "/".join(str(p) for p in ref.absolute_path) or "(document)"
            with pytest.raises(pub.InvalidScheduleError) as err:
                pub.validate_schedule(bad)
            assert str(err.value) == f"schedule {where}: {ref.message}", what
    assert n_invalid > 500 and n_valid > 20, (n_invalid, n_valid)  # both outcomes exercised

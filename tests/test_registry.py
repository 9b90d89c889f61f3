"""The family registry: every block belongs to a family, and nothing outside ``model/`` spells a
block name except through the family's constants."""

from __future__ import annotations

import ast
import types
from pathlib import Path

import pytest

from zeropark.model import carbon, dr, ev, flexload, grid, pv, registry, storage
from zeropark.model.builder import build_matrix
from zeropark.model.family import BALANCE_POWER
from zeropark.model.lp import MatrixLP

SRC = Path(__file__).resolve().parents[1] / "src" / "zeropark"
FAMILY_MODULES = (grid, pv, storage, ev, flexload, dr, carbon)
#: a line ending in this comment holds a scenario field path that reads like a block name
FIELD_PATH_MARK = "# scenario field path"


def _constants(module: types.ModuleType) -> set[str]:
    """The module's upper-case string constants that look like block names (``family.word``)."""
    return {v for k, v in vars(module).items()
            if k.isupper() and isinstance(v, str) and v.count(".") == 1 and " " not in v}


def _demo_blocks(demo_data) -> set[str]:
    lp = build_matrix(demo_data)
    return set(lp.var_blocks) | set(lp.row_blocks)


@pytest.fixture(scope="module")
def demo_data():
    from zeropark.api import prepare

    return prepare(SRC.parents[1] / "scenarios" / "demo-park.yaml", start=24 * 180, steps=48)


def test_every_demo_block_is_a_family_constant_with_words(demo_data) -> None:
    known = set().union(*(_constants(m) for m in FAMILY_MODULES)) | {BALANCE_POWER}
    lp = build_matrix(demo_data)
    words = {**{BALANCE_POWER: "power balance"}}
    for family in registry.FAMILIES:
        words.update(family.row_words)
        words.update(family.col_words)
    for name in [*lp.var_blocks, *lp.row_blocks]:
        if name.startswith(flexload.WINDOW_ENERGY_PREFIX):
            assert name == flexload.window_energy(int(name.rsplit("_", 1)[1]))
            continue
        assert name in known, f"{name} is not a family constant"
        assert name in words, f"{name} has no words for diagnosis"


def _literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = path.read_text(encoding="utf-8").splitlines()
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if lines[node.lineno - 1].rstrip().endswith(FIELD_PATH_MARK):
                continue
            out.append((node.lineno, node.value))
    return out


def test_no_block_name_literals_outside_model(demo_data) -> None:
    names = _demo_blocks(demo_data) | set().union(*(_constants(m) for m in FAMILY_MODULES))
    prefixes = (flexload.WINDOW_ENERGY_PREFIX,)
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if "model" in path.relative_to(SRC).parts:
            continue
        for lineno, text in _literals(path):
            if text in names or text.startswith(prefixes):
                found.append(f"{path.relative_to(SRC)}:{lineno}: {text!r}")
    assert not found, "block names spelled outside model/ (use the family's constants):\n" + \
        "\n".join(found)


def test_the_scan_finds_a_planted_literal(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text('x = lp.cols("storage.charge_kw")\ny = "pv.0.capacity_kw"\n'
                       f'z = {{"targets.green_share": 1}}  {FIELD_PATH_MARK}\n', encoding="utf-8")
    literals = dict(_literals(planted))
    assert literals == {1: storage.CHARGE_KW, 2: "pv.0.capacity_kw"}


def test_builder_reads_the_registry_at_call_time(demo_data, monkeypatch) -> None:
    monkeypatch.setattr(registry, "FAMILIES", tuple(f for f in registry.FAMILIES
                                                    if f.name != "flexload"))
    lp: MatrixLP = build_matrix(demo_data)
    assert not lp.has(flexload.POWER_KW) and lp.has(storage.CHARGE_KW)

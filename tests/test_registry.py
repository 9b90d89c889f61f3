"""The family registry: every block belongs to a family, and nothing outside ``model/`` spells a
block name except through the family's constants."""

from __future__ import annotations

import ast
import types
from pathlib import Path

import numpy as np
import pytest

from zeropark.model import (
    carbon,
    dr,
    ev,
    flexload,
    grid,
    heat,
    heatstore,
    pv,
    registry,
    storage,
)
from zeropark.model.builder import build_matrix
from zeropark.model.family import BALANCE_POWER
from zeropark.model.lp import MatrixLP

SRC = Path(__file__).resolve().parents[1] / "src" / "zeropark"
FAMILY_MODULES = (grid, pv, storage, ev, flexload, dr, heatstore, heat, carbon)
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


def _assert_constants_with_words(lp: MatrixLP) -> None:
    known = set().union(*(_constants(m) for m in FAMILY_MODULES)) | {BALANCE_POWER}
    words = {BALANCE_POWER: "power balance"}
    for family in registry.FAMILIES:
        words.update(family.row_words)
        words.update(family.col_words)
    for name in [*lp.var_blocks, *lp.row_blocks]:
        if name.startswith(flexload.WINDOW_ENERGY_PREFIX):
            assert name == flexload.window_energy(int(name.rsplit("_", 1)[1]))
            continue
        assert name in known, f"{name} is not a family constant"
        assert name in words, f"{name} has no words for diagnosis"


@pytest.mark.parametrize("park", ["demo-park", "guangdong-logistics", "inner-mongolia-park"])
def test_every_block_is_a_family_constant_with_words(park: str) -> None:
    from zeropark.api import prepare

    d = prepare(SRC.parents[1] / "scenarios" / f"{park}.yaml", start=24 * 180, steps=48)
    _assert_constants_with_words(build_matrix(d))


def test_every_sizing_block_is_a_family_constant_with_words() -> None:
    from zeropark.planning.sizing import sizing_matrix, sizing_model
    from zeropark.scenario import load_scenario

    sc = load_scenario(SRC.parents[1] / "scenarios" / "guangdong-logistics.yaml")
    m = sizing_model(sc, start=24 * 180, steps=48, all_factor=2.0)
    lp = sizing_matrix(m.data, m.plan, m.per_kwp)
    assert {pv.CAPACITY_KWP, storage.ENERGY_CAP_KWH, storage.POWER_CAP_KW, ev.PILES} <= set(
        lp.var_blocks)
    _assert_constants_with_words(lp)


def test_every_output_is_given_by_one_family_with_units(demo_data) -> None:
    values = {name: np.zeros(block.shape) for name, block in
              build_matrix(demo_data).var_blocks.items()}
    outputs = [o for f in registry.FAMILIES for o in f.outputs(demo_data, values)]
    names = [o.name for o in outputs]
    assert len(names) == len(set(names)), "an output name given by two families"
    assert {"heat_supply_kw", "heat_demand_kw", "heat_gas_kw"} <= set(names)
    assert all(o.units and o.long_name for o in outputs)


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


# -- a family added in a test: a diesel genset -------------------------------------------------
# The worked example of docs/extending.md. Per step t (Δt [h]), output p(t) [kW], on(t) ∈ {0, 1}:
#     P_min·on(t) ≤ p(t) ≤ P_max·on(t)                    (genset.min_on, genset.max_on)
#     Σ_t Δt·on(t) ≥ H_run  (optional exercise run [h])    (genset.min_run)
#     cost Σ_t (c_fuel·Δt·p(t) + c_idle·Δt·on(t)), and +p(t) in the power balance.

GENSET_POWER_KW = "genset.power_kw"
GENSET_ON = "genset.on"
GENSET_MIN_ON = "genset.min_on"
GENSET_MAX_ON = "genset.max_on"
GENSET_MIN_RUN = "genset.min_run"


def genset_family(p_min_kw: float, p_max_kw: float, fuel_per_kwh: float, idle_per_h: float,
                  min_run_h: float = 0.0):
    """A one-unit diesel genset family (parameters fixed here, not read from the scenario)."""
    import numpy as np

    from zeropark.model.family import Family, Output

    def add_matrix(lp, d, bal):  # noqa: ANN001, ANN202
        steps, dt = range(d.T), d.dt_h
        p = lp.var(GENSET_POWER_KW, (steps,), 0.0, p_max_kw, fuel_per_kwh * dt)
        on = lp.var(GENSET_ON, (steps,), 0.0, 1.0, idle_per_h * dt, integer=True)
        lp.add(bal, p, 1.0)
        lo = lp.rows(GENSET_MIN_ON, (steps,), lo=0.0)  # p − P_min·on ≥ 0
        lp.add(lo, p, 1.0)
        lp.add(lo, on, -p_min_kw)
        hi = lp.rows(GENSET_MAX_ON, (steps,), hi=0.0)  # p − P_max·on ≤ 0
        lp.add(hi, p, 1.0)
        lp.add(hi, on, -p_max_kw)
        if min_run_h > 0:
            run = lp.rows(GENSET_MIN_RUN, (), lo=min_run_h)  # Σ Δt·on ≥ H_run
            lp.add(run, on, dt)

    def add_pyomo(m, d, ctx):  # noqa: ANN001, ANN202
        import pyomo.environ as pyo

        dt = d.dt_h
        b = m.genset = pyo.Block()
        b.T = pyo.Set(initialize=range(d.T), ordered=True)
        b.power_kw = pyo.Var(b.T, bounds=(0.0, p_max_kw))
        b.on = pyo.Var(b.T, within=pyo.Binary)
        b.min_on = pyo.Constraint(b.T, rule=lambda b, t: b.power_kw[t] - p_min_kw * b.on[t] >= 0)
        b.max_on = pyo.Constraint(b.T, rule=lambda b, t: b.power_kw[t] - p_max_kw * b.on[t] <= 0)
        if min_run_h > 0:
            b.min_run = pyo.Constraint(expr=sum(dt * b.on[t] for t in b.T) >= min_run_h)
        ctx.balance.append(lambda t: b.power_kw[t])
        ctx.costs.append(sum(fuel_per_kwh * dt * b.power_kw[t] + idle_per_h * dt * b.on[t]
                             for t in b.T))

    def outputs(d, values):  # noqa: ANN001, ANN202
        p = np.asarray(values.get(GENSET_POWER_KW, np.zeros(d.T)), float)
        return [Output("genset_power_kw", ("time",), p, "kW", "diesel genset output")]

    def rounding(lp, values, permissive):  # noqa: ANN001, ANN202
        # on wherever the relaxation runs the genset at all (nearest rounding would switch off
        # a genset the relaxation runs at less than half its P_max·on)
        return {GENSET_ON: np.asarray(values[GENSET_POWER_KW]) > 1e-6}

    def kpis(d, values):  # noqa: ANN001, ANN202
        p = np.asarray(values[GENSET_POWER_KW], float)
        on = np.round(np.asarray(values[GENSET_ON], float))
        cost = float((fuel_per_kwh * p + idle_per_h * on).sum()) * d.dt_h
        return {"genset_energy_kwh": float(p.sum()) * d.dt_h, "cost_breakdown": {"genset": cost}}

    return Family(
        name="genset", add_matrix=add_matrix, add_pyomo=add_pyomo,
        row_words={GENSET_MIN_ON: "genset minimum stable output",
                   GENSET_MAX_ON: "genset output only when running",
                   GENSET_MIN_RUN: "genset exercise run hours"},
        col_words={GENSET_POWER_KW: "genset output [kW]", GENSET_ON: "genset on/off"},
        outputs=outputs, rounding=rounding, kpis=kpis,
    )


@pytest.fixture()
def with_genset(monkeypatch):
    """Register a genset family (P_min 2 kW, P_max 5 kW, fuel 0.3 CNY/kWh, idle 0.5 CNY/h)
    before carbon, as a new module's registry line would."""
    def register(**kw) -> None:  # noqa: ANN003
        fam = genset_family(2.0, 5.0, 0.3, 0.5, **kw)
        monkeypatch.setattr(registry, "FAMILIES", (*registry.FAMILIES[:-1], fam,
                                                   registry.FAMILIES[-1]))
    return register


def _tiny_genset_data():
    from zeropark.api import prepare
    from zeropark.examples import tiny

    # load 2 kW for 3 h, import at 1.0 / 0.1 / 1.0 CNY/kWh, no export
    sc, prof = tiny(3, {"load_kw": [2.0, 2.0, 2.0], "price": [1.0, 0.1, 1.0]})
    return prepare(sc, prof)


@pytest.mark.slow  # imports Pyomo (seconds on first use)
def test_a_registered_family_is_built_in_both_forms_and_solved(with_genset, tmp_path) -> None:
    import numpy as np
    import xarray as xr

    from zeropark.api import solve_data
    from zeropark.model.builder import build_pyomo
    from zeropark.model.equivalence import differences, from_matrix, from_pyomo

    with_genset()
    d = _tiny_genset_data()
    lp = build_matrix(d)
    assert lp.has(GENSET_POWER_KW) and GENSET_MIN_ON in lp.row_blocks
    assert differences(from_matrix(lp), from_pyomo(build_pyomo(d))) == []
    # Hand optimum: genset at 2 kW costs 0.3·2 + 0.5 = 1.1 per hour against 2.0 of import in
    # hours 0 and 2; in hour 1 importing costs 0.2 → 1.1 + 0.2 + 1.1 = 2.4 (both forms).
    m, p = solve_data(d, engine="matrix"), solve_data(d, engine="pyomo")
    assert m.objective == pytest.approx(2.4, abs=1e-6)
    assert p.objective == pytest.approx(2.4, abs=1e-6)
    # its KPI and its cost line: the breakdown still adds up to the objective
    assert m.kpis["genset_energy_kwh"] == pytest.approx(4.0, abs=1e-6)
    assert m.kpis["cost_breakdown"]["genset"] == pytest.approx(2.2, abs=1e-6)
    assert m.kpis["total_cost"] == pytest.approx(m.objective, abs=1e-6)
    m.to_netcdf(tmp_path / "results.nc")
    ds = xr.load_dataset(tmp_path / "results.nc", engine="h5netcdf")
    np.testing.assert_allclose(ds.genset_power_kw.values, [2.0, 0.0, 2.0], atol=1e-6)
    assert ds.genset_power_kw.attrs == {"units": "kW", "long_name": "diesel genset output"}
    np.testing.assert_allclose(ds.grid_import_kw.values, [0.0, 2.0, 0.0], atol=1e-6)


def test_a_registered_family_rounds_its_own_integers(with_genset) -> None:
    import numpy as np

    from zeropark.solve import round_binaries, solve_matrix

    with_genset()
    d = _tiny_genset_data()
    lp = build_matrix(d)
    relaxed = solve_matrix(lp, d.sc.solver, relax=True)
    # relaxation: on = p/P_max = 0.4 in hours 0 and 2 (cost 0.6 + 0.2 per hour), 1.8 in all
    assert relaxed.objective == pytest.approx(1.8, abs=1e-6)
    on = relaxed.values[GENSET_ON]
    np.testing.assert_allclose(on, [0.4, 0.0, 0.4], atol=1e-6)
    x = np.zeros(lp.n_cols)
    for name, block in lp.var_blocks.items():
        x[block.index().ravel()] = np.ravel(relaxed.values[name])
    ints = lp.arrays()["integer"]
    rounded = round_binaries(lp, x)
    # nearest rounding would give [0, 0, 0] (infeasible: p = 2 kW needs on = 1); the hook runs
    # the genset wherever the relaxation does
    assert np.round(x[ints]).tolist() == [0.0, 0.0, 0.0]
    assert rounded.tolist() == [1.0, 0.0, 1.0]


def test_a_registered_family_speaks_in_diagnosis(with_genset) -> None:
    from zeropark.diagnose import diagnose
    from zeropark.reliability.names import row_label, words

    with_genset(min_run_h=5.0)  # 5 h of exercise run in a 3 h horizon: infeasible
    d = _tiny_genset_data()
    assert words(GENSET_MIN_RUN, row=True) == "genset exercise run hours"
    assert words(GENSET_ON, row=False) == "genset on/off"
    lp = build_matrix(d)
    assert row_label(lp, int(lp.row_blocks[GENSET_MIN_RUN].index()), d) == GENSET_MIN_RUN
    text = diagnose(d).text(d.sc.name)
    assert "genset exercise run hours" in text, text

"""PyPSA export: the network's components and attributes, and the round trip — PyPSA's own LP
on the exported (and re-imported) network gives zeropark's optimum on a park both tools model."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from zeropark.api import prepare, solve_data
from zeropark.cli import main
from zeropark.examples import battery, tiny

pypsa = pytest.importorskip("pypsa")
if getattr(pypsa.options.api, "legacy_string_dtype", False) is None:
    pypsa.options.api.legacy_string_dtype = False  # pandas 3 str dtype, no FutureWarning


def park():
    """6 h: load 100 kW; TOU import 0.3/0.3/0.8/0.8/1.0/0.3, export 0.2 up to 50 kW; PV
    0/60/160/160/60/0 kW on 1 kWp... (given per array); a 200 kWh / 100 kW battery with 95 %
    efficiencies, SOC 10–90 %, start 50 %, 0.1 %/h self-discharge, 0.02 CNY/kWh throughput."""
    sc, prof = tiny(6, {"load_kw": [100.0] * 6, "price": [0.3, 0.3, 0.8, 0.8, 1.0, 0.3],
                        "export_price": 0.2, "pv_kw": [[0, 60, 160, 160, 60, 0]]},
                    pv=[{"name": "roof", "capacity_kw": 160.0}],
                    grid={"import_limit_kw": 1000.0, "export_limit_kw": 50.0},
                    storage=[battery("bat", 200.0, 100.0, charge_efficiency=0.95,
                                     discharge_efficiency=0.95, soc_min=0.1, soc_max=0.9,
                                     soc_initial=0.5, self_discharge_per_h=0.001,
                                     throughput_cost_per_kwh=0.02)],
                    weather={"source": "clearsky", "clearness": {"preset": "yangtze-delta"}})
    return prepare(sc, prof)


# PyPSA's CSV importer leaves meta.json and crs.json open (ResourceWarning in pypsa/network/io.py)
CSV_OPEN_FILES = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@CSV_OPEN_FILES
def test_round_trip_gives_the_same_optimum(tmp_path) -> None:
    from zeropark.pypsa_export import export_pypsa

    d = park()
    ours = solve_data(d, engine="matrix", relax=True)
    assert ours.ok
    for fmt, out in (("netcdf", tmp_path / "park.nc"), ("csv", tmp_path / "csv")):
        path, missing = export_pypsa(d, out, fmt)
        assert missing == ["exclusivity of import/export and charge/discharge (LP)"]
        n = pypsa.Network(str(path))
        status, condition = n.optimize(solver_name="highs", include_objective_constant=False,
                                       solver_options={"output_flag": False})
        assert condition == "optimal"
        # PyPSA's objective is Σ marginal_cost · p · weighting: energy − export revenue +
        # throughput, zeropark's relaxed objective over the same 6 h
        assert float(n.objective) == pytest.approx(ours.objective, rel=1e-6, abs=1e-6)
        soc = n.stores_t.e["bat"].to_numpy()
        assert soc == pytest.approx(ours.dataset.storage_soc_kwh.sel(storage="bat").values,
                                    abs=1e-3)


def test_components_and_attributes(tmp_path) -> None:
    from zeropark.pypsa_export import pypsa_network

    d = park()
    n = pypsa_network(d)
    assert list(n.buses.index) == ["park", "storage.bat"]
    assert set(n.generators.index) == {"pv.roof", "grid_import", "grid_export"}
    assert n.generators.at["grid_export", "p_min_pu"] == -1.0
    assert n.generators.at["grid_export", "p_nom"] == 50.0
    assert n.stores.at["bat", "e_nom"] == 200.0
    assert n.stores.at["bat", "e_min_pu"] == pytest.approx(0.1)
    # initial 100 kWh after one hour of 0.1 % self-discharge (PyPSA skips it in step 1)
    assert n.stores.at["bat", "e_initial"] == pytest.approx(99.9)
    assert n.links.at["bat.discharge", "p_nom"] == pytest.approx(100 / 0.95)
    assert n.links.at["bat.discharge", "marginal_cost"] == pytest.approx(0.02 * 0.95)
    assert float(n.snapshot_weightings.objective.iloc[0]) == 1.0
    assert n.generators_t.p_max_pu["pv.roof"].max() == pytest.approx(1.0)


@CSV_OPEN_FILES
def test_cli_lists_what_is_left_out(tmp_path) -> None:
    r = CliRunner().invoke(main, ["export-pypsa", "scenarios/demo-park.yaml", "--horizon", "2d",
                                  "--format", "csv", "-o", str(tmp_path / "net")])
    assert r.exit_code == 0, r.output
    # the demo's gas is heat demand served by a gas boiler (no fixed fuels): the heat system
    assert "left out: EV groups (2)" in r.output
    assert "left out: heat system (3 supply units, 0 thermal stores," in r.output
    assert (tmp_path / "net" / "generators.csv").is_file()
    n = pypsa.Network(str(tmp_path / "net"))
    assert len(n.snapshots) == 48 and "pv.rooftop" in n.generators.index
    r = CliRunner().invoke(main, ["export-pypsa", "scenarios/demo-park.yaml", "--format", "xls"])
    assert r.exit_code == 2

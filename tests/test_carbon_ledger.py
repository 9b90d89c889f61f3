"""The emissions ledger and the zero-carbon park indicator, on cases worked out by hand: offsets
outside the core indicator by default (and their cap base), certificates per step at that step's
factor, market-based Scope 2, the carbon-price scope, the national size bands, both tce factors,
the "1 + 5" check and the cost of abatement."""

from __future__ import annotations

import math

import numpy as np
import pytest

from zeropark import run
from zeropark.clitools import kpi_lines
from zeropark.errors import ScenarioError
from zeropark.examples import battery, tiny
from zeropark.results import abatement_cost_per_t

ENGINES = ["matrix", "pyomo"]
K = 0.1229  # kgce/kWh, equal value (GB/T 2589-2020)


def _offsets_case(**accounting: object) -> tuple:
    # 2 h at 100 kW, factor 0.5: Scope 2 = 100 kg. A hard 50 % green share with certificates
    # capped at 0.1 MWh covers exactly 100 kWh → 50 kg credited, the indicator line is 50 kg.
    # The carbon price (90/t) applies to the indicator line; offsets at 10/t are worth buying up
    # to their cap, never beyond the priced 50 kg.
    return tiny(2, dict(load_kw=[100, 100], price=1.0, ef=0.5),
                green_power={"certificates": {"price_per_mwh": 5.0, "max_mwh": 0.1},
                             "offsets": {"price_per_t": 10.0, "max_share": 0.5}},
                targets={"green_share": {"value": 0.5, "mode": "hard"},
                         "carbon_price_per_t": 90.0,
                         "accounting": {"carbon_price_scope": "indicator", **accounting}})


@pytest.mark.parametrize("engine", ENGINES)
def test_offsets_do_not_count_toward_the_indicator_by_default(engine: str) -> None:
    sc, prof = _offsets_case()
    r = run(sc, prof, engine=engine)
    k, zc = r.kpis, r.kpis["zero_carbon_indicator"]
    # cap base = the indicator's emissions after certificates: 0.5 × 50 kg = 25 kg of offsets.
    # cost 200 energy + 0.5 certificates + 0.25 offsets + 90 × (0.050 − 0.025) = 203.0
    assert k["offsets_t"] == pytest.approx(0.025, abs=1e-9)
    assert r.objective == pytest.approx(203.0, abs=1e-7)
    assert k["cost_breakdown"]["carbon"] == pytest.approx(2.25, abs=1e-7)
    # indicator 50 kg / (0.1229 × 200 kgce) = 2.0342 t/tce; with offsets 25 / 24.58 = 1.0171
    assert k["co2_t"] == pytest.approx(0.05, abs=1e-9)
    assert zc["value"] == pytest.approx(50 / (K * 200), rel=1e-9)
    assert zc["value_with_offsets"] == pytest.approx(25 / (K * 200), rel=1e-9)
    assert not zc["offsets_counted"] and zc["co2_line"] == "indicator_t"
    assert k["co2_per_tce"] * k["energy_tce"] == pytest.approx(k["co2_t"], rel=1e-12)


@pytest.mark.parametrize("engine", ENGINES)
def test_offset_cap_on_gross_emissions_reproduces_the_old_indicator(engine: str) -> None:
    # The old rule: cap on gross emissions (0.5 × 100 kg = 50 kg, all of the indicator's 50 kg)
    # and offsets counted: the indicator falls to 0 although the park emits 50 kg after
    # certificates. Cost 200 + 0.5 + 0.5 + 90 × 0 = 201.
    sc, prof = _offsets_case(offset_cap_base="gross", offsets_in_indicator=True)
    r = run(sc, prof, engine=engine)
    assert r.kpis["offsets_t"] == pytest.approx(0.05, abs=1e-9)
    assert r.objective == pytest.approx(201.0, abs=1e-7)
    assert r.kpis["zero_carbon_indicator"]["value"] == pytest.approx(0.0, abs=1e-9)
    # the same plan without counting offsets: 50 kg / 24.58 kgce
    sc2, _ = _offsets_case(offset_cap_base="gross")
    r2 = run(sc2, prof, engine=engine)
    assert r2.kpis["zero_carbon_indicator"]["value"] == pytest.approx(50 / (K * 200), rel=1e-9)
    assert r2.kpis["zero_carbon_indicator"]["value_with_offsets"] == pytest.approx(0.0, abs=1e-9)


def _varying_factor_case(share: float, **accounting: object) -> tuple:
    # 100 kWh imported in step 0 at 0.1 kg/kWh (10 kg); nothing in step 1 at 0.9. The mean
    # factor is 0.5, so the old rule credited 0.5 × 100 kWh = 50 kg of certificates for 10 kg
    # emitted: indicator (10 − 50) kg / 12.29 kgce = −3.25 t/tce.
    return tiny(2, dict(load_kw=[100, 0], price=1.0, ef=[0.1, 0.9]),
                green_power={"certificates": {"price_per_mwh": 5.0}},
                targets={"green_share": {"value": share, "mode": "hard"},
                         "accounting": accounting})


@pytest.mark.parametrize("engine", ENGINES)
def test_certificates_are_credited_per_step_at_that_steps_factor(engine: str) -> None:
    sc, prof = _varying_factor_case(1.0)
    r = run(sc, prof, engine=engine)
    e = r.kpis["emissions"]
    cov = r.values["certificates.covered_kw"]
    assert cov == pytest.approx([100.0, 0.0], abs=1e-9)  # ≤ import in each step
    assert e["scope2_location_t"] == pytest.approx(0.010, abs=1e-12)
    assert e["certificate_covered_t"] == pytest.approx(0.010, abs=1e-12)  # not 0.050
    assert r.kpis["co2_t"] == pytest.approx(0.0, abs=1e-12)
    assert r.kpis["zero_carbon_indicator"]["value"] == pytest.approx(0.0, abs=1e-9)
    assert r.kpis["certificates_mwh"] == pytest.approx(0.1, abs=1e-12)


@pytest.mark.parametrize("engine", ENGINES)
def test_certificates_under_an_annual_factor_are_one_total_spread_over_import(engine: str) -> None:
    # Factor 0.5 in both steps, imports 100 and 50 kWh: a hard 60 % green share needs
    # 0.6 × 150 = 90 kWh of certificates (5 CNY/MWh: 0.45 CNY). With one factor the model buys
    # the total C = 90 kWh ≤ 150 kWh of import as one column and one row; the results spread it
    # over the steps in proportion to import: 60 and 30 kW. Scope 2 75 kg, covered 45 kg,
    # indicator 30 kg; cost 100 + 50 + 0.45 = 150.45.
    from zeropark.api import prepare
    from zeropark.model.builder import build_matrix

    sc, prof = tiny(2, dict(load_kw=[100, 50], price=1.0, ef=0.5),
                    green_power={"certificates": {"price_per_mwh": 5.0}},
                    targets={"green_share": {"value": 0.6, "mode": "hard"}})
    lp = build_matrix(prepare(sc, prof))
    assert lp.var_blocks["certificates.covered_kwh"].shape == ()
    assert lp.row_blocks["certificates.within_import"].shape == ()
    assert "certificates.covered_kw" not in lp.var_blocks
    r = run(sc, prof, engine=engine)
    assert r.objective == pytest.approx(150.45, abs=1e-9)
    assert r.values["certificates.covered_kw"] == pytest.approx([60.0, 30.0], abs=1e-9)
    assert r.kpis["certificates_mwh"] == pytest.approx(0.09, abs=1e-12)
    e = r.kpis["emissions"]
    assert e["scope2_location_t"] == pytest.approx(0.075, abs=1e-12)
    assert e["certificate_covered_t"] == pytest.approx(0.045, abs=1e-12)
    assert r.kpis["co2_t"] == pytest.approx(0.030, abs=1e-12)


@pytest.mark.parametrize("engine", ENGINES)
def test_market_based_scope2_uses_the_residual_mix_for_uncovered_import(engine: str) -> None:
    # 60 % green: 60 kWh covered (all in step 0, the only import). Location-based: 10 − 0.1 × 60
    # = 4 kg; market-based: the 40 kWh uncovered at the residual-mix factor 0.6096 (MEE/NBS 2023
    # excluding market-traded non-fossil) = 24.384 kg.
    loc = run(*_varying_factor_case(0.6), engine=engine).kpis
    mkt = run(*_varying_factor_case(0.6, scope2_method="market"), engine=engine).kpis
    assert loc["co2_t"] == pytest.approx(0.004, abs=1e-12)
    assert mkt["co2_t"] == pytest.approx(0.024384, abs=1e-12)
    assert mkt["emissions"]["scope2_market_t"] == pytest.approx(0.024384, abs=1e-12)
    assert loc["emissions"]["scope2_market_t"] == pytest.approx(0.024384, abs=1e-12)
    assert mkt["emissions"]["scope2_method"] == "market"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("scope", "cost"), [("scope1", 0.2162), ("scope1_2_location", 50.2162),
                                             ("scope1_2_market", 61.1762)])
def test_carbon_price_applies_to_the_chosen_line(engine: str, scope: str, cost: float) -> None:
    # 1 h, 1000 kWh at factor 0.5 and price 0; gas 8760 m3/yr = 1 m3 in the hour = 2.162 kg.
    # At 100/t: Scope 1 only 0.2162; plus location Scope 2 (500 kg) 50.2162; plus market Scope 2
    # (1000 kWh × 0.6096 residual mix) 0.2162 + 60.96 = 61.1762.
    sc, prof = tiny(1, dict(load_kw=[1000], price=0.0, ef=0.5),
                    fuels={"natural_gas_m3_per_year": 8760.0},
                    targets={"carbon_price_per_t": 100.0,
                             "accounting": {"carbon_price_scope": scope}})
    r = run(sc, prof, engine=engine)
    assert r.objective == pytest.approx(cost, abs=1e-9)
    assert r.kpis["cost_breakdown"]["carbon"] == pytest.approx(cost, abs=1e-9)
    assert r.kpis["emissions"]["scope1_fuels_t"] == pytest.approx(0.002162, abs=1e-12)


def _band_case(load_kw: float, rule: str = "national_band", **extra: object) -> tuple:
    return tiny(1, dict(load_kw=[load_kw], price=1.0, ef=0.5),
                grid={"import_limit_kw": 2e6, "export_limit_kw": 0.0},
                targets={"zero_carbon_indicator": {"threshold_t_per_tce": 0.5, "mode": "soft",
                                                   "penalty_per_t": 1.0,
                                                   "threshold_rule": rule}}, **extra)


@pytest.mark.parametrize("engine", ENGINES)
def test_threshold_follows_the_national_size_band(engine: str) -> None:
    # 1,000,000 kW for a year = 8.76 TWh × 0.1229 = 1,076,604 tce/yr: band ≥ 1M, limit 0.3.
    # CO2 500 t, tce 122.9: excess 500 − 0.3 × 122.9 = 463.13 t (own 0.5: 500 − 61.45 = 438.55).
    r = run(*_band_case(1e6), engine=engine)
    zc = r.kpis["zero_carbon_indicator"]
    assert zc["threshold"] == 0.3 and zc["band"] == "zero-carbon-park-2025-large"
    assert zc["baseline_annual_tce"] == pytest.approx(K * 1e6 * 8760 / 1000, rel=1e-12)
    assert float(r.values["targets.indicator_over_t"]) == pytest.approx(463.13, abs=1e-6)
    own = run(*_band_case(1e6, rule="own"), engine=engine)
    assert own.kpis["zero_carbon_indicator"]["threshold"] == 0.5
    assert float(own.values["targets.indicator_over_t"]) == pytest.approx(438.55, abs=1e-6)
    # 200,000 kW: 215,321 tce/yr, the 200k–1M band: 0.2
    assert run(*_band_case(2e5), engine=engine).kpis["zero_carbon_indicator"]["threshold"] == 0.2


def test_below_the_bands_the_own_threshold_applies_and_says_so() -> None:
    r = run(*_band_case(1000.0))  # 1,077 tce/yr
    zc = r.kpis["zero_carbon_indicator"]
    assert zc["threshold"] == 0.5 and zc["band"] is None
    assert "national bands (from 200,000 tce/yr) do not apply" in zc["threshold_source"]
    assert any("do not apply" in line for line in kpi_lines(r.kpis))


def test_band_change_after_the_solve_is_reported() -> None:
    # 185,700 kW → 199,925 tce/yr before the solve (no band, own threshold). At a negative price
    # the battery charges 1000 kWh, which counts as consumption: 186,700 kWh → 200,999 tce/yr,
    # inside the 200k–1M band after the solve. The threshold stays the one fixed before.
    sc, prof = _band_case(185_700.0, storage=[battery(energy_kwh=1000, power_kw=1000)])
    prof.import_price_per_kwh[:] = -1.0
    r = run(sc, prof)
    zc = r.kpis["zero_carbon_indicator"]
    assert zc["band"] is None and zc["threshold"] == 0.5
    assert zc["annual_tce"] == pytest.approx(K * 186_700 * 8760 / 1000, rel=1e-9)
    assert zc["band_after_solve"] == "zero-carbon-park-2025-small" and zc["band_changed"]
    assert any("band re-check" in line for line in kpi_lines(r.kpis))


@pytest.mark.parametrize("factor", ["equal_value", "coal_equivalent"])
def test_both_tce_factors_shown_when_their_verdicts_differ(factor: str) -> None:
    # 100 kWh at 0.5 = 50 kg. Equal value: 12.29 kgce → 4.068 t/tce > 2 FAIL; coal-equivalent
    # 0.30 kgce/kWh (library default): 30 kgce → 1.667 t/tce ≤ 2 PASS.
    sc, prof = tiny(1, dict(load_kw=[100], price=1.0, ef=0.5),
                    targets={"zero_carbon_indicator": {"threshold_t_per_tce": 2.0},
                             "accounting": {"tce_factor": factor}})
    k = run(sc, prof).kpis
    zc = k["zero_carbon_indicator"]
    by = zc["by_tce_factor"]
    assert by["equal_value"]["value"] == pytest.approx(50 / 12.29, rel=1e-9)
    assert by["coal_equivalent"]["value"] == pytest.approx(50 / 30, rel=1e-9)
    assert zc["verdicts_differ"]
    assert zc["value"] == pytest.approx(by[factor]["value"], rel=1e-12)
    assert zc["pass"] is (factor == "coal_equivalent")
    table = "\n".join(kpi_lines(k))
    assert "at equal value tce" in table and "at coal equivalent tce" in table


def test_zero_carbon_check_from_the_parks_own_figures() -> None:
    # gas 8760 m3/yr = 1 m3 = 1.2143 kgce in the hour; 100 kWh = 12.29 kgce, no green power:
    # clean share with gas 1.2143 / 13.5043 = 8.99 %, without 0.
    sc, prof = tiny(1, dict(load_kw=[100], price=1.0, ef=0.5),
                    fuels={"natural_gas_m3_per_year": 8760.0},
                    targets={"guiding": {"solid_waste_utilisation": 0.85,
                                         "waste_energy_recovery": 0.4,
                                         "product_energy_intensity": 1.2,
                                         "product_energy_limit": 1.0}})
    k = run(sc, prof).kpis
    assert k["clean_energy_share"] == pytest.approx(1.2143 / 13.5043, rel=1e-9)
    assert k["clean_energy_share_variants"]["without_gas"] == 0.0
    check = {name: item["verdict"] for name, item in k["zero_carbon_check"].items()}
    assert check == {"core_indicator": "fail", "clean_energy_share": "fail",
                     "product_energy_intensity": "fail", "solid_waste_utilisation": "pass",
                     "waste_energy_recovery": "fail", "water_reuse": "not given"}
    no_gas = run(sc.replace({"targets.accounting.clean_share_counts_gas": False}), prof).kpis
    assert no_gas["clean_energy_share"] == 0.0
    assert "water reuse not given" in "\n".join(kpi_lines(k))


def test_bad_accounting_input_is_one_line_error() -> None:
    with pytest.raises(ScenarioError, match="product_energy_limit"):
        tiny(1, dict(load_kw=[1], price=1.0), targets={"guiding": {"product_energy_intensity": 1}})
    with pytest.raises(ScenarioError, match="tce_factor"):
        tiny(1, dict(load_kw=[1], price=1.0), targets={"accounting": {"tce_factor": "x"}})
    sc, prof = tiny(1, dict(load_kw=[1], price=1.0),
                    targets={"accounting": {"scope2_method": "market",
                                            "residual_mix_factor": "nowhere"}})
    with pytest.raises(ScenarioError, match="targets.accounting.residual_mix_factor"):
        run(sc, prof)


def test_kpi_table_names_every_co2_line() -> None:
    # Finding 10: every CO2 figure printed says its line, and the indicator row shows the CO2
    # and tce it divides (co2_t / energy_tce).
    sc, prof = _offsets_case()
    k = run(sc, prof).kpis
    table = "\n".join(kpi_lines(k))
    for label in ("CO2 Scope 1 (fuels)", "CO2 Scope 2 location-based", "certificate-covered",
                  "CO2 Scope 2 market-based", "CO2 indicator line", "CCER offsets",
                  "carbon price applies to", "physical renewable share"):
        assert label in table
    assert f"= {k['co2_t']:,.1f} t / {k['energy_tce']:,.1f} tce" in table
    assert k["physical_green_share"] == 0.0 and k["green_share"] == pytest.approx(0.5)


def test_cost_of_abatement_of_a_lever() -> None:
    # Certificates at 5/MWh for a hard 30 % green share: +1.5 cost, −150 kg (0.3 MWh × 0.5):
    # 1.5 / 0.15 t = 10 per t (= 5 per MWh / 0.5 t per MWh).
    plan = run(*tiny(1, dict(load_kw=[1000], price=0.5, ef=0.5),
                     green_power={"certificates": {"price_per_mwh": 5.0}},
                     targets={"green_share": {"value": 0.3, "mode": "hard"}})).kpis
    without = run(*tiny(1, dict(load_kw=[1000], price=0.5, ef=0.5))).kpis
    assert abatement_cost_per_t(plan, without) == pytest.approx(10.0, rel=1e-9)
    assert math.isnan(abatement_cost_per_t(without, without))
    sized = {**plan, "sizing": {"total_cost_with_investment": 520.0}}
    assert abatement_cost_per_t(sized, without) == pytest.approx(20 / 0.15, rel=1e-9)
    assert np.isfinite(abatement_cost_per_t(plan, without))


def test_report_shows_the_ledger_and_the_check(tmp_path) -> None:  # noqa: ANN001
    from zeropark.report.html import ledger_html

    sc, prof = _offsets_case()
    k = run(sc, prof).kpis
    page = ledger_html(k)
    assert "CO2 Scope 2 location-based" in page and "with offsets" in page
    assert 'data-check-item="water_reuse"' in page and "not given" in page
    assert ledger_html({"zero_carbon_indicator": {}}) == ""


def test_monthly_emissions_plot_reconciles_with_the_ledger() -> None:
    # Fuels come from the Scope 1 line; the net monthly values add up to co2_t (= value × tce),
    # also at the coal-equivalent tce factor.
    from zeropark import plots

    sc, prof = tiny(2, dict(load_kw=[100, 100], price=1.0, ef=0.5),
                    fuels={"natural_gas_m3_per_year": 8760.0},
                    green_power={"certificates": {"price_per_mwh": 5.0}},
                    targets={"green_share": {"value": 0.5, "mode": "hard"},
                             "accounting": {"tce_factor": "coal_equivalent"}})
    r = run(sc, prof)
    ax = plots.monthly_emissions(r.dataset, r.kpis).axes[0]
    net = next(line for line in ax.lines if line.get_label() == "net (indicator)")
    # 100 kg − 50 kg credited + 2 × 2.162 kg of gas = 54.324 kg
    assert r.kpis["co2_t"] == pytest.approx(0.054324, abs=1e-12)
    assert float(np.sum(net.get_ydata())) == pytest.approx(r.kpis["co2_t"], rel=1e-9)
    allowance = next(line for line in ax.lines if line.get_label().startswith("allowance"))
    assert float(np.sum(allowance.get_ydata()[:-1])) == pytest.approx(
        0.2 * r.kpis["energy_tce"], rel=1e-9)

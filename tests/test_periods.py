"""Representative-period sizing: typical days with inter-period SOC linking against the
full-horizon sizing optimum, extreme periods, period selection and bad input."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

import zeropark as zp
from zeropark.cli import main
from zeropark.errors import ScenarioError
from zeropark.examples import battery, tiny, tiny_dict
from zeropark.planning.periods import PeriodSpec, parse_periods, select_periods
from zeropark.planning.sizing import size
from zeropark.profiles.base import EvGroupProfile

CRF_15 = 0.06 * 1.06**15 / (1.06**15 - 1)  # lfp-2h lifetime 15 yr at 6 %
DAYS = 28


def weekly_case():
    """28 days from Tuesday 2025-07-01, load 100 kW; energy costs 0.1 CNY/kWh on weekends and
    3.0 on weekdays (flat within each day): a battery is only worth anything if it carries
    weekend energy into the week. Ideal battery sized with lfp-2h costs, start empty."""
    day = np.repeat(np.arange(DAYS), 24)
    weekend = np.isin((day + 1) % 7, [5, 6])  # 2025-07-01 is a Tuesday (weekday 1)
    price = np.where(weekend, 0.1, 3.0)
    return tiny(24 * DAYS, {"load_kw": np.full(24 * DAYS, 100.0), "price": price},
                storage=[battery("bat", 0.0, 0.0, max_energy_kwh=50000.0)])


@pytest.mark.slow
def test_weekly_storage_needs_inter_period_linking() -> None:
    # By hand: each kWh of battery costs c = (540·CRF + (300·CRF + 28)/2)·672/8760 ≈ 6.5 CNY
    # over the 4 weeks (P = E/2 at most) and saves 2.9 CNY per weekly cycle. Weekends
    # Jul 5–6, 12–13, 19–20, 26–27 feed the following weekdays: three full weeks of 5 × 2400 kWh
    # and Monday Jul 28 (2400 kWh). Every kWh up to 12 000 kWh is used in ≥ 3 cycles
    # (8.7 > 6.5 CNY): E = 12 000 kWh. Typical days can see this only through linking.
    c = (540 * CRF_15 + (300 * CRF_15 + 28) / 2) * 672 / 8760
    assert 3 * 2.9 > c > 2 * 2.9
    sc, prof = weekly_case()
    full = size(sc, prof)
    assert full.status == zp.Status.OPTIMAL
    assert full.kpis["sizing"]["sizes"]["storage.bat.energy_kwh"] == pytest.approx(12000.0)
    linked = size(sc, prof, periods="typical-days:2")
    info = linked.kpis["sizing"]["periods"]
    assert info["typical_periods"] == 2
    assert linked.kpis["sizing"]["sizes"]["storage.bat.energy_kwh"] == pytest.approx(12000.0)
    # The sizes, dispatched over the 28 days, are within 1 % of the full-horizon optimum. The
    # aggregated model itself overestimates: all weekend days share one representative, so the
    # last weekend also charges 12 000 kWh of which only Monday's 2 400 kWh is used
    # (9 600 kWh × 0.1 CNY = 960 CNY more than the full-horizon dispatch of the same sizes).
    assert full.objective <= linked.objective <= 1.01 * full.objective
    assert info["full_year_objective"] == pytest.approx(linked.objective)
    assert info["difference"] == pytest.approx(960.0, rel=1e-6)
    # each typical day cyclic on its own: no day can store for another, nothing is bought
    alone = size(sc, prof, periods=PeriodSpec("typical-days", 2, link_storage=False))
    assert alone.kpis["sizing"]["sizes"]["storage.bat.energy_kwh"] == pytest.approx(0.0, abs=1e-6)
    assert alone.objective > 1.2 * full.objective


def pv_storage_case():
    """21 days: PV whose daily yield is one of three kinds (cloudy/hazy/sunny, in a random
    order), TOU prices, a demand charge and a 20 kW busier day 9; PV and storage both sized."""
    T = 24 * 21
    h = np.arange(T) % 24
    rng = np.random.default_rng(3)
    scale = rng.choice([0.3, 0.7, 1.0], size=21)
    pv = np.clip(np.sin((h - 6) / 12 * np.pi), 0, None) * np.repeat(scale, 24)
    price = np.select([(h >= 8) & (h < 18), (h >= 18) & (h < 22)], [1.0, 1.5], 0.3)
    load = 400.0 + 200.0 * ((h >= 8) & (h < 20)) + 20.0 * (np.arange(T) // 24 == 9)
    return tiny(T, {"load_kw": load, "price": price, "pv_kw": [pv], "demand_charge": 30.0},
                pv=[{"name": "roof", "capacity_kw": 1.0, "max_capacity_kw": 5000.0}],
                storage=[battery("bat", 0.0, 0.0, max_energy_kwh=20000.0,
                                 charge_efficiency=0.95, discharge_efficiency=0.95,
                                 end_condition="cyclic")],
                weather={"source": "clearsky", "clearness": {"preset": "yangtze-delta"}})


@pytest.mark.slow
def test_typical_days_close_to_the_full_horizon_optimum_with_pv_and_storage() -> None:
    sc, prof = pv_storage_case()
    full = size(sc, prof)
    assert full.status == zp.Status.OPTIMAL
    agg = size(sc, prof, periods="typical-days:4")
    info = agg.kpis["sizing"]["periods"]
    assert info["original_periods"] == 21
    assert info["typical_periods"] == 4 and info["extreme_periods"] >= 1
    # The sizes of 4 typical days (+ the peak day), dispatched over the 21 days, can never beat
    # the 21-day sizing optimum. Here they cost 1.6 % more: every day of a kind shares one
    # dispatch, and the battery that carries a sunny day's surplus into the night (past
    # midnight, into the next period) cannot do it differently before a cloudy and before a
    # sunny day, so the typical days value storage less (2.5 MWh against 5.2 MWh). The
    # weekly test above is within 1 %; docs/planning.md states this limitation.
    assert agg.objective >= full.objective * (1 - 1e-7)
    assert agg.objective <= 1.02 * full.objective
    assert agg.kpis["sizing"]["sizes"]["pv.roof.capacity_kw"] > 0
    # what is reported is the full-horizon dispatch of the aggregated sizes
    assert info["full_year_objective"] == pytest.approx(agg.objective)
    assert info["difference"] == pytest.approx(info["objective"] - agg.objective)


@pytest.mark.slow
def test_every_period_its_own_representative_is_the_full_model() -> None:
    # With K ≥ the number of periods nothing is aggregated: the linked model must then be the
    # full-horizon model exactly (same sizes, same objective).
    sc, prof = pv_storage_case()
    full = size(sc, prof)
    agg = size(sc, prof, periods="typical-days:21")
    info = agg.kpis["sizing"]["periods"]
    assert info["typical_periods"] + info["extreme_periods"] == 21
    assert info["objective"] == pytest.approx(full.objective, rel=1e-7)
    assert agg.kpis["sizing"]["sizes"] == pytest.approx(full.kpis["sizing"]["sizes"], rel=1e-5)


def test_selection_weights_and_extreme_periods() -> None:
    sc, prof = pv_storage_case()
    sel = select_periods(prof, PeriodSpec("typical-days", 4), {0: prof.pv_avail_kw[0]})
    assert sel.weights.sum() == len(sel.starts) == 21
    # every day is represented by a representative of its own cluster, which is a real day
    assert set(sel.rep_of) == set(range(len(sel.reps)))
    assert all(sel.rep_of[p] == k for k, p in enumerate(sel.reps))
    # the month's peak-load day is kept on its own with weight 1
    peak_day = int(np.argmax(prof.load_kw)) // 24
    k = sel.rep_of[peak_day]
    assert sel.reps[k] == peak_day and sel.extreme[k] and sel.weights[k] == 1
    assert (~sel.extreme).sum() == 4


def test_partial_last_period_is_kept() -> None:
    sc, prof = pv_storage_case()  # 21 days = 3 weeks; use 10-day-ish weeks: 2 weeks + 7 days
    sel = select_periods(prof.window(0, 24 * 17), PeriodSpec("typical-weeks", 1))
    assert list(sel.lengths) == [168, 168, 72]
    assert sel.extreme[sel.rep_of[2]] and sel.weights[sel.rep_of[2]] == 1


@pytest.mark.parametrize("text", ["typical-days", "days:3", "typical-days:0", "typical-hours:4",
                                  "typical-days:-2", ""])
def test_bad_periods_option(text: str) -> None:
    with pytest.raises(ScenarioError, match="typical-days:K"):
        parse_periods(text)


@pytest.mark.parametrize("value", [-0.01, 0.5])
def test_bad_periods_mip_gap(value: float) -> None:
    sc = zp.load_scenario("scenarios/demo-park.yaml")
    with pytest.raises(ScenarioError, match=r"sizing\.periods_mip_gap"):
        sc.replace({"sizing.periods_mip_gap": value})


def test_periods_need_the_full_horizon() -> None:
    sc, prof = weekly_case()
    with pytest.raises(ScenarioError, match="full horizon"):
        size(sc, prof, steps=48, periods="typical-days:2")


@pytest.mark.slow
def test_tsam_is_imported_only_when_used() -> None:
    code = "import sys, zeropark.planning.sizing; print('tsam' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.slow
def test_cli_size_periods(tmp_path) -> None:
    data = tiny_dict(24 * 6, weather={"source": "clearsky", "clearness": {"preset": "yangtze-delta"}},
                     loads={"source": "synthetic", "peak_kw": 50.0},
                     pv=[{"name": "roof", "capacity_kw": 20.0}],
                     storage=[battery("bat", 40.0, 20.0)])
    path = tmp_path / "park.yaml"
    path.write_text(yaml.safe_dump(data))
    out = tmp_path / "out"
    runner = CliRunner()
    res = runner.invoke(main, ["size", str(path), "-o", str(out), "--all", "3",
                               "--periods", "typical-days:2", "--no-plot"])
    assert res.exit_code == 0, res.output
    assert "typical-days:2: 2 typical + " in res.output and "full-horizon dispatch" in res.output
    kpis = json.loads((out / "kpis.json").read_text())
    p = kpis["sizing"]["periods"]
    assert p["original_periods"] == 6 and p["typical_periods"] == 2
    # what is reported is the full-horizon dispatch of the sizes (operation + capex share)
    assert p["full_year_objective"] == pytest.approx(kpis["sizing"]["total_cost_with_investment"])
    assert p["difference"] == pytest.approx(p["objective"] - p["full_year_objective"])
    # the run files are those of the full horizon
    assert len(kpis["sizing"]["sizes"]) == 3
    res = runner.invoke(main, ["size", str(path), "-o", str(out), "--all", "3",
                               "--periods", "typical-months:2"])
    assert res.exit_code == 2 and "typical-days:K" in res.output


def test_free_start_with_linked_periods_is_the_full_model() -> None:
    # soc_initial 'free' (end = start, cyclic) with linked periods once failed while building
    # the start row ('free' is not a share). With every day its own representative the linked
    # model is the full-horizon model: same objective and sizes.
    T = 24 * 6
    h = np.arange(T) % 24
    price = np.where((h >= 8) & (h < 18), 1.5, 0.3)
    sc, prof = tiny(T, {"load_kw": np.full(T, 100.0), "price": price},
                    storage=[battery("bat", 0.0, 0.0, max_energy_kwh=2000.0, soc_initial="free",
                                     end_condition="cyclic")])
    full = size(sc, prof)
    agg = size(sc, prof, periods="typical-days:6")
    assert full.status == zp.Status.OPTIMAL
    assert full.kpis["sizing"]["sizes"]["storage.bat.energy_kwh"] > 0
    assert agg.kpis["sizing"]["periods"]["objective"] == pytest.approx(full.objective, rel=1e-7)
    assert agg.kpis["sizing"]["sizes"] == pytest.approx(full.kpis["sizing"]["sizes"], rel=1e-5)


def ev_days_case(need_kwh: list[float], v2g: bool = False):
    """One EV group over len(need_kwh) days: cars plugged in 08:00–18:00 at up to 50 kW that must
    have received day d's need_kwh[d] by 18:00 and may take it from 08:00; flat 0.5 CNY/kWh, a
    constant 10 kW load, a battery that may be sized (and is worth nothing at a flat price)."""
    T = 24 * len(need_kwh)
    h = np.arange(T) % 24
    day_need = np.repeat(np.asarray(need_kwh, float), 24)
    before = np.repeat(np.concatenate([[0.0], np.cumsum(need_kwh)[:-1]]), 24)
    lo = before + day_need * (h >= 17)  # due by the end of step 17 (18:00)
    hi = before + day_need * (h >= 8)
    p_max = np.where((h >= 8) & (h < 18), 50.0, 0.0)
    ev = {"fleet": EvGroupProfile(lo, hi, p_max, float(sum(need_kwh)))}
    return tiny(T, {"load_kw": np.full(T, 10.0), "price": 0.5, "ev": ev},
                storage=[battery("bat", 0.0, 0.0, max_energy_kwh=1000.0)],
                ev={"groups": [{"name": "fleet", "technology": "dc-60kw", "count": 1,
                                "v2g": v2g}],
                    "unmet_penalty_per_kwh": 5.0})


@pytest.mark.parametrize("v2g", [False, True])
def test_ev_envelope_restarts_at_every_representative_period(v2g: bool) -> None:
    # Day 0 holds the month's peak load (constant load: its first step), so it is an extreme
    # period; days 1 and 2 (200 kWh each) form the one typical day, weight 2. The aggregated
    # model puts the typical day first and day 0 after it. Each day's envelope is rebased to
    # start from 0, so the first step of day 0 in the model must not carry the typical day's
    # 200 kWh over (it once did: "must have received 200 kWh … at most 0 kWh", infeasible; with
    # V2G the unmet-energy chain across the cut was refused). By hand, nothing is unmet and
    # nothing is stored: load 10 kW × 72 h × 0.5 = 360 CNY, EV (100 + 2·200) kWh × 0.5 = 250 CNY,
    # 610 CNY for the aggregated model and for the full horizon alike.
    sc, prof = ev_days_case([100.0, 200.0, 200.0], v2g=v2g)
    agg = size(sc, prof, periods="typical-days:1")
    assert agg.status == zp.Status.OPTIMAL
    info = agg.kpis["sizing"]["periods"]
    assert (info["typical_periods"], info["extreme_periods"]) == (1, 1)
    assert info["objective"] == pytest.approx(610.0, rel=1e-9)
    assert agg.objective == pytest.approx(610.0, rel=1e-9)
    assert agg.kpis["ev_unmet_kwh"] == pytest.approx(0.0, abs=1e-6)


def test_pile_count_keeps_the_full_horizon_floor() -> None:
    # Day 2 has 5 cars plugged in at once (10:00–12:00), the other days one car. The energy
    # (≤ 200 kWh in 10 h) needs 20 kW, one 60 kW pile; piles are piles, so a full-horizon sizing
    # buys 5. Day 2 is one of the two days of the typical day, whose representative carries no
    # session table: the aggregated model once bought 1 pile and the full-horizon check then
    # dispatched 1 pile for 5 cars. It must keep the horizon's floor of 5.
    sc, prof = ev_days_case([100.0, 200.0, 200.0])
    t0 = prof.time[0]
    hours = [(8, 18), (32, 42)] + [(58, 60)] * 5
    sessions = pd.DataFrame({"arrival": [t0 + pd.Timedelta(hours=a) for a, _ in hours],
                             "departure": [t0 + pd.Timedelta(hours=b) for _, b in hours]})
    ev = {"fleet": dataclasses.replace(prof.ev["fleet"], sessions=sessions)}
    sc = sc.replace({"ev.groups.0.max_count": 20})
    prof = dataclasses.replace(prof, ev=ev)
    full = size(sc, prof)
    assert full.kpis["sizing"]["sizes"]["ev.fleet.count"] == 5
    agg = size(sc, prof, periods="typical-days:1")
    assert agg.kpis["sizing"]["periods"]["sizes"]["ev.fleet.count"] == 5
    assert agg.kpis["sizing"]["sizes"]["ev.fleet.count"] == 5
    assert agg.objective == pytest.approx(full.objective, rel=1e-9)


@pytest.mark.slow
def test_demo_park_typical_days_over_two_weeks() -> None:
    # The bundled demo over its first 14 days with --all 3 and 4 typical days (+ the January
    # peak day) was infeasible ("EV group staff-ac must have received … kWh by … but may have
    # received at most 0 kWh …"): see test_ev_envelope_restarts_at_every_representative_period.
    from zeropark.model.ev import plugged_at_once
    from zeropark.planning.sizing import sizing_model

    sc = zp.load_scenario("scenarios/demo-park.yaml").replace({"time.end": "2025-01-15"})
    res = size(sc, all_factor=3, periods="typical-days:4")
    assert res.status == zp.Status.OPTIMAL
    info = res.kpis["sizing"]["periods"]
    assert (info["typical_periods"], info["original_periods"]) == (4, 14)
    assert info["sizes"] == res.kpis["sizing"]["sizes"]
    # the aggregated model's own estimate against the 14-day dispatch of its sizes (+1.7 %
    # when this test was written)
    assert abs(info["difference_pct"]) < 5.0
    # both the aggregated model and the full-horizon check of its sizes are solved to the
    # larger of solver.mip_gap (0.1 %) and sizing.periods_mip_gap (0.5 %)
    assert info["mip_gap"] == max(sc.solver.mip_gap, sc.sizing.periods_mip_gap) == 0.005
    assert info["gap"] <= info["mip_gap"] + 1e-12
    assert info["full_year_gap"] <= info["mip_gap"] + 1e-12
    d = sizing_model(sc, all_factor=3).data
    floor = plugged_at_once(d, list(d.ev_names))
    for name, n in zip(d.ev_names, floor, strict=True):
        assert res.kpis["sizing"]["sizes"][f"ev.{name}.count"] >= n


def test_energy_preserving_rescales_typical_periods_by_hand() -> None:
    from zeropark.planning.periods import Selection, energy_preserving

    # four 2-step periods; period 0 stands for 0, 1 and 2 (weight 3), period 3 is extreme
    sel = Selection(starts=np.array([0, 2, 4, 6]), lengths=np.array([2, 2, 2, 2]),
                    rep_of=np.array([0, 0, 0, 1]), reps=np.array([0, 3]),
                    weights=np.array([3.0, 1.0]), extreme=np.array([False, True]))
    # year 2 + 6 + 4 + 10 = 22 kWh; the extreme period keeps its 10, so the typical one must
    # carry 12 with weight 3: [1, 1] × 2 = [2, 2]
    series = np.array([1, 1, 3, 3, 2, 2, 10, 0], float)
    assert energy_preserving(series, sel) == pytest.approx([2, 2, 10, 0])
    # never above the series' maximum (3): year 3.5 + 6 + 6 + 0 = 15.5 needs 15.5 / 3 per
    # typical period; [1, 2.5] → [x, 3] with x + 3 = 15.5 / 3, x = 2.1667
    series = np.array([1, 2.5, 3, 3, 3, 3, 0, 0], float)
    assert energy_preserving(series, sel) == pytest.approx([15.5 / 3 - 3, 3, 0, 0], rel=1e-3)


def test_direct_supply_minimum_take_survives_aggregation() -> None:
    # A wind contract whose minimum take is all it delivers in the horizon: the representative
    # days must hold the year's wind energy, or the aggregated model is infeasible (it was, on
    # the Inner Mongolia park, once the typical days changed).
    # day 0 is the extreme (peak-load) day; the rest cluster into calm days (0, 0, 0, 20 kW)
    # and windy days (100 kW): the calm days' medoid has none of the 20 kW day's wind, so the
    # medoid days alone hold 480 kWh less than the year
    day_kw = np.array([50.0, 0, 0, 0, 20, 100, 100, 100, 100])
    days = len(day_kw)
    wind = np.repeat(day_kw, 24)
    T = 24 * days
    direct = {"capacity_kw": 100.0, "shape": "wind", "price_per_kwh": 0.05,
              "min_take_kwh": float(wind.sum()) * 8760 / T * 1.01}  # pro rata: above it
    sc, prof = tiny(T, {"load_kw": np.full(T, 120.0), "price": 0.5, "green_direct_kw": wind},
                    green_power={"direct": direct},
                    storage=[battery("bat", 0.0, 0.0, max_energy_kwh=2000.0)])
    res = size(sc, prof, all_factor=3, periods="typical-days:2")
    assert res.status == zp.Status.OPTIMAL, res.explanation
    # the full-horizon check takes every kWh the contract delivers
    taken_kwh = float(res.dataset["green_direct_kw"].sum())
    assert taken_kwh == pytest.approx(wind.sum(), rel=1e-6)


def test_failed_representative_model_says_so() -> None:
    # the plain-scenario diagnosis does not apply to the edited aggregated model: the message
    # names it and says what to do instead
    from zeropark.planning.sizing import _periods_failed
    from zeropark.solve import SolveOutcome, Status

    out = SolveOutcome(Status.INFEASIBLE, float("nan"), float("nan"), float("nan"), {},
                       message="Infeasible")
    agg = {"spec": "typical-days:12", "typical_periods": 12, "extreme_periods": 12,
           "timings": {"total_s": 1.0}}
    res = _periods_failed("park", agg, out)
    assert not res.ok and res.dataset is None
    assert res.explanation == ("park: the representative-period model (typical-days:12: 12 "
                               "typical + 12 extreme periods) has no solution (infeasible: "
                               "Infeasible); size over the full horizon (without --periods), "
                               "or try another K")
    assert res.kpis["explanation"] == res.explanation


# Full-horizon sizing optimum of the first 14 days of each bundled park with --all 3 at a 0.1 %
# gap, measured once (2026-12-02): the Inner Mongolia one takes minutes (its electrolyser's
# minimum-on power), so it is recorded here rather than solved in the test; the other two are
# solved below. A model change that moves it makes this test fail: re-measure it then.
_IM_14D_OPTIMUM = 1_681_821.0  # objective; its bound is within 0.1 % below


@pytest.mark.slow
@pytest.mark.parametrize("park", ["demo-park", "guangdong-logistics", "inner-mongolia-park"])
def test_typical_days_within_one_percent_of_the_full_optimum_on_the_bundled_parks(park: str
                                                                                   ) -> None:
    # 14 days, 4 typical days (+ the extreme ones): the sizes the aggregated model chooses,
    # dispatched over the 14 days, cost at most 1 % more than the 14-day sizing optimum
    sc = zp.load_scenario(f"scenarios/{park}.yaml").replace(
        {"time.end": "2025-01-15", "solver.mip_gap": 0.001})
    res = size(sc, all_factor=3, periods="typical-days:4")
    assert res.status == zp.Status.OPTIMAL
    cost = res.kpis["sizing"]["total_cost_with_investment"]
    if park == "inner-mongolia-park":
        lower = _IM_14D_OPTIMUM * (1 - 0.001)
    else:
        full = size(sc, all_factor=3)
        assert full.status == zp.Status.OPTIMAL
        lower = full.bound  # no sizing of these 14 days costs less
    assert lower <= cost <= 1.01 * lower

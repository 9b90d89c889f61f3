"""Plots: the numbers drawn are the numbers of the result (bars, markers, cells), files are valid
PNG/SVG written atomically, and sweep helpers find the right Pareto points."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import zeropark as zp
from zeropark import plots
from zeropark.errors import ScenarioError
from zeropark.examples import battery, tiny


def _dataset(import_kw: list[float], start: str = "2025-01-31 22:00", dt_h: float = 1.0,
             peaks: list[float] | None = None) -> xr.Dataset:
    """A hand-made result dataset: load = import, no PV, one idle battery, one flexible load."""
    T = len(import_kw)
    time = pd.date_range(start, periods=T, freq=pd.Timedelta(hours=dt_h))
    months = sorted(set(time.to_period("M").astype(str)))
    imp = np.asarray(import_kw, float)
    labels = time.to_period("M").astype(str)
    if peaks is None:
        peaks = [float(imp[labels == m].max()) for m in months]
    zeros = np.zeros(T)
    return xr.Dataset(
        {
            "load_kw": ("time", imp), "grid_import_kw": ("time", imp),
            "grid_export_kw": ("time", zeros), "green_direct_kw": ("time", zeros),
            "pv_power_kw": (("pv", "time"), zeros[None, :] + 0.0),
            "pv_available_kw": (("pv", "time"), zeros[None, :] + 0.0),
            "storage_charge_kw": (("storage", "time"), zeros[None, :]),
            "storage_discharge_kw": (("storage", "time"), zeros[None, :]),
            "storage_soc": (("storage", "time"), np.full((1, T), 0.5)),
            "storage_soc_kwh": (("storage", "time"), np.full((1, T), 5.0)),
            "ev_power_kw": (("ev_group", "time"), np.zeros((0, T))),
            "flex_power_kw": (("flex", "time"), np.arange(T, dtype=float)[None, :]),
            "emissions_kg": ("time", imp * 0.5 * dt_h),
            "peak_import_kw": ("month", np.asarray(peaks, float)),
        },
        coords={"time": time, "pv": ["roof"], "storage": ["bat"], "ev_group": [],
                "flex": ["dc"], "month": months},
        attrs={"scenario": "hand", "dt_h": dt_h},
    )


@pytest.fixture(scope="module")
def tiny_result() -> zp.Result:
    """Four hours with PV at noon and a cheap first hour: the battery charges, then serves."""
    sc, prof = tiny(4, {"load_kw": [10, 10, 10, 10], "price": [0.1, 1.0, 1.0, 1.0],
                        "pv_kw": [[0, 12, 0, 0]]},
                    storage=[battery(energy_kwh=10, power_kw=5)],
                    pv=[{"name": "roof", "capacity_kw": 12, "ac_limit_kw": 12}],
                    weather={"source": "clearsky",
                             "clearness": {"monthly_clearness": [0.5] * 12}})
    result = zp.run(sc, prof)
    assert result.ok
    return result


def test_pareto_mask_by_hand() -> None:
    x = [1, 2, 3, 4, 2, 4, np.nan]
    y = [5, 3, 4, 1, 6, 1, 0]
    # (3,4) is beaten by (2,3); (2,6) by (1,5); the two (4,1) tie and both stay; NaN never.
    assert plots.pareto_mask(x, y).tolist() == [True, True, False, True, False, True, False]


def test_day_hour_grid_places_each_step() -> None:
    time = pd.date_range("2025-01-01 06:00", periods=48, freq="h")
    grid, days = plots.day_hour_grid(time.values, np.arange(48.0), 1.0)
    assert grid.shape == (3, 24)
    assert [str(d) for d in days] == ["2025-01-01", "2025-01-02", "2025-01-03"]
    assert np.isnan(grid[0, :6]).all() and grid[0, 6] == 0 and grid[1, 0] == 18
    assert grid[2, 5] == 47 and np.isnan(grid[2, 6:]).all()
    quarter = pd.date_range("2025-01-01", periods=8, freq="15min")
    g15, _ = plots.day_hour_grid(quarter.values, np.ones(8), 0.25)
    assert g15.shape == (1, 96) and np.nansum(g15) == 8


def test_monthly_sums_split_at_month_end() -> None:
    ds = _dataset([1, 2, 3, 4])  # Jan 31 22:00, 23:00 | Feb 1 00:00, 01:00
    assert plots.monthly_sums(ds, ds.grid_import_kw.values).tolist() == [3.0, 7.0]
    half = _dataset([1, 2, 3, 4], dt_h=0.5, start="2025-01-31 23:00")
    assert plots.monthly_sums(half, half.grid_import_kw.values).tolist() == [1.5, 3.5]


def test_monthly_energy_balance_bars_are_monthly_energy() -> None:
    ds = _dataset([1000, 2000, 3000, 4000])
    fig = plots.monthly_energy_balance(ds)
    ax = fig.axes[0]
    imports = [p.get_height() for p in ax.patches if p.get_label() == "grid import"
               or p.get_facecolor()[:3] == pytest.approx((140 / 255,) * 3)]
    assert imports[:2] == pytest.approx([3.0, 7.0])  # MWh
    share = fig.axes[1].lines[0].get_ydata()
    assert list(share) == [0.0, 0.0]  # no PV or green supply
    plots.figure_bytes(fig)


def test_duration_curve_marks_peaks_at_hours_at_or_above() -> None:
    ds = _dataset([5, 1, 4, 2], peaks=[5.0, 4.0])
    fig = plots.import_duration_curve(ds)
    marks = fig.axes[0].collections[0].get_offsets()
    # sorted import 5, 4, 2, 1 kW: 5 is reached 1 h, 4 for 2 h
    assert np.asarray(marks).tolist() == [[1.0, 0.005], [2.0, 0.004]]
    carried = plots.import_duration_curve(_dataset([5, 1, 4, 2], peaks=[9.0, 4.0]))
    assert np.asarray(carried.axes[0].collections[0].get_offsets())[0].tolist() == [0.0, 0.009]
    plots.figure_bytes(fig)
    plots.figure_bytes(carried)


def test_schedule_heatmap_cells_hold_the_schedule() -> None:
    ds = _dataset(list(range(1, 25)), start="2025-03-01 00:00")
    fig = plots.schedule_heatmaps(ds)
    storage_img, flex_img = (ax.images[0] for ax in fig.axes if ax.images)
    assert np.asarray(storage_img.get_array()).tolist() == [[0.0] * 24]
    assert np.asarray(flex_img.get_array())[0].tolist() == pytest.approx(np.arange(24) / 1e3)
    plots.figure_bytes(fig)


def test_dispatch_stack_of_a_solved_result(tiny_result: zp.Result) -> None:
    ds = tiny_result.dataset
    fig = plots.dispatch_stack(ds)
    ax, soc_ax = fig.axes
    supply = (ds.pv_power_kw.sum("pv") + ds.grid_import_kw + ds.storage_discharge_kw.sum("storage")
              + ds.green_direct_kw)
    lo, hi = ax.get_ylim()
    assert hi >= float(supply.max()) / 1e3 and lo <= -10 / 1e3
    assert soc_ax.lines[0].get_ydata() == pytest.approx(ds.storage_soc.values[0] * 100)
    # zero flows (no green direct supply, no export, no EVs) get no legend entry
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["PV", "grid import", "storage discharge", "load", "flexible",
                      "storage charge", "SOC (mean)"] or "export" not in labels
    assert "export" not in labels and "green direct" not in labels and "SOC (mean)" in labels
    plots.figure_bytes(fig)


def test_dispatch_window_by_start_and_days() -> None:
    ds = _dataset(list(range(72)), start="2025-05-01")
    fig = plots.dispatch_stack(ds, start="2025-05-02 06:00", days=0.5)
    assert "2025-05-02 06:00 – 2025-05-02 17:00" in fig.axes[0].get_title()
    plots.figure_bytes(fig)
    with pytest.raises(ScenarioError, match="start"):
        plots.dispatch_stack(ds, start="2024-01-01")


def test_monthly_emissions_reconcile_with_the_indicator() -> None:
    ds = _dataset([1000, 2000, 3000, 4000])
    elec_t = 10 * 0.5 / 1e3
    consumption = 10_000.0
    kgce = 0.1229
    tce = kgce * consumption / 1e3 + 0.5  # 0.5 tce of fuels
    kpis = {"co2_t": elec_t + 0.3 - 0.001, "offsets_t": 0.001, "energy_tce": tce,
            "consumption_kwh": consumption,
            "zero_carbon_indicator": {"value": 0.2, "threshold": 0.25, "pass": True}}
    fig = plots.monthly_emissions(ds, kpis, cap_t=0.01)
    ax = fig.axes[0]
    net = next(line for line in ax.lines if line.get_label() == "net (indicator)")
    assert float(np.sum(net.get_ydata())) == pytest.approx(0.2 * tce)
    allowance = next(line for line in ax.lines if line.get_label().startswith("allowance"))
    assert float(np.sum(allowance.get_ydata()[:-1])) == pytest.approx(0.25 * tce)
    cap = next(line for line in ax.lines if "cap" in line.get_label())
    assert cap.get_ydata()[:-1].tolist() == pytest.approx([0.005, 0.005])
    assert "PASS" in ax.get_title()
    plots.figure_bytes(fig)


def test_kpi_line_and_surface_show_the_values() -> None:
    da = xr.DataArray([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], name="total_cost",
                      dims=("cap_t", "storage_kwh"),
                      coords={"cap_t": [100, 200], "storage_kwh": [0, 5e3, 1e4]},
                      attrs={"units": "CNY"})
    fig = plots.kpi_surface(da, x="storage_kwh", y="cap_t")
    img = fig.axes[0].images[0]
    assert np.asarray(img.get_array()).tolist() == da.values.tolist()
    assert sorted(t.get_text() for t in fig.axes[0].texts) == ["1", "2", "3", "4", "5", "6"]
    plots.figure_bytes(fig)
    line = plots.kpi_line(da, x="storage_kwh")
    ys = [ln.get_ydata().tolist() for ln in line.axes[0].lines]
    assert ys == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert line.axes[0].get_ylabel() == "total_cost [CNY]"
    plots.figure_bytes(line)
    with pytest.raises(ScenarioError):
        plots.kpi_surface(da.isel(cap_t=0))


def test_pareto_front_draws_only_non_dominated_points() -> None:
    fig = plots.pareto_front([1, 2, 3], [3, 1, 2], labels=["a", "b", "c"])
    front = fig.axes[0].lines[0]
    assert front.get_xdata().tolist() == [1, 2] and front.get_ydata().tolist() == [3, 1]
    plots.figure_bytes(fig)


def test_save_png_and_svg_atomically(tmp_path, tiny_result: zp.Result) -> None:
    plots.save_figure(plots.dispatch_stack(tiny_result.dataset), tmp_path / "d.png")
    plots.save_figure(plots.schedule_heatmaps(tiny_result.dataset), tmp_path / "h.svg")
    plots.save_dispatch_week(tiny_result.dataset, tmp_path / "week.png")
    assert (tmp_path / "d.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (tmp_path / "h.svg").read_bytes()[:500]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.png", "h.svg", "week.png"]
    with pytest.raises(ScenarioError, match="format"):
        plots.figure_bytes(plots.dispatch_stack(tiny_result.dataset), "jpg")


def test_report_figures_and_chinese_names_do_not_warn(tiny_result: zp.Result) -> None:
    ds = tiny_result.dataset.assign_attrs(scenario="苏州零碳园区")
    figures = plots.report_figures(ds, tiny_result.kpis)
    assert list(figures) == ["dispatch", "monthly_balance", "import_duration", "schedules",
                             "emissions", "costs"]
    for fig in figures.values():
        assert plots.figure_bytes(fig)[:4] == b"\x89PNG"


def test_cost_chart_bars_are_the_breakdown(tiny_result: zp.Result) -> None:
    k = {"currency": "CNY", "total_cost": 900.0,
         "cost_breakdown": {"energy": 1000.0, "export_revenue": 100.0, "penalties": 0.0}}
    fig = plots.cost_breakdown_chart(k)
    widths = [p.get_width() for p in fig.axes[0].patches]
    assert widths == pytest.approx([1.0, -0.1, 0.9])  # thousand CNY; zero rows left out
    plots.figure_bytes(fig)


def test_dispatch_legend_sits_outside_the_plot(tiny_result: zp.Result) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = plots.dispatch_stack(tiny_result.dataset)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    legend = fig.legends[0].get_window_extent(renderer)
    for ax in fig.axes:  # the stack and the SOC axis with its labels
        box = ax.get_tightbbox(renderer)
        assert legend.x0 >= box.x1 - 1 or not legend.overlaps(box)
    assert legend.x1 <= fig.bbox.x1 + 1 and legend.y0 >= fig.bbox.y0 - 1, "legend not cut off"
    assert "SOC (mean)" in [t.get_text() for t in fig.legends[0].get_texts()]


def test_busiest_week_starts_at_midnight() -> None:
    # 10 days from 13:00; import grows with time, so the busiest week is the last full week
    # that starts at 00:00 (day 3, 00:00), not the one starting at 13:00 + 3 days - 11 h.
    imp = list(np.arange(240.0))
    ds = _dataset(imp, start="2025-05-01 13:00")
    fig = plots.dispatch_stack(ds)
    assert "2025-05-04 00:00 – 2025-05-10 23:00" in fig.axes[0].get_title()


def test_percent_shares_add_up_to_100_by_hand() -> None:
    # thirds: 33.333… each; the largest remainders are equal, the first gets the extra 0.1
    assert plots.percent_shares([1, 1, 1], 3) == [33.4, 33.3, 33.3]
    # 66.66 + 26.64 + 6.70 = 100 → 66.7, 26.6, 6.7; a revenue of −1.2 % stays as it is
    assert plots.percent_shares([6666, 2664, 670, -120], 10000) == [66.7, 26.6, 6.7, -1.2]
    assert plots.percent_shares([1, 2], 0) == [0.0, 0.0]


def test_cost_chart_shows_small_penalties_and_shares_sum_to_100() -> None:
    k = {"currency": "CNY", "total_cost": 2970.3,
         "cost_breakdown": {"energy": 2000.0, "demand": 1000.0, "export_revenue": 30.0,
                            "penalties": 0.3, "dr_revenue": 0.0}}
    fig = plots.cost_breakdown_chart(k)
    ax = fig.axes[0]
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert names == ["energy", "demand", "export revenue", "penalties", "total"]
    shares = [float(t.get_text().split("(")[1].split(" %")[0]) for t in ax.texts]
    # gross 3000.3: energy 66.66 %, demand 33.33 %, penalties 0.01 % → 66.7 + 33.3 + 0.0 = 100
    costs = [sh for name, sh in zip(names, shares, strict=True)
             if name not in ("export revenue", "total")]
    assert sum(costs) == pytest.approx(100.0) and shares[2] == -1.0
    plots.figure_bytes(fig)

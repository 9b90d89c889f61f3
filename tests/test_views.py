"""The figure of a sizing run: monthly table worked out by hand on a two-month case, the figure's
panels, and ``zeropark size`` writing it as dispatch.png."""

from __future__ import annotations

import pytest

from zeropark.examples import tiny
from zeropark.planning.sizing import size
from zeropark.planning.views import monthly_table, save_sizing_overview, sizing_overview


def two_months():
    """48 h from 2025-07-31: load 100 kW at 1 CNY/kWh; PV 1 kW/kWp at 12:00 each day, ≤ 50 kWp.

    A kWp saves 2 CNY over the two days and costs (2800·CRF + 40)·48/8760 ≈ 1.42 CNY: the cap,
    50 kWp, is bought; it makes 50 kWh a day, one day in July and one in August.
    """
    pv = [[1.0 if h % 24 == 12 else 0.0 for h in range(48)]]
    return tiny(48, {"load_kw": [100.0] * 48, "price": 1.0, "pv_kw": pv,
                     "start": "2025-07-31"},
                time={"start": "2025-07-31", "steps": 48, "step": "1h"},
                pv=[{"name": "roof", "capacity_kw": 1.0, "max_capacity_kw": 50.0}],
                weather={"source": "clearsky", "clearness": {"preset": "yangtze-delta"}})


def test_monthly_table_and_overview_of_a_sizing_run(tmp_path) -> None:
    res = size(*two_months())
    assert res.kpis["sizing"]["sizes"]["pv.roof.capacity_kw"] == pytest.approx(50.0)
    t = monthly_table(res.dataset)
    assert list(t["month"]) == ["2025-07", "2025-08"]
    assert t["pv_mwh"].to_numpy() == pytest.approx([0.05, 0.05])
    assert t["grid_import_mwh"].to_numpy() == pytest.approx([2.35, 2.35])
    assert t["demand_mwh"].to_numpy() == pytest.approx([2.4, 2.4])
    assert t["peak_import_kw"].to_numpy() == pytest.approx([100.0, 100.0])
    fig = sizing_overview(res.dataset, res.kpis["sizing"])
    texts = [tx.get_text() for ax in fig.axes for tx in ax.texts]
    assert any("pv.roof.capacity_kw: 50 kWp" in x and "at its cap" in x for x in texts)
    titles = [ax.get_title() for ax in fig.axes]
    assert "monthly energy" in titles and "monthly peak (demand charge)" in titles
    assert any(x.startswith("busiest week") for x in titles)
    save_sizing_overview(res.dataset, res.kpis["sizing"], tmp_path / "dispatch.png")
    assert (tmp_path / "dispatch.png").stat().st_size > 1000

"""Messy CSV inputs: gaps, duplicates, daylight-saving wall clocks, mixed units, comma decimals.
Each is either a clear ScenarioError naming the field, row and timestamp, or repaired on request
by zeropark.reliability.csvrepair, which reports every change."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import zeropark as zp
from zeropark.errors import ScenarioError
from zeropark.examples import tiny_dict
from zeropark.profiles.build import build_profiles
from zeropark.profiles.csvio import read_series_csv
from zeropark.reliability.csvrepair import repair_series_csv

# hourly load data cannot show the billed 15-min demand: that warning is tested in test_billing.py
pytestmark = pytest.mark.filterwarnings("ignore:loads. load data no finer:UserWarning")

HOURS = [f"2025-07-01 {h:02d}:00" for h in range(24)]
LOAD = [100.0 + 10 * h for h in range(24)]


def _csv(path: Path, stamps: list[str], values: list, header: str = "time,load_kw",
         sep: str = ",") -> Path:
    path.write_text(header + "\n" + "\n".join(f"{t}{sep}{v}" for t, v in zip(stamps, values,
                                                                            strict=True)) + "\n",
                    encoding="utf-8")
    return path


def _scenario(folder: Path, **site: str) -> zp.Scenario:
    data = tiny_dict(24, loads={"source": "csv", "path": "load.csv"})
    data["site"].update(site)
    return zp.scenario_from_dict(data, base_dir=folder)


def _load_error(folder: Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        build_profiles(_scenario(folder))
    assert info.value.field == "loads.path"
    return info.value


def test_clean_file_loads(tmp_path: Path) -> None:
    _csv(tmp_path / "load.csv", HOURS, LOAD)
    assert build_profiles(_scenario(tmp_path)).load_kw == pytest.approx(LOAD)


def test_gap_names_the_first_uncovered_step(tmp_path: Path) -> None:
    _csv(tmp_path / "load.csv", HOURS[:5] + HOURS[6:], LOAD[:5] + LOAD[6:])
    err = _load_error(tmp_path)
    assert "expected 24, got 23" in str(err) and "first uncovered step 2025-07-01 05:00" in str(err)


def test_duplicate_names_the_row(tmp_path: Path) -> None:
    _csv(tmp_path / "load.csv", HOURS[:3] + HOURS[2:], LOAD[:3] + LOAD[2:])
    assert "row 4 (2025-07-01 02:00:00) repeats the timestamp of row 3" in str(
        _load_error(tmp_path))


def test_daylight_saving_wall_clock_is_refused(tmp_path: Path) -> None:
    # a Berlin meter export on the autumn change: 02:00 twice (summer, then winter time)
    stamps = [f"2025-10-26 {h:02d}:00" for h in (0, 1, 2, 2, 3, 4)]
    path = _csv(tmp_path / "meter.csv", stamps, [1, 2, 3, 4, 5, 6])
    time = pd.date_range("2025-10-26", periods=5, freq="h")
    with pytest.raises(ScenarioError, match="repeats the timestamp"):
        read_series_csv(path, time, field="loads.path", dt_h=1.0)
    # and in spring 02:00 does not exist
    stamps = [f"2025-03-30 {h:02d}:00" for h in (0, 1, 3, 4, 5)]
    path = _csv(tmp_path / "meter.csv", stamps, [1, 2, 3, 4, 5])
    with pytest.raises(ScenarioError, match="2025-03-30 02:00:00 has no matching CSV row"):
        read_series_csv(path, pd.date_range("2025-03-30", periods=5, freq="h"),
                        field="loads.path", dt_h=1.0)


@pytest.mark.parametrize(("values", "shown"), [
    (['"1,5"'] + LOAD[1:], "'1,5'"),  # comma decimal
    (["1.2 MW"] + LOAD[1:], "'1.2 MW'"),  # unit in the cell
    (['"1,234.5"'] + LOAD[1:], "'1,234.5'"),  # thousands separator
    (["n/a"] + LOAD[1:], "is empty or NaN"),
])
def test_unreadable_numbers_name_row_and_value(tmp_path: Path, values: list, shown: str) -> None:
    _csv(tmp_path / "load.csv", HOURS, values)
    err = _load_error(tmp_path)
    assert "row 1 (2025-07-01 00:00:00)" in str(err) and shown in str(err)


def test_semicolon_file_is_refused(tmp_path: Path) -> None:
    _csv(tmp_path / "load.csv", HOURS, [f"{v:.1f}".replace(".", ",") for v in LOAD],
         header="time;load_kw", sep=";")
    assert "well-formed CSV" in str(_load_error(tmp_path))


def test_megawatt_header_is_not_read_as_kilowatt(tmp_path: Path) -> None:
    _csv(tmp_path / "load.csv", HOURS, [v / 1000 for v in LOAD], header="time,load_mw")
    with pytest.raises(ScenarioError):
        build_profiles(_scenario(tmp_path))


def test_absurd_magnitude_is_refused_at_read(tmp_path: Path) -> None:
    _csv(tmp_path / "load.csv", HOURS, ["1e21"] + LOAD[1:])
    with pytest.raises(ScenarioError):
        build_profiles(_scenario(tmp_path))


def test_absurd_magnitude_is_named_before_the_solve(tmp_path: Path) -> None:
    _csv(tmp_path / "load.csv", HOURS, ["1e21"] + LOAD[1:])
    with pytest.raises(ScenarioError, match=r"1e\+21 in row 1 .*magnitude at most 1e\+09"):
        zp.run(_scenario(tmp_path))


# -- documented repair -----------------------------------------------------------------------------
def test_repair_semicolon_comma_decimals_and_megawatts(tmp_path: Path) -> None:
    src = _csv(tmp_path / "raw.csv", HOURS, [f"{v / 1000:.3f}".replace(".", ",") for v in LOAD],
               header="time;load (MW)", sep=";")
    rep = repair_series_csv(src, tmp_path / "load.csv")
    assert rep.actions == ["delimiter ';' replaced by ','", "header unit MW converted to kW (× 1000)",
                           "decimal commas rewritten as points"]
    assert build_profiles(_scenario(tmp_path)).load_kw == pytest.approx(LOAD)


def test_repair_units_in_cells(tmp_path: Path) -> None:
    values = [f"{v / 1000} MW" if i % 2 else f"{v} kW" for i, v in enumerate(LOAD)]
    rep = repair_series_csv(_csv(tmp_path / "raw.csv", HOURS, values, header="time,load"),
                            tmp_path / "load.csv")
    assert rep.actions == ["units in cells converted to kW (kw, mw)"]
    assert build_profiles(_scenario(tmp_path)).load_kw == pytest.approx(LOAD)


def test_repair_daylight_saving_to_standard_time(tmp_path: Path) -> None:
    # Berlin, autumn: wall clock 00 01 02 02 03 04 → standard (CET) 23 00 01 02 03 04
    stamps = [f"2025-10-26 {h:02d}:00" for h in (0, 1, 2, 2, 3, 4)]
    rep = repair_series_csv(_csv(tmp_path / "raw.csv", stamps, [1, 2, 3, 4, 5, 6]),
                            tmp_path / "clean.csv", timezone="Europe/Berlin")
    assert rep.actions == ["3 daylight-saving times of Europe/Berlin converted to local "
                           "standard time"]
    time = pd.date_range("2025-10-25 23:00", periods=6, freq="h")
    values = read_series_csv(tmp_path / "clean.csv", time, field="loads.path", dt_h=1.0)
    assert values == pytest.approx([1, 2, 3, 4, 5, 6])
    # spring: 00 01 03 04 (02:00 skipped) → 00 01 02 03
    stamps = [f"2025-03-30 {h:02d}:00" for h in (0, 1, 3, 4)]
    repair_series_csv(_csv(tmp_path / "raw.csv", stamps, [1, 2, 3, 4]), tmp_path / "clean.csv",
                      timezone="Europe/Berlin")
    values = read_series_csv(tmp_path / "clean.csv", pd.date_range("2025-03-30", periods=4,
                                                                   freq="h"),
                             field="loads.path", dt_h=1.0)
    assert values == pytest.approx([1, 2, 3, 4])


def test_repair_duplicates_order_midnight_and_gaps(tmp_path: Path) -> None:
    stamps = ["2025-06-30 24:00", "2025-07-01 02:00", "2025-07-01 01:00", "2025-07-01 01:00",
              "2025-07-01 05:00", "2025-07-01 06:00"]
    rep = repair_series_csv(_csv(tmp_path / "raw.csv", stamps, [0, 20, 10, 10, 50, 60]),
                            tmp_path / "clean.csv", fill_gaps_max_steps=2)
    assert rep.actions == ["1 '24:00' times read as 00:00 of the next day",
                           "rows sorted by time", "1 identical duplicate rows dropped",
                           "2 missing steps filled (linear)"]
    values = read_series_csv(tmp_path / "clean.csv", pd.date_range("2025-07-01", periods=7,
                                                                   freq="h"),
                             field="loads.path", dt_h=1.0)
    assert values == pytest.approx([0, 10, 20, 30, 40, 50, 60])
    assert (rep.rows_in, rep.rows_out) == (6, 7)


def test_repair_refuses_what_it_cannot_decide(tmp_path: Path) -> None:
    stamps = HOURS[:3] + HOURS[2:]
    with pytest.raises(ScenarioError, match="appears with different values"):
        repair_series_csv(_csv(tmp_path / "raw.csv", stamps, LOAD[:3] + [999] + LOAD[3:]),
                          tmp_path / "clean.csv")
    with pytest.raises(ScenarioError, match="3 missing steps after .*daylight-saving"):
        repair_series_csv(_csv(tmp_path / "raw.csv", HOURS[:5] + HOURS[8:], LOAD[:5] + LOAD[8:]),
                          tmp_path / "clean.csv", fill_gaps_max_steps=1)
    with pytest.raises(ScenarioError, match="row 2: 'abc'"):
        repair_series_csv(_csv(tmp_path / "raw.csv", HOURS, [1, "abc"] + LOAD[2:]),
                          tmp_path / "clean.csv")
    assert not (tmp_path / "clean.csv").exists()


def test_clean_file_is_left_as_it_is(tmp_path: Path) -> None:
    rep = repair_series_csv(_csv(tmp_path / "raw.csv", HOURS, LOAD), tmp_path / "load.csv")
    assert rep.actions == [] and rep.rows_out == 24
    assert np.allclose(build_profiles(_scenario(tmp_path)).load_kw, LOAD)


def test_repair_csv_command(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from zeropark.reliability.commands import repair_csv

    src = _csv(tmp_path / "raw.csv", HOURS, [f"{v / 1000} MW" for v in LOAD], header="time,load")
    res = CliRunner().invoke(repair_csv, [str(src), str(tmp_path / "load.csv")])
    assert res.exit_code == 0
    assert "units in cells converted to kW (mw)" in res.output
    assert build_profiles(_scenario(tmp_path)).load_kw == pytest.approx(LOAD)
    res = CliRunner().invoke(repair_csv, [str(src), str(tmp_path / "x.csv"), "--timezone", "Mars"])
    assert res.exit_code == 2 and "timezone: got 'Mars'" in res.output


def test_repair_empty_and_na_cells_are_missing_steps(tmp_path: Path) -> None:
    # pandas 3 keeps NaN through astype(str): an empty cell used to crash with a TypeError
    values = LOAD[:3] + ["", "n/a"] + LOAD[5:]
    src = _csv(tmp_path / "raw.csv", HOURS, values)
    with pytest.raises(ScenarioError, match=r"2 missing steps after 2025-07-01 02:00:00 \(empty or "
                                            r"'n/a' cells\)"):
        repair_series_csv(src, tmp_path / "load.csv")
    rep = repair_series_csv(src, tmp_path / "load.csv", fill_gaps_max_steps=2)
    assert rep.actions == ["2 empty or 'n/a' cells read as missing steps",
                           "2 missing steps filled (linear)"]
    # LOAD is linear in the hour (100 + 10 h), so linear filling gives back 130 and 140 exactly
    assert build_profiles(_scenario(tmp_path)).load_kw == pytest.approx(LOAD)
    assert (rep.rows_in, rep.rows_out) == (24, 24)
    # a missing last value cannot be filled
    with pytest.raises(ScenarioError, match="no value at 2025-07-01 23:00:00"):
        repair_series_csv(_csv(tmp_path / "raw.csv", HOURS, LOAD[:23] + ["NaN"]),
                          tmp_path / "x.csv", fill_gaps_max_steps=5)
    # ';' file with empty cells: decimal-comma detection still works on the numbers
    semi = _csv(tmp_path / "raw.csv", HOURS, [f"{v:.1f}".replace(".", ",") for v in LOAD[:4]] + [""]
                + [f"{v:.1f}".replace(".", ",") for v in LOAD[5:]], sep=";", header="time;load_kw")
    rep = repair_series_csv(semi, tmp_path / "load.csv", fill_gaps_max_steps=1)
    assert "decimal commas rewritten as points" in rep.actions
    assert build_profiles(_scenario(tmp_path)).load_kw == pytest.approx(LOAD)


def test_repair_command_empty_cell_and_decimal_hint(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from zeropark.reliability.commands import repair_csv

    src = _csv(tmp_path / "raw.csv", HOURS, LOAD[:5] + [""] + LOAD[6:])
    res = CliRunner().invoke(repair_csv, [str(src), str(tmp_path / "load.csv"), "--fill-gaps", "1"])
    assert res.exit_code == 0, res.output
    assert "1 missing steps filled (linear)" in res.output and "internal error" not in res.output
    # thousands and decimal commas mixed: ',' cannot be detected, the error suggests --decimal
    mixed = ["1.234,5", "1,5"] + [f"{v:.0f}" for v in LOAD[2:]]
    src = _csv(tmp_path / "raw.csv", HOURS, mixed, sep=";", header="time;load_kw")
    res = CliRunner().invoke(repair_csv, [str(src), str(tmp_path / "x.csv")])
    assert res.exit_code == 2 and "pass --decimal ','" in res.output
    res = CliRunner().invoke(repair_csv, [str(src), str(tmp_path / "x.csv"), "--decimal", ","])
    assert res.exit_code == 0, res.output


# -- classes: non-finite and absurd cells in every kind of CSV a scenario or the ledger reads ---
_BAD_CELLS = ["nan", "inf", "-inf", "1e15", "-1e15", "1e400"]
_CSV_FIELDS = {  # field -> (scenario sections, header)
    "loads.path": ({"loads": {"source": "csv", "path": "s.csv"}}, "time,load_kw"),
    "grid.price_file.path": ({"grid": {"import_limit_kw": 1e3, "tariff": None,
                                       "price_file": {"path": "s.csv"}}}, "time,price"),
    "grid.emission_factor_file.path": ({"grid": {"import_limit_kw": 1e3, "emission_factor": None,
                                                 "emission_factor_file": {"path": "s.csv"}}},
                                       "time,ef"),
    "pv.0.profile.path": ({"pv": [{"name": "roof", "capacity_kw": 10,
                                   "profile": {"path": "s.csv"}}]}, "time,pv_kw"),
}


@pytest.mark.parametrize("cell", _BAD_CELLS)
@pytest.mark.parametrize("field", list(_CSV_FIELDS))
def test_non_finite_and_absurd_cells_are_refused_in_every_series(tmp_path: Path, field: str,
                                                                 cell: str) -> None:
    sections, header = _CSV_FIELDS[field]
    _csv(tmp_path / "s.csv", HOURS, [cell, *LOAD[1:]], header=header)
    with pytest.raises(ScenarioError) as info:
        build_profiles(zp.scenario_from_dict(tiny_dict(24, **sections), base_dir=tmp_path))
    assert info.value.field == field and "row 1" in str(info.value), info.value
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("cell", _BAD_CELLS)
def test_non_finite_and_absurd_actuals_are_refused(tmp_path: Path, cell: str) -> None:
    from zeropark.operations.ledger import read_actuals

    _csv(tmp_path / "a.csv", HOURS[:4], [cell, 5, 5, 5], header="time,grid_import_kw")
    with pytest.raises(ScenarioError) as info:
        read_actuals(tmp_path / "a.csv")
    assert info.value.field == "actuals.grid_import_kw" and "row 1" in str(info.value)

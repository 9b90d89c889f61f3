"""Scenario schema: loading, round trips, variants and every kind of bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from pydantic import ValidationError

from zeropark import ScenarioError, load_scenario, scenario_from_dict
from zeropark.cli import main
from zeropark.examples import tiny_dict
from zeropark.profiles.build import build_profiles

ROOT = Path(__file__).resolve().parents[1]
PARKS = sorted((ROOT / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", PARKS, ids=lambda p: p.stem)
def test_bundled_parks_load_and_round_trip(path: Path) -> None:
    sc = load_scenario(path)
    again = scenario_from_dict(sc.to_dict(), base_dir=path.parent)
    assert again.to_dict() == sc.to_dict()
    assert again.content_hash() == sc.content_hash()
    assert len(sc.time_index()) == 8760
    assert sc.sources, "every bundled scenario says where its numbers come from"


def test_replace_derives_a_validated_variant() -> None:
    sc = load_scenario(ROOT / "scenarios/demo-park.yaml")
    big = sc.replace({"storage.0.energy_kwh": 20000})
    assert big.storage[0].energy_kwh == 20000
    assert sc.storage[0].energy_kwh == 10000
    assert big.content_hash() != sc.content_hash()
    # technology defaults are re-resolved, not frozen into the variant
    assert big.storage[0].charge_efficiency == sc.storage[0].charge_efficiency
    with pytest.raises(ScenarioError, match=r"storage\.0\.energy_kwh.*-5"):
        sc.replace({"storage.0.energy_kwh": -5})
    with pytest.raises(ScenarioError, match=r"storage\.3"):
        sc.replace({"storage.3.energy_kwh": 5})


def _bad(change: dict, match: str) -> None:
    data = tiny_dict(24)
    for key, value in change.items():
        node = data
        parts = key.split(".")
        for p in parts[:-1]:
            node = node[int(p)] if isinstance(node, list) else node.setdefault(p, {})
        if value is _DELETE:
            del node[parts[-1]]
        else:
            node[parts[-1]] = value
    with pytest.raises(ScenarioError, match=match):
        scenario_from_dict(data)


_DELETE = object()
_STORE = [{"name": "b", "energy_kwh": 10, "power_kw": 5}]


@pytest.mark.parametrize(("change", "match"), [
    ({"grid": _DELETE}, r"^grid: got .*this field is required"),
    ({"grid.import_limit_kw": -1}, r"^grid\.import_limit_kw: got -1; .*greater than 0"),
    ({"grid.tariff": "atlantis-2025"}, r"^grid\.tariff: got 'atlantis-2025'; one of: .*jiangsu-2025"),
    ({"grid.emission_factor": "mars"}, r"^grid\.emission_factor: got 'mars'"),
    ({"site.timezone": "Mars/Olympus"}, r"^site\.timezone: got 'Mars/Olympus'; an IANA"),
    ({"site.latitude": 123}, r"^site\.latitude: got 123"),
    ({"time.step": "7min"}, r"^time\.step: got '7min'"),
    ({"time.start": "not a date"}, r"^time\.start: got 'not a date'"),
    ({"time.end": "2025-07-02"}, r"time: .*exactly one of 'end' or 'steps'"),
    ({"storage": [{**_STORE[0], "soc_min": 0.8, "soc_max": 0.2}]},
     r"^storage\.0\.soc_min: got 0\.8; at most soc_max"),
    ({"storage": [{**_STORE[0], "soc_initial": 0.01, "technology": "lfp-2h"}]},
     r"^storage\.0\.soc_initial: got 0\.01"),
    ({"storage": [{**_STORE[0], "technology": "nickel-9h"}]}, r"^storage\.0\.technology"),
    ({"storage": [_STORE[0], _STORE[0]]}, r"names must be unique"),
    ({"grid.import_limt_kw": 5}, r"^grid\.import_limt_kw: .*unknown field"),
    ({"pv": [{"name": "a", "capacity_kw": 10}]}, r"need a 'weather' block"),
    ({"ev": {"groups": [{"name": "g", "count": 2}]}}, r"^ev\.groups\.0\.power_kw: got None"),
    ({"flexible_loads": [{"name": "f", "min_power_kw": 5, "max_power_kw": 2,
                          "energy_per_window_kwh": 10}]}, r"^flexible_loads\.0: .*min_power_kw"),
    ({"library": ["no-such-folder"]}, r"^library\.0: got 'no-such-folder'"),
])
def test_bad_input_names_field_value_and_allowed(change: dict, match: str) -> None:
    _bad(change, match)


def test_scenario_top_level_must_be_mapping(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text("- just\n- a list\n")
    with pytest.raises(ScenarioError, match=r"^\(scenario\): got 'list'"):
        load_scenario(p)
    p.write_text("name: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(ScenarioError, match=r"s\.yaml:1:7: could not determine a constructor"):
        load_scenario(p)
    with pytest.raises(ScenarioError, match="an existing YAML file"):
        load_scenario(tmp_path / "missing.yaml")


def _write(tmp_path: Path, data: dict) -> Path:
    p = tmp_path / "park.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


@pytest.mark.filterwarnings("ignore:loads. load data no finer:UserWarning")  # see test_billing
def test_csv_load_errors_name_the_field(tmp_path: Path) -> None:
    data = tiny_dict(24, loads={"source": "csv", "path": "load.csv"})
    p = _write(tmp_path, data)
    with pytest.raises(ScenarioError, match=r"^loads\.path: got 'load\.csv'; an existing file"):
        build_profiles(load_scenario(p))
    times = [f"2025-07-01 {h:02d}:00" for h in range(24)]
    (tmp_path / "load.csv").write_text("time,load_kw\n" + "\n".join(f"{t},5" for t in times[:20]))
    with pytest.raises(ScenarioError, match=r"^loads\.path"):
        build_profiles(load_scenario(p))
    rows = [f"{t},{'nan' if i == 3 else 5}" for i, t in enumerate(times)]
    (tmp_path / "load.csv").write_text("time,load_kw\n" + "\n".join(rows))
    with pytest.raises(ScenarioError, match=r"^loads\.path.*(NaN|nan|missing)"):
        build_profiles(load_scenario(p))
    swapped = times[:]
    swapped[4], swapped[5] = swapped[5], swapped[4]
    (tmp_path / "load.csv").write_text("time,load_kw\n" + "\n".join(f"{t},5" for t in swapped))
    with pytest.raises(ScenarioError, match=r"^loads\.path"):
        build_profiles(load_scenario(p))
    (tmp_path / "load.csv").write_text("time,load_kw\n" + "\n".join(f"{t},5" for t in times))
    prof = build_profiles(load_scenario(p))
    assert np.allclose(prof.load_kw, 5.0)


def test_paths_may_not_escape_the_scenario_folder(tmp_path: Path) -> None:
    inner = tmp_path / "inner"
    inner.mkdir()
    (tmp_path / "secret.csv").write_text("time,x\n")
    data = tiny_dict(24, loads={"source": "csv", "path": "../secret.csv"})
    p = inner / "park.yaml"
    p.write_text(yaml.safe_dump(data))
    with pytest.raises(ScenarioError, match=r"^loads\.path: .*inside the scenario's folder"):
        build_profiles(load_scenario(p))


def test_leap_year_and_quarter_hour_steps() -> None:
    leap = scenario_from_dict(tiny_dict(1, time={"start": "2024-01-01", "end": "2025-01-01"}))
    assert len(leap.time_index()) == 8784
    q = scenario_from_dict(tiny_dict(1, time={"start": "2025-03-01", "end": "2025-03-02",
                                              "step": "15min"}))
    assert len(q.time_index()) == 96 and q.dt_h == 0.25
    prof = build_profiles(q)
    assert prof.load_kw.shape == (96,)
    with pytest.raises(ScenarioError, match=r"^time\.end: .*whole number of steps"):
        scenario_from_dict(tiny_dict(1, time={"start": "2025-03-01", "end": "2025-03-01 00:10",
                                              "step": "15min"}))


def test_library_override_folder_replaces_entry_by_key(tmp_path: Path) -> None:
    lib = tmp_path / "mylib"
    lib.mkdir()
    (lib / "emission_factors.yaml").write_text(
        "jiangsu-2022:\n  value_kg_per_kwh: 0.1\n  scope: test override\n"
        "  source: unit test\n  year: 2025\n")
    data = tiny_dict(24, library=["mylib"])
    data["grid"]["emission_factor"] = "jiangsu-2022"
    sc = load_scenario(_write(tmp_path, data))
    assert np.allclose(build_profiles(sc).ef_kg_per_kwh, 0.1)


def test_cli_validate_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(main, ["validate", str(ROOT / "scenarios/demo-park.yaml")])
    assert ok.exit_code == 0, ok.output
    assert "ok: demo-park — 8760 steps" in ok.output
    shutil.copy(ROOT / "scenarios/demo-park.yaml", tmp_path / "bad.yaml")
    text = (tmp_path / "bad.yaml").read_text().replace("energy_kwh: 10000", "energy_kwh: -10")
    (tmp_path / "bad.yaml").write_text(text)
    bad = runner.invoke(main, ["validate", str(tmp_path / "bad.yaml")])
    assert bad.exit_code == 2
    assert "storage.0.energy_kwh: got -10" in bad.output
    assert "Traceback" not in bad.output


def test_validated_scenario_is_frozen_and_its_defaults_are_numbers() -> None:
    data = tiny_dict(24)
    data["storage"] = [{"name": "a", "energy_kwh": 10, "power_kw": 5, "technology": "lfp-4h"},
                       {"name": "b", "energy_kwh": 10, "power_kw": 5, "soc_max": 0.9}]
    data["ev"] = {"groups": [{"name": "g", "count": 2, "technology": "dc-60kw", "v2g": True},
                             {"name": "h", "count": 1, "power_kw": 7, "efficiency": None}]}
    sc = scenario_from_dict(data)
    tech, fallback = sc.storage
    # lfp-4h in models/technologies.yaml: 0.94 each way, 5–95 %, 0.0001 /h, 0.09 CNY/kWh
    assert (tech.charge_efficiency, tech.soc_min, tech.soc_max) == (0.94, 0.05, 0.95)
    assert (tech.self_discharge_per_h, tech.throughput_cost_per_kwh) == (0.0001, 0.09)
    # no technology: the labelled fallback, except the value the file gives
    assert (fallback.discharge_efficiency, fallback.soc_min, fallback.soc_max) == (0.94, 0.05, 0.9)
    assert fallback.throughput_cost_per_kwh == 0.0
    piles, own = sc.ev.groups
    assert (piles.power_kw, piles.efficiency, piles.v2g_efficiency) == (60.0, 0.95, 0.95)
    assert piles.v2g_wear_cost_per_kwh == 0.35  # ev-v2g entry
    assert (own.power_kw, own.efficiency) == (7.0, 0.95)  # explicit null takes the default
    for value in (tech.soc_min, fallback.self_discharge_per_h, own.v2g_wear_cost_per_kwh):
        assert type(value) is float
    with pytest.raises(ValidationError, match="frozen"):
        sc.storage[0].soc_min = 0.2  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        sc.grid.import_limit_kw = 1.0  # type: ignore[misc]


def test_replace_resolves_the_new_technology() -> None:
    data = tiny_dict(24)
    data["storage"] = [{"name": "a", "energy_kwh": 10, "power_kw": 5}]
    sc = scenario_from_dict(data)
    assert sc.storage[0].throughput_cost_per_kwh == 0.0
    assert sc.replace({"storage.0.technology": "lfp-4h"}).storage[0].throughput_cost_per_kwh == 0.09
    with pytest.raises(ScenarioError, match=r"^storage\.0\.technology: got 'lfp-9h'; one of: "):
        sc.replace({"storage.0.technology": "lfp-9h"})

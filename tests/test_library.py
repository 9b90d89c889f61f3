"""Tests of the model library loader and of the bundled library's contents."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import zeropark
from zeropark import library as library_module
from zeropark.entries import Tariff
from zeropark.errors import ScenarioError
from zeropark.library import Library, bundled_library_dir

REPO_MODELS = Path(__file__).resolve().parents[1] / "models"
BRIEF_KEYS = {
    "tariffs": [
        "jiangsu-2025", "zhejiang-2024", "guangdong-2021", "shanghai-two-part",
        "inner-mongolia-west-2023",
    ],
    "emission_factors": [
        "cn-national-2021", "cn-national-2022", "cn-national-2022-excl-market-nonfossil",
        "cn-national-2022-fossil", "cn-national-2023", "cn-national-2023-excl-market-nonfossil",
        "cn-national-2023-fossil", "cn-north-2023", "cn-northeast-2023", "cn-east-2023",
        "cn-central-2023", "cn-northwest-2023", "jiangsu-2022", "zhejiang-2022",
        "guangdong-2022", "shanghai-2022", "inner-mongolia-2022", "cn-ets-reporting-2022",
    ],
    "technologies": [
        "lfp-2h", "lfp-4h", "pv-rooftop", "pv-ground", "ac-7kw", "dc-60kw", "dc-120kw",
        "electrolyser", "data-centre",
    ],
    "indicators": [
        "zero-carbon-park-2025-small", "zero-carbon-park-2025-large", "hunan-park-2027",
        "hunan-park-2030", "hunan-park-2035", "electricity-equal-value", "natural-gas",
        "bituminous-coal",
    ],
}


@pytest.fixture(scope="module")
def lib() -> Library:
    return Library.load()


def _write(folder: Path, name: str, data: object) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _tariff(**changes: object) -> dict:
    entry = {
        "name": "test tariff",
        "source": "test",
        "year": 2025,
        "prices_per_kwh": {"peak": 1.0, "flat": 0.5, "valley": 0.2},
        "default_period": "flat",
        "periods": [{"months": list(range(1, 13)), "peak": [[8, 12]], "valley": [[0, 6]]}],
    }
    entry.update(changes)
    return entry


# --- bundled folder -------------------------------------------------------------------------


def test_bundled_dir_is_repo_models_in_checkout() -> None:
    folder = bundled_library_dir()
    assert folder.is_dir()
    assert Path(str(folder)).resolve() == REPO_MODELS.resolve()


def test_bundled_dir_prefers_installed_package_folder(tmp_path: Path, monkeypatch) -> None:
    # an installed wheel holds the library at zeropark/models (pyproject force-include)
    (tmp_path / "models").mkdir()
    monkeypatch.setattr(library_module.importlib.resources, "files", lambda name: tmp_path)
    assert Path(str(bundled_library_dir())) == tmp_path / "models"


def test_load_finds_the_bundled_kinds(lib: Library) -> None:
    assert set(BRIEF_KEYS) <= set(lib.kinds())
    for kind, keys in BRIEF_KEYS.items():
        assert set(keys) <= set(lib.keys(kind)), kind


def test_bundled_load_is_cached() -> None:
    assert library_module._load_bundled() is library_module._load_bundled()


@pytest.mark.parametrize("path", sorted(REPO_MODELS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_bundled_entry_has_source_and_year(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and data
    for key, entry in data.items():
        assert isinstance(entry, dict), key
        assert isinstance(entry.get("source"), str) and entry["source"].strip(), key
        assert isinstance(entry.get("year"), int) and 1900 <= entry["year"] <= 2100, key


# --- bundled values -------------------------------------------------------------------------


def test_emission_factors(lib: Library) -> None:
    def value(key: str) -> float:
        return lib.get("emission_factors", key, "f")["value_kg_per_kwh"]

    assert value("cn-national-2023") == 0.5306
    assert value("cn-national-2022") == 0.5366
    assert value("cn-national-2021") == 0.5568
    assert value("cn-ets-reporting-2022") == 0.5703
    assert value("jiangsu-2022") == 0.5978
    assert value("cn-north-2023") == 0.6361
    # excluding market-traded non-fossil power raises the factor; fossil-only is highest
    assert value("cn-national-2023") < value("cn-national-2023-excl-market-nonfossil")
    assert value("cn-national-2023-excl-market-nonfossil") < value("cn-national-2023-fossil")


def test_guangdong_prices_follow_the_notice_ratios(lib: Library) -> None:
    prices = lib.get("tariffs", "guangdong-2021", "t")["prices_per_kwh"]
    assert prices["peak"] / prices["flat"] == pytest.approx(1.7, abs=1e-3)
    assert prices["valley"] / prices["flat"] == pytest.approx(0.38, abs=1e-3)
    assert prices["critical"] / prices["peak"] == pytest.approx(1.25, abs=1e-3)


def test_every_tariff_covers_each_month_exactly_once(lib: Library) -> None:
    for key in lib.keys("tariffs"):
        months = [m for rule in lib.get("tariffs", key, "t")["periods"] for m in rule["months"]]
        assert sorted(months) == list(range(1, 13)), key


def test_unofficial_prices_are_labelled(lib: Library) -> None:
    for key in ("jiangsu-2025", "zhejiang-2024", "inner-mongolia-west-2023"):
        assert lib.get("tariffs", key, "t")["price_source"].startswith("labelled default")


def test_storage_defaults(lib: Library) -> None:
    for key, duration_h in (("lfp-2h", 2.0), ("lfp-4h", 4.0)):
        entry = lib.get("technologies", key, "t")
        round_trip = entry["charge_efficiency"] * entry["discharge_efficiency"]
        assert round_trip == pytest.approx(0.88, abs=0.01)
        assert entry["round_trip_efficiency_observed"]["conversion"] == 0.81
        assert 0 <= entry["soc_min"] < entry["soc_max"] <= 1
        assert entry["duration_h"] == duration_h


def test_indicator_thresholds(lib: Library) -> None:
    small = lib.get("indicators", "zero-carbon-park-2025-small", "i")
    large = lib.get("indicators", "zero-carbon-park-2025-large", "i")
    assert small["carbon_intensity_t_per_tce_max"] == 0.2
    assert large["carbon_intensity_t_per_tce_max"] == 0.3
    assert small["energy_use_tce_per_year_max"] == large["energy_use_tce_per_year_min"] == 1e6
    assert small["clean_energy_share_min"] == 0.9
    assert lib.get("indicators", "electricity-equal-value", "i")["kgce_per_kwh"] == 0.1229
    gas = lib.get("indicators", "natural-gas", "i")
    assert (gas["kgce_per_m3"], gas["tco2_per_1000m3"]) == (1.2143, 2.162)


# --- access -----------------------------------------------------------------------------------


def test_get_returns_a_deep_copy(lib: Library) -> None:
    entry = lib.get("tariffs", "jiangsu-2025", "grid.tariff")
    entry["prices_per_kwh"]["peak"] = 99.0
    entry["periods"][0]["months"].clear()
    again = lib.get("tariffs", "jiangsu-2025", "grid.tariff")
    assert again["prices_per_kwh"]["peak"] != 99.0
    assert again["periods"][0]["months"] == [1, 2, 6, 7, 8, 12]


def test_unknown_key_names_field_and_lists_known_keys(lib: Library) -> None:
    with pytest.raises(ScenarioError, match=r"grid\.tariff: got 'jiangsu-2030'") as info:
        lib.get("tariffs", "jiangsu-2030", "grid.tariff")
    assert info.value.field == "grid.tariff"
    assert info.value.allowed == "one of: " + ", ".join(sorted(lib.keys("tariffs")))
    assert "jiangsu-2025" in str(info.value)


def test_unknown_kind(lib: Library) -> None:
    with pytest.raises(ScenarioError, match="no library kind 'tarifs'.*tariffs") as info:
        lib.get("tarifs", "jiangsu-2025", "grid.tariff")
    assert info.value.field == "grid.tariff"
    with pytest.raises(ScenarioError, match="library kind"):
        lib.keys("tarifs")


# --- overrides --------------------------------------------------------------------------------


def test_override_replaces_whole_entry_by_key(tmp_path: Path) -> None:
    override = _tariff(prices_per_kwh={"peak": 2.0, "flat": 1.0, "valley": 0.1})
    path = _write(tmp_path, "tariffs.yaml", {"jiangsu-2025": override})
    lib = Library.load([tmp_path])
    entry = lib.get("tariffs", "jiangsu-2025", "grid.tariff")
    assert entry["prices_per_kwh"]["peak"] == 2.0
    # whole-entry override: fields only the bundled entry had are gone
    assert "demand_charge_per_kw_month" not in entry
    assert lib.origin("tariffs", "jiangsu-2025") == str(path)
    # other keys of the kind are untouched, and the cached bundled library is not modified
    assert "zhejiang-2024" in lib.keys("tariffs")
    assert Library.load().get("tariffs", "jiangsu-2025", "t")["prices_per_kwh"]["peak"] != 2.0


def test_later_dirs_override_earlier_and_add_kinds(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    _write(first, "emission_factors.yaml", {"my-grid": {"value_kg_per_kwh": 0.7, "source": "a",
                                                        "year": 2024}})
    _write(second, "emission_factors.yaml", {"my-grid": {"value_kg_per_kwh": 0.6, "source": "b",
                                                         "year": 2025}})
    _write(second, "site_data.yaml", {"roof": {"area_m2": 5000, "source": "survey", "year": 2025}})
    lib = Library.load([str(first), second])
    assert lib.get("emission_factors", "my-grid", "f")["value_kg_per_kwh"] == 0.6
    assert lib.get("site_data", "roof", "f")["area_m2"] == 5000
    assert "site_data" in lib.kinds()


def test_missing_override_dir_names_library(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="^library: ") as info:
        Library.load([tmp_path / "nope"])
    assert info.value.field == "library"


def test_malformed_yaml_names_file(tmp_path: Path) -> None:
    (tmp_path / "tariffs.yaml").write_text("a: [1, 2\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"tariffs\.yaml:2:1: expected ',' or ']'") as info:
        Library.load([tmp_path])
    assert info.value.field.endswith("tariffs.yaml:2:1")  # file:line:column, one line
    assert "\n" not in str(info.value)


def test_top_level_must_be_mapping(tmp_path: Path) -> None:
    _write(tmp_path, "tariffs.yaml", [1, 2])
    with pytest.raises(ScenarioError, match="mapping of key -> entry"):
        Library.load([tmp_path])


@pytest.mark.parametrize(
    ("entry", "suffix"),
    [
        ({"year": 2025}, ".source"),
        ({"source": "  ", "year": 2025}, ".source"),
        ({"source": "x"}, ".year"),
        ({"source": "x", "year": "2025"}, ".year"),
        ({"source": "x", "year": True}, ".year"),
        ([1, 2], ""),
    ],
)
def test_malformed_entry_names_file_and_key(tmp_path: Path, entry: object, suffix: str) -> None:
    _write(tmp_path, "technologies.yaml", {"my-tech": entry})
    with pytest.raises(ScenarioError) as info:
        Library.load([tmp_path])
    assert info.value.field == f"{tmp_path / 'technologies.yaml'}:my-tech{suffix}"


def test_invalid_tariff_in_override_fails_on_load(tmp_path: Path) -> None:
    bad = _tariff(periods=[{"months": list(range(1, 12)), "peak": [[8, 12]]}])
    _write(tmp_path, "tariffs.yaml", {"my-tariff": bad})
    with pytest.raises(ScenarioError, match="not covered") as info:
        Library.load([tmp_path])
    assert info.value.field == f"{tmp_path / 'tariffs.yaml'}:my-tariff.periods"


def test_library_tariff_is_a_validated_model() -> None:
    tariff = Library.load().tariff("jiangsu-2025", "grid.tariff")
    assert isinstance(tariff, Tariff)
    # models/tariffs.yaml jiangsu-2025: peak 0.98, flat 0.62, valley 0.33; 40 CNY/kW-month
    assert tariff.prices_per_kwh == {"peak": 0.98, "flat": 0.62, "valley": 0.33}
    assert tariff.demand_charge_per_kw_month == 40.0
    assert tariff.periods[0].months == [1, 2, 6, 7, 8, 12]
    assert tariff.periods[0].windows() == {"peak": [(14.0, 22.0)], "valley": [(0.0, 6.0), (11.0, 13.0)]}
    with pytest.raises(ScenarioError, match=r"^grid\.tariff: got 'nowhere'; one of: "):
        Library.load().tariff("nowhere", "grid.tariff")


def test_overlap_error_names_the_period_of_the_rule(tmp_path: Path) -> None:
    bad = _tariff(periods=[{"months": list(range(1, 13)), "peak": [[8, 12]], "flat": [[11, 14]]}])
    _write(tmp_path, "tariffs.yaml", {"my-tariff": bad})
    with pytest.raises(ScenarioError, match="do not overlap peak .both cover 11 h") as info:
        Library.load([tmp_path])
    assert info.value.field == f"{tmp_path / 'tariffs.yaml'}:my-tariff.periods.0.flat"
    assert info.value.value == [[11.0, 14.0]]


def test_library_imports_no_profile_builders() -> None:
    # the library is data: it must not pull the profile builders (which import the scenario)
    code = ("import sys, zeropark.library; "
            "print(sorted(m for m in sys.modules if m.startswith('zeropark.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(Path(zeropark.__file__).parents[1])})
    loaded = ast.literal_eval(out.stdout)
    assert "zeropark.library" in loaded
    assert not [m for m in loaded if m.startswith(("zeropark.profiles", "zeropark.scenario"))]

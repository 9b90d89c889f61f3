"""Reference docs cannot drift: the scenario reference and the CLI reference are regenerated and
compared with the committed files, the result layout names every variable and KPI a run writes,
and the example of docs/extending.md runs and checks itself."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import BaseModel

import zeropark as zp
from zeropark.cli import main
from zeropark.docgen.cli_doc import cli_reference_markdown
from zeropark.docgen.schema_doc import scenario_reference_markdown, unit_of
from zeropark.examples import battery, tiny
from zeropark.scenario import Scenario

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_scenario_reference_is_up_to_date() -> None:
    committed = (DOCS / "scenario-reference.md").read_text(encoding="utf-8")
    assert committed == scenario_reference_markdown(), (
        "docs/scenario-reference.md is stale: run `zeropark docs scenario -o "
        "docs/scenario-reference.md`")


def test_cli_reference_is_up_to_date() -> None:
    committed = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert committed == cli_reference_markdown(), (
        "docs/cli.md is stale: run `zeropark docs cli -o docs/cli.md`")


def _models(model: type[BaseModel], seen: dict[str, type[BaseModel]]) -> None:
    """Every pydantic model reachable from ``model`` (walked on the classes, not the schema)."""
    seen[model.__name__] = model
    for field in model.model_fields.values():
        stack = [field.annotation]
        while stack:
            tp = stack.pop()
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                if tp.__name__ not in seen:
                    _models(tp, seen)
            else:
                stack += list(typing.get_args(tp))


def test_every_field_of_every_model_has_a_row() -> None:
    text = scenario_reference_markdown()
    sections = {m.group(1): m.group(2) for m in re.finditer(
        r"\n## (\w+)(?: \(top level\))?\n(.*?)(?=\n<a id=|\Z)", text, re.S)}
    models: dict[str, type[BaseModel]] = {}
    _models(Scenario, models)
    assert set(models) <= set(sections)
    for name, model in models.items():
        for field in model.model_fields:
            assert f"\n| `{field}` |" in sections[name], f"{name}.{field} missing"


def test_reference_rows_by_hand() -> None:
    text = scenario_reference_markdown()
    assert ("| `end_condition` | string | `\"at_least_initial\"` | one of `cyclic`, "
            "`at_least_initial`, `free` |  | Final SOC rule: cyclic = end equals start") in text
    assert "| `power_kw` | number | **required** | ≥ 0, ≤ 1e8 | kW | charge and discharge " \
           "limit (AC) |" in text
    assert ("| `monthly_clearness` | list of number | — | exactly 12 items | fraction | Mean "
            "clearness index") in text
    assert "Used at: `pv[].profile`, `loads` " not in text  # ProfileFile is not used by loads
    assert "Used at: `pv[].profile`, `grid.price_file`" in text
    assert ("[ShareTarget](#def-sharetarget)" in text
            and '<a id="def-sharetarget"></a>' in text)


@pytest.mark.parametrize(("field", "unit"), [
    ("power_kw", "kW"), ("energy_per_window_kwh", "kWh"), ("ramp_kw_per_h", "kW/h"),
    ("price_per_kwh", "currency/kWh"), ("demand_charge_per_kw_month", "currency/(kW·month)"),
    ("threshold_t_per_tce", "tCO2/tce"), ("value_t", "tCO2"), ("tilt_deg", "°"),
    ("time_limit_s", "s"), ("natural_gas_m3_per_year", "m³/year"), ("max_cycles_per_day", "1/day"),
    ("gamma_pdc_per_c", "1/°C"), ("name", ""),
])
def test_units_from_field_names(field: str, unit: str) -> None:
    assert unit_of(field) == unit


def test_dimensionless_units_only_for_numbers() -> None:
    assert unit_of("charge_efficiency", {"type": "number"}) == "fraction"
    assert unit_of("emission_factor", {"type": "string"}) == ""
    assert unit_of("weekend_factor", {"type": "number"}) == "multiplier"


def test_docs_commands_print_and_write(tmp_path: Path) -> None:
    runner = CliRunner()
    printed = runner.invoke(main, ["docs", "scenario"])
    assert printed.exit_code == 0 and printed.output == scenario_reference_markdown()
    out = tmp_path / "cli.md"
    written = runner.invoke(main, ["docs", "cli", "-o", str(out)])
    assert written.exit_code == 0 and out.read_text(encoding="utf-8") == cli_reference_markdown()


def test_results_doc_names_every_variable_and_kpi(tmp_path: Path) -> None:
    sc, prof = tiny(3, {"load_kw": [1, 2, 3], "price": 1.0, "pv_kw": [[0, 1, 0]]},
                    storage=[battery()], pv=[{"name": "roof", "capacity_kw": 2}],
                    weather={"source": "clearsky",
                             "clearness": {"monthly_clearness": [0.5] * 12}})
    result = zp.run(sc, prof)
    assert result.ok
    doc = (DOCS / "results.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`([A-Za-z_0-9]+)`", doc))  # CF: `Conventions`
    names = (set(result.dataset.data_vars) | set(result.dataset.attrs) | set(result.kpis)
             | set(result.kpis["cost_breakdown"]) | set(result.kpis["zero_carbon_indicator"])
             | set(result.kpis["solver"]) | set(result.kpis["timings"])
             | set(result.kpis["model_size"]))
    assert names - documented == set()
    files = {p.name for p in result.write(tmp_path)}
    assert files <= documented | {"kpis.json", "results.nc", "timeseries.csv"}
    assert all(f"`{f}`" in doc for f in files)


def test_extending_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (DOCS / "extending.md").read_text(encoding="utf-8")
    code = "\n".join(re.findall(r"```python\n(.*?)```", text, re.S))
    assert "zp.build_pyomo" in code and "zp.solve_model" in code
    monkeypatch.chdir(DOCS.parent)
    namespace: dict[str, object] = {}
    exec(compile(code, str(DOCS / "extending.md"), "exec"), namespace)  # noqa: S102
    result = namespace["result"]
    assert isinstance(result, zp.Result) and result.ok
    # the reserve binds at least once in the plain optimum, so the rule has a price
    base = namespace["base"]
    soc = base.dataset.storage_soc.isel(time=namespace["steps_16h"])
    assert float(soc.min()) < 0.6
    assert result.objective > base.objective

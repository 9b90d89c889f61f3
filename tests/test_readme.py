"""The README's Python examples and the `profiles` command run as written."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import pytest
import xarray as xr
from click.testing import CliRunner

from zeropark.cli import main

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]


def _python_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize("index", range(2))
def test_readme_python_blocks_run(index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = _python_blocks()
    assert len(blocks) == 2
    code = blocks[index].replace('"out/variant"', repr(str(tmp_path / "variant")))
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    exec(compile(code, f"README block {index}", "exec"), namespace)  # noqa: S102
    r = namespace["r"]
    assert r.ok
    if index == 0:
        assert (tmp_path / "variant" / "kpis.json").is_file()
        # the comment states the dims of storage_soc as they are
        assert f"dims {r.dataset.storage_soc.dims}".replace("'", '"') in blocks[0]
    else:
        # soc_kwh[t] is the end of step t: the 17:00 step ends at 18:00, as the comment says
        time = r.dataset.time.values
        assert str(time[17])[11:16] == "17:00" and "end of the 17:00 step" in blocks[1]
        soc = r.dataset.storage_soc_kwh.sel(storage="lfp-main").values
        assert soc[17] >= 3000 - 1e-6 and soc[41] >= 3000 - 1e-6


def test_cli_profiles_prints_totals_and_writes_netcdf(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["profiles", str(ROOT / "scenarios/demo-park.yaml"),
                                    "-o", str(tmp_path)])
    assert res.exit_code == 0, res.output
    m = re.search(r"PV rooftop: 8,000 kWp, [\d,.]+ MWh, ([\d,]+) kWh/kWp", res.output)
    assert m and 1100 <= int(m.group(1).replace(",", "")) <= 1200
    assert "load:" in res.output and "peak 20,000 kW" in res.output
    assert "EV staff-ac:" in res.output and "import price:" in res.output
    with xr.open_dataset(tmp_path / "profiles.nc", engine="h5netcdf") as ds:
        assert ds.sizes["time"] == 8760
        assert ds.load_kw.attrs["units"] == "kW"
        assert float(ds.pv_available_kw.max()) <= 6800 + 1e-6  # AC limit of the rooftop array

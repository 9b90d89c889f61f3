"""The HTML report: rendered by headless Chromium (started here) it loads without script errors or
broken images and shows the KPI values of kpis.json; it is self-contained; it handles runs without
a solution, sweeps, Pareto tables and bad input with exit code 2."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from click.testing import CliRunner

import zeropark as zp
from zeropark.cli import main
from zeropark.examples import tiny
from zeropark.report.html import read_run_dir, render_report, write_report
from zeropark.report.sections import scenario_rows_from_dataset

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scenarios" / "demo-park.yaml"
# a font with Chinese glyphs known to fontconfig (Chromium's font source on Linux)
CJK_FONT = bool(shutil.which("fc-list")) and bool(subprocess.run(
    ["fc-list", ":lang=zh"], capture_output=True, text=True, check=False).stdout.strip())
CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser"),
                             shutil.which("google-chrome")) if p), None)


class _Dom(HTMLParser):
    """Attributes of <body>, the text of every element with data-kpi, and all src/href values."""

    def __init__(self) -> None:
        super().__init__()
        self.body: dict[str, str] = {}
        self.kpis: dict[str, list[tuple[str, str]]] = {}
        self.links: list[str] = []
        self.images = 0
        self._open: list[tuple[str, str, str, int]] = []
        self._depth = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "body":
            self.body = a
        if tag == "img":
            self.images += 1
        self.links += [a[k] for k in ("src", "href") if k in a]
        if tag in ("img", "meta", "br", "link", "input"):
            return
        self._depth += 1
        if "data-kpi" in a:
            self._open.append((a["data-kpi"], a.get("data-value", ""), "", self._depth))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("img", "meta", "br", "link", "input"):
            return
        if self._open and self._open[-1][3] == self._depth:
            key, value, text, _ = self._open.pop()
            self.kpis.setdefault(key, []).append((value, " ".join(text.split())))
        self._depth -= 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        self._open = [(k, v, t + data, d) for k, v, t, d in self._open]


def _parse(text: str) -> _Dom:
    dom = _Dom()
    dom.feed(text)
    return dom


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo park over 31 Jan – 1 Feb 2025 (two billing months), as `zeropark run` writes it."""
    out = tmp_path_factory.mktemp("run")
    result = zp.run(DEMO, start=24 * 30, steps=48)
    assert result.ok
    result.write(out)
    return out


def _chromium(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
            *extra, url]
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def report(run_dir: Path) -> Path:
    """`zeropark report DIR -o DIR/report.html --scenario demo-park.yaml`."""
    out = run_dir / "report.html"
    cli = CliRunner().invoke(main, ["report", str(run_dir), "-o", str(out),
                                    "--scenario", str(DEMO)])
    assert cli.exit_code == 0, cli.output
    assert cli.output.strip() == f"wrote {out}"
    return out


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian package "
                                             "'chromium'); the browser test needs it")
def test_report_renders_in_headless_chromium(run_dir: Path, report: Path, tmp_path: Path) -> None:
    proc = _chromium(report.as_uri(), tmp_path / "profile", "--dump-dom",
                     "--virtual-time-budget=5000")
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = _parse(proc.stdout)
    # loaded: the onload hook ran, no script error, every embedded image decoded
    assert dom.body.get("data-ready") == "1"
    assert dom.body.get("data-js-errors") == "0"
    assert dom.body.get("data-images") == "6" and dom.body.get("data-images-broken") == "0"
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console  # no CSP violation, no error, no log at all
    # the values shown are those of kpis.json, formatted for people
    k = json.loads((run_dir / "kpis.json").read_text())
    expected = {
        "total_cost": f"{k['total_cost']:,.0f} CNY",
        "consumption_kwh": f"{k['consumption_kwh'] / 1e3:,.1f} MWh",
        "import_kwh": f"{k['import_kwh'] / 1e3:,.1f} MWh",
        "green_share": f"{k['green_share']:.1%}",
        "co2_t": f"{k['co2_t']:,.1f} t",
        "zero_carbon_indicator.value": f"{k['zero_carbon_indicator']['value']:.3f} tCO2/tce",
        "clean_energy_share": f"{k['clean_energy_share']:.1%}",
        "cost_breakdown.energy": f"{k['cost_breakdown']['energy']:,.0f} CNY",
        "peak_import_kw_by_month.2025-02":
            f"{k['peak_import_kw_by_month']['2025-02']:,.0f} kW",
    }
    for key, text in expected.items():
        shown = dom.kpis[key]
        assert text in [t for _, t in shown], (key, shown)
        assert all(float(v) == pytest.approx(_lookup(k, key), rel=1e-12) for v, _ in shown)
    # Chinese text renders with real glyphs (about 1 em wide, 园 and 区 differ), not tofu boxes;
    # .ci/run installs fonts-noto-cjk, so under CI a missing CJK font is a failure
    if CJK_FONT or os.environ.get("CI"):
        assert float(dom.body.get("data-cjk-width-em", "0")) >= 0.9, dom.body
        assert dom.body.get("data-cjk-distinct") == "1", dom.body
    verdict = "PASS" if k["zero_carbon_indicator"]["pass"] else "FAIL"
    page = " ".join(" ".join(dom.text).split())
    assert f"threshold ≤ 0.2 tCO2/tce {verdict}" in page
    assert "guideline ≥ 90 % " + ("PASS" if k["clean_energy_share"] >= 0.9 else "FAIL") in page
    # a screenshot has content (not a blank page)
    shot = tmp_path / "shot.png"
    proc = _chromium(report.as_uri(), tmp_path / "profile", f"--screenshot={shot}",
                     "--window-size=1200,1600", "--hide-scrollbars")
    assert proc.returncode == 0 and shot.stat().st_size > 20_000
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    assert pixels.std() > 0.05


def _lookup(k: dict, dotted: str) -> float:
    node = k
    for part in dotted.split(".", 1) if dotted.startswith("peak_") else dotted.split("."):
        node = node[part]
    return float(node)


def test_report_is_self_contained(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    dom = _parse(html)
    assert dom.images == 6
    assert dom.links and all(link.startswith("data:image/png;base64,") for link in dom.links)
    assert "default-src 'none'" in html  # the browser may fetch nothing else
    assert "<link" not in html and "@import" not in html and "url(" not in html
    page = " ".join(" ".join(dom.text).split())
    assert "2025-01-31 00:00 to 2025-02-02 00:00 (48 steps of 60 min)" in page
    assert "rooftop 8,000 kWp" in page and "lfp-main 10,000 kWh / 5,000 kW" in page


def test_summary_without_scenario_is_read_from_the_results(run_dir: Path) -> None:
    run = read_run_dir(run_dir)
    rows = dict(scenario_rows_from_dataset(run.dataset, run.kpis))
    assert rows["park"] == "demo-park"
    # capacity = stored kWh / state of charge, exact for any step with charge in it
    assert rows["storage (capacity; highest power used)"].startswith("lfp-main 10,000 kWh")
    assert rows["EV pile groups"] == "staff-ac, fleet-dc"


def test_report_names_a_scenario_that_was_not_the_one_solved(run_dir: Path,
                                                             tmp_path: Path) -> None:
    other = zp.load_scenario(DEMO).replace({"storage.0.energy_kwh": 20_000})
    html = render_report(run_dir, scenario=other, title="Board pack <Q1>")
    assert "is not the one solved" in html
    assert "<h1>Board pack &lt;Q1&gt;</h1>" in html  # escaped
    assert "lfp-main 20,000 kWh / 5,000 kW" in html


def test_report_of_a_run_without_solution(tmp_path: Path) -> None:
    # 5 kW of load behind a 1 kW connection and nothing else: infeasible
    sc, prof = tiny(2, {"load_kw": [5, 5], "price": 1.0}, grid={"import_limit_kw": 1.0})
    result = zp.run(sc, prof)
    assert not result.ok
    result.write(tmp_path)
    out = write_report(tmp_path)
    html = out.read_text(encoding="utf-8")
    assert out == tmp_path / "report.html"
    assert 'data-kpi="solver.status">infeasible<' in html
    assert "No solution" in html and 'id="figures"' not in html


def test_report_with_sweep_and_pareto(run_dir: Path, tmp_path: Path) -> None:
    shutil.copy(run_dir / "results.nc", tmp_path / "results.nc")
    cost = np.array([[3.0, 2.0, 1.5], [3.2, 2.3, 1.9]])
    sweep = xr.Dataset({"total_cost": (("cap_t", "storage_kwh"), cost),
                        "co2_t": (("cap_t", "storage_kwh"), 10 - cost)},
                       coords={"cap_t": [100.0, 90.0], "storage_kwh": [0.0, 1e4, 2e4]})
    sweep.to_netcdf(tmp_path / "sweep.nc", engine="h5netcdf")
    pd.DataFrame({"co2_t": [10.0, 8.0, 9.0], "total_cost": [1.0, 2.0, 3.0],
                  "label": ["a", "b", "c"]}).to_csv(tmp_path / "pareto.csv", index=False)
    k = json.loads((run_dir / "kpis.json").read_text())
    k["sizing"] = {"assets": [{"asset": "storage.lfp-main.energy_kwh", "size": 12_500.0,
                               "unit": "kWh", "existing": 10_000.0, "cap": 20_000.0,
                               "investment": 6.75e6, "annualized_cost_per_year": 6.95e5}],
                   "investment": 6.75e6, "annualized_cost_per_year": 6.95e5}
    (tmp_path / "kpis.json").write_text(json.dumps(k))
    run = read_run_dir(tmp_path)
    assert run.sweep is not None and run.pareto is not None
    dom = _parse(render_report(run))
    # 6 result figures + 2 KPI surfaces + cost-vs-CO2 of the sweep + the Pareto front
    assert dom.images == 10
    page = " ".join(dom.text)
    assert "Sweep" in page and "Pareto front" in page and "storage_kwh" in page
    assert dom.kpis["sizing.storage.lfp-main.energy_kwh"] == [("12500.0", "12,500 kWh")]
    assert "Investment 6,750,000 CNY; annualised 695,000 CNY/year." in page


def test_cli_report_errors_are_one_line_with_exit_code_2(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(main, ["report", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2
    assert missing.output.strip().startswith("error: DIR:") and "Traceback" not in missing.output
    (tmp_path / "kpis.json").write_text("{not json")
    bad = runner.invoke(main, ["report", str(tmp_path)])
    assert bad.exit_code == 2 and "valid JSON" in bad.output
    (tmp_path / "kpis.json").write_text("{}")
    no_dir = runner.invoke(main, ["report", str(tmp_path), "-o", str(tmp_path / "x" / "r.html")])
    assert no_dir.exit_code == 2 and "existing folder" in no_dir.output


def test_cli_plot_writes_svg_and_png(run_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(main, ["plot", str(run_dir), "-o", str(tmp_path), "--format", "svg",
                               "--week", "2025-01-31 12:00"])
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["costs.svg", "dispatch.svg", "emissions.svg", "import_duration.svg",
                     "monthly_balance.svg", "schedules.svg"]
    assert all(b"<svg" in (tmp_path / n).read_bytes()[:500] for n in names)
    assert "2025-01-31 12:00" in (tmp_path / "dispatch.svg").read_text()
    bad = runner.invoke(main, ["plot", str(run_dir), "-o", str(tmp_path), "--week", "1999-01-01"])
    assert bad.exit_code == 2 and "start" in bad.output

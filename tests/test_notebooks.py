"""The notebooks run top to bottom at a short horizon (48 h), so they never rot.

One ``python3`` kernel (ipykernel) serves all three: each notebook starts with ``%reset -f`` in a
cell of its own, so it sees a clean namespace while the kernel keeps zeropark imported (a kernel
start and the import cost several seconds each). The notebooks check their own numbers with
``assert`` cells; here we check that every cell ran, figures were drawn and files were written.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
jupyter_client = pytest.importorskip("jupyter_client")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
HORIZON_H = 48


@pytest.fixture(scope="module")
def kernel() -> Iterator[object]:
    if shutil.which("python3") is None:  # pragma: no cover - the kernel spec runs python3
        pytest.skip("no python3 on PATH for the ipykernel kernel")
    km = jupyter_client.KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(NOTEBOOKS))
    try:
        yield km
    finally:
        km.shutdown_kernel(now=True)
        km.cleanup_resources()


def _execute(kernel: object, name: str, out: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    prelude = (f"%reset -f\nimport os\nos.environ['ZEROPARK_NB_HORIZON_H'] = '{HORIZON_H}'\n"
               f"os.environ['ZEROPARK_NB_OUT'] = {str(out)!r}")
    nb.cells.insert(0, nbformat.v4.new_code_cell(prelude))
    client = nbclient.NotebookClient(nb, km=kernel, timeout=120, allow_errors=False,
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    try:
        client.execute()
    finally:
        if client.kc is not None:  # nbclient leaves the channels open on a kernel it does not own
            client.kc.stop_channels()
    return nb


def _outputs(nb: nbformat.NotebookNode, mime: str) -> int:
    return sum(mime in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
               for o in c.outputs)


def _clean_source(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), \
        f"{name}: commit notebooks without outputs"
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_01_quickstart(kernel: object, tmp_path: Path) -> None:
    _clean_source("01-quickstart.ipynb")
    nb = _execute(kernel, "01-quickstart.ipynb", tmp_path)
    assert _outputs(nb, "image/png") >= 5
    kpis = json.loads((tmp_path / "kpis.json").read_text())
    assert kpis["solver"]["status"] == "optimal"
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert f"{kpis['total_cost']:,.0f}" in html


def test_02_sizing_and_pareto(kernel: object, tmp_path: Path) -> None:
    _clean_source("02-sizing-and-pareto.ipynb")
    nb = _execute(kernel, "02-sizing-and-pareto.ipynb", tmp_path)
    assert _outputs(nb, "image/png") >= 2
    pareto = (tmp_path / "pareto.csv").read_text().splitlines()
    assert pareto[0].startswith("pv_kwp,cap_share,co2_t,total_cost") and len(pareto) >= 5
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert 'id="pareto"' in html and 'id="sweep"' in html


def test_03_day_ahead_operations(kernel: object, tmp_path: Path) -> None:
    _clean_source("03-day-ahead-operations.ipynb")
    nb = _execute(kernel, "03-day-ahead-operations.ipynb", tmp_path)
    assert _outputs(nb, "image/png") >= 1
    rows = (tmp_path / "day-1" / "schedule.csv").read_text().splitlines()
    assert len(rows) == 1 + 24  # header + tomorrow's 24 hourly steps
    assert (tmp_path / "day-1" / "report.html").is_file()

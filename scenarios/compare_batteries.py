"""Compare three battery sizes for the demo park with the Python API.

Run from the repository root:  python scenarios/compare_batteries.py [--days 14]
Numbers come from scenarios/demo-park.yaml (see its header for sources); only the battery differs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import zeropark as zp

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=365, help="horizon from 1 January [days]")
    args = parser.parse_args()
    base = zp.load_scenario(HERE / "demo-park.yaml")
    print(f"{'battery':>16} {'total cost CNY':>16} {'peak kW':>9} {'green share':>12} "
          f"{'tCO2/tce':>9} {'cycles':>7}")
    for energy_kwh, power_kw in [(0, 0), (10_000, 5_000), (20_000, 10_000)]:
        variant = base.replace({"storage.0.energy_kwh": energy_kwh,
                                "storage.0.power_kw": power_kw})
        r = zp.run(variant, steps=24 * args.days)
        k = r.kpis
        print(f"{f'{energy_kwh / 1e3:.0f} MWh/{power_kw / 1e3:.0f} MW':>16} "
              f"{k['total_cost']:>16,.0f} {max(k['peak_import_kw_by_month'].values()):>9,.0f} "
              f"{k['green_share']:>12.1%} {k['co2_per_tce']:>9.3f} "
              f"{k['storage_equivalent_cycles']['lfp-main']:>7.1f}")


if __name__ == "__main__":
    main()

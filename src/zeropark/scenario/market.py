"""Schema of the grid connection, green power, certificates, offsets, demand response, targets,
fixed fuels and solver options."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from zeropark.scenario.components import ProfileFile, Strict


class Grid(Strict):
    """Grid connection, tariff and emission factor."""

    import_limit_kw: float = Field(gt=0, le=1e8, description="transformer / contract limit [kW]")
    export_limit_kw: float = Field(default=0.0, ge=0, le=1e8, description="0 = anti-backflow")
    tariff: str | None = Field(default="jiangsu-2025", description="key in models/tariffs.yaml")
    price_file: ProfileFile | None = Field(default=None, description="import price CSV [per kWh]")
    export_price_per_kwh: float = Field(default=0.0, ge=-10, le=10)
    export_price_file: ProfileFile | None = None
    billing: Literal["demand", "capacity"] = Field(
        default="demand",
        description="two-part tariff basis: monthly peak demand [kW] or transformer capacity [kVA]",
    )
    demand_charge_per_kw_month: float | None = Field(
        default=None, ge=0, le=1000, description="None = the tariff's value"
    )
    capacity_kva: float | None = Field(default=None, gt=0, le=1e8, description="for billing capacity")
    capacity_charge_per_kva_month: float | None = Field(
        default=None, ge=0, le=1000, description="None = the tariff's value"
    )
    emission_factor: str | None = Field(default="cn-national-2023", description="models key")
    emission_factor_file: ProfileFile | None = Field(default=None, description="[kgCO2/kWh] CSV")

    @model_validator(mode="after")
    def _sources(self) -> Grid:
        if (self.tariff is None) == (self.price_file is None):
            raise ValueError("give exactly one of 'tariff' (library key) or 'price_file' (CSV)")
        if self.billing == "capacity" and self.capacity_kva is None:
            raise ValueError("billing 'capacity' needs 'capacity_kva' (transformer rating)")
        if (self.emission_factor is None) == (self.emission_factor_file is None):
            raise ValueError("give exactly one of 'emission_factor' or 'emission_factor_file'")
        return self


class GreenDirect(Strict):
    """Direct green-power supply (绿电直连 / PPA) with a contract profile."""

    capacity_kw: float = Field(ge=0, le=1e8)
    shape: Literal["flat", "solar", "wind", "file"] = "wind"
    profile: ProfileFile | None = Field(default=None, description="CSV, unit kw or kw_per_kwp")
    price_per_kwh: float = Field(ge=0, le=10)
    min_take_kwh: float = Field(default=0.0, ge=0, description="over the horizon, pro rata")
    seed: int = Field(default=11, ge=0, le=2**32 - 1)

    @model_validator(mode="after")
    def _file(self) -> GreenDirect:
        if self.shape == "file" and self.profile is None:
            raise ValueError("shape 'file' needs 'profile'")
        return self


class Certificates(Strict):
    """Green electricity certificates (GEC, 1 MWh each; bought as a continuous decision)."""

    price_per_mwh: float = Field(default=5.0, ge=0, le=1e4)
    max_mwh: float | None = Field(default=None, ge=0)


class Offsets(Strict):
    """CCER offsets against emissions, capped as a share of gross emissions."""

    price_per_t: float = Field(default=70.0, ge=0, le=1e5)
    max_share: float = Field(default=0.05, ge=0, le=1)


class GreenPower(Strict):
    direct: GreenDirect | None = None
    certificates: Certificates | None = None
    offsets: Offsets | None = None


class DrEvent(Strict):
    """A demand-response (peak-cut) event: reduce net grid import below the baseline."""

    name: str = Field(min_length=1, max_length=100)
    date: str = Field(description="ISO date, local")
    start: str = Field(description="HH:MM")
    end: str = Field(description="HH:MM, after start, same day")
    baseline_kw: float | None = Field(
        default=None, ge=0, description="None = mean forecast load in the window"
    )
    reduction_kw: float = Field(gt=0, le=1e8)
    payment_per_kw: float = Field(ge=0, le=1e4, description="paid per kW delivered if accepted")
    penalty_per_kwh: float = Field(default=0.0, ge=0, le=1e4, description="per kWh short")
    committed: bool = Field(default=False, description="already accepted: participation forced")


class DemandResponse(Strict):
    events: list[DrEvent] = Field(default_factory=list)


Mode = Literal["hard", "soft"]


class ShareTarget(Strict):
    value: float = Field(ge=0, le=1)
    mode: Mode = "soft"
    penalty_per_kwh: float = Field(default=1.0, ge=0, le=1e4, description="per kWh short (soft)")


class CapTarget(Strict):
    value_t: float = Field(ge=0, le=1e9)
    mode: Mode = "soft"
    penalty_per_t: float = Field(default=500.0, ge=0, le=1e6)


class IndicatorTarget(Strict):
    """Zero-carbon park core indicator: tCO2 per tce of energy consumption."""

    threshold_t_per_tce: float = Field(default=0.2, gt=0, le=10)
    mode: Mode = "soft"
    penalty_per_t: float = Field(default=500.0, ge=0, le=1e6, description="per tCO2 over")


class Targets(Strict):
    green_share: ShareTarget | None = None
    emission_cap: CapTarget | None = None
    zero_carbon_indicator: IndicatorTarget | None = None
    carbon_price_per_t: float = Field(default=0.0, ge=0, le=1e5)
    green_counts_zero_emission: bool = Field(
        default=True,
        description="count green direct supply and certificates as zero-emission in the indicator",
    )


class Fuels(Strict):
    """Fixed non-electric energy use per year, pro-rated to the horizon."""

    natural_gas_m3_per_year: float = Field(default=0.0, ge=0, le=1e12)
    coal_t_per_year: float = Field(default=0.0, ge=0, le=1e10)
    heat_gj_per_year: float = Field(default=0.0, ge=0, le=1e12)


class Solver(Strict):
    """Solver options (HiGHS)."""

    engine: Literal["matrix", "pyomo"] = "matrix"
    time_limit_s: float = Field(default=300.0, ge=0, le=1e6)
    mip_gap: float = Field(default=1e-3, ge=0, le=1)
    threads: int = Field(default=1, ge=1, le=256)
    seed: int = Field(default=0, ge=0)
    exclusivity: Literal["auto", "all", "none"] = Field(
        default="auto", description="binaries: only where they can pay / every step / never"
    )
    relax: bool = Field(default=False, description="solve the LP relaxation only")


class Sizing(Strict):
    """Annualisation of capex for sizing mode."""

    discount_rate: float = Field(default=0.06, ge=0, le=0.5)
    lifetime_years: dict[str, float] = Field(default_factory=dict)


class LibraryRef(Strict):
    paths: list[Path] = Field(default_factory=list)

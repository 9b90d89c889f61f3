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
    export_limit_kw: float = Field(
        default=0.0, ge=0, le=1e8,
        description="Maximum feed-in to the grid; 0 = anti-backflow (防逆流), no export"
    )
    tariff: str | None = Field(
        default="jiangsu-2025", description="TOU tariff key in models/tariffs.yaml; give this or price_file"
    )
    price_file: ProfileFile | None = Field(
        default=None, description="import price CSV [per kWh], used instead of a library tariff"
    )
    export_price_per_kwh: float = Field(
        default=0.0, ge=-10, le=10,
        description="Flat price received per kWh exported (may be "
        "negative); replaced by export_price_file if set.",
    )
    export_price_file: ProfileFile | None = Field(
        default=None, description="Export price CSV [currency/kWh] per step, replacing export_price_per_kwh."
    )
    billing: Literal["demand", "contract", "capacity", "choose"] = Field(
        default="demand",
        description="Two-part tariff basis of the basic charge: demand = each billing month's "
        "actual maximum demand [kW]; contract = contracted maximum demand (合同最大需量) per "
        "billing month, chosen by the optimiser unless contract_kw is given; capacity = "
        "transformer capacity [kVA]; choose = the optimiser picks contract or capacity per "
        "basis_period (see docs/billing.md)",
    )
    demand_charge_per_kw_month: float | None = Field(
        default=None, ge=0, le=1000,
        description="Charge on each billing month's billed demand (actual or contracted maximum "
        "demand); None = the tariff's value",
    )
    transformer_kva: float | None = Field(
        default=None, gt=0, le=1e8,
        description="Installed transformer (and high-voltage motor) capacity [kVA]; required for "
        "billing capacity, contract and choose (the contract may not be set below "
        "billing_rules' floor share of it)",
    )
    capacity_charge_per_kva_month: float | None = Field(
        default=None, ge=0, le=1000,
        description="Charge [currency/(kVA·month)] on transformer_kva "
        "(billing capacity or choose); None = the tariff's value",
    )
    contract_kw: float | None = Field(
        default=None, gt=0, le=1e8,
        description="Fixed contracted maximum demand for every billing month (billing contract); "
        "None = the optimiser chooses one per billing month",
    )
    basis_period: Literal["year", "quarter"] | None = Field(
        default=None,
        description="How often billing choose may switch between contract and capacity: one basis "
        "per calendar year or per quarter; None = the billing_rules entry's default",
    )
    billing_rules: str = Field(
        default="cn-two-part-2016",
        description="Two-part billing rules key in models/billing.yaml (contract tolerance, "
        "excess multiplier, contract floor share, default basis period, intra-hour peak)",
    )
    emission_factor: str | None = Field(
        default="cn-national-2023",
        description="Grid emission factor key in models/emission_factors.yaml; "
        "give this or emission_factor_file",
    )
    emission_factor_file: ProfileFile | None = Field(
        default=None,
        description="Time-varying grid emission factor CSV [kgCO2/kWh], instead of a library key"
    )

    @model_validator(mode="after")
    def _sources(self) -> Grid:
        if (self.tariff is None) == (self.price_file is None):
            raise ValueError("give exactly one of 'tariff' (library key) or 'price_file' (CSV)")
        if self.billing in ("capacity", "contract", "choose") and self.transformer_kva is None:
            raise ValueError(f"billing '{self.billing}' needs 'transformer_kva' (installed "
                             "transformer capacity [kVA]): capacity billing charges it and the "
                             "contracted demand may not be set below 40 % of it")
        if self.contract_kw is not None and self.billing != "contract":
            raise ValueError(f"contract_kw fixes a contracted demand; it needs billing 'contract', "
                             f"not '{self.billing}'")
        if self.basis_period is not None and self.billing != "choose":
            raise ValueError(f"basis_period applies to billing 'choose', not '{self.billing}'")
        if (self.emission_factor is None) == (self.emission_factor_file is None):
            raise ValueError("give exactly one of 'emission_factor' or 'emission_factor_file'")
        return self


class GreenDirect(Strict):
    """Direct green-power supply (绿电直连 / PPA) with a contract profile."""

    capacity_kw: float = Field(
        ge=0, le=1e8, description="Contracted capacity of the direct green supply; scales the contract shape."
    )
    shape: Literal["flat", "solar", "wind", "file"] = Field(
        default="wind",
        description="Contract profile: flat, solar (south-facing PV), seeded synthetic wind, or a CSV file.",
    )
    profile: ProfileFile | None = Field(
        default=None, description="CSV, unit kw or kw_per_kwp; required for shape file"
    )
    price_per_kwh: float = Field(ge=0, le=10, description="Price paid per kWh taken from the direct supply.")
    min_take_kwh: float = Field(
        default=0.0, ge=0,
        description="Annual minimum take, pro-rated to the horizon "
        "and capped at what the contract delivers in it",
    )
    seed: int = Field(
        default=11, ge=0, le=2**32 - 1, description="Random seed of the synthetic wind contract shape."
    )

    @model_validator(mode="after")
    def _file(self) -> GreenDirect:
        if self.shape == "file" and self.profile is None:
            raise ValueError("shape 'file' needs 'profile'")
        return self


class Certificates(Strict):
    """Green electricity certificates (GEC, 1 MWh each; bought as a continuous decision)."""

    price_per_mwh: float = Field(
        default=5.0, ge=0, le=1e4, description="Price of green electricity certificates per MWh (one GEC)."
    )
    max_mwh: float | None = Field(
        default=None, ge=0,
        description="Most certificates bought over the horizon; None "
        "= unlimited (never more than grid import).",
    )


class Offsets(Strict):
    """CCER offsets against emissions, capped as a share of gross emissions."""

    price_per_t: float = Field(default=70.0, ge=0, le=1e5, description="Price of CCER offsets per tCO2.")
    max_share: float = Field(
        default=0.05, ge=0, le=1,
        description="Most offsets usable, as a share of gross emissions (grid import plus fixed fuels).",
    )


class GreenPower(Strict):
    direct: GreenDirect | None = Field(
        default=None, description="Direct green-power supply (绿电直连 / PPA); None = none."
    )
    certificates: Certificates | None = Field(
        default=None, description="Green electricity certificate (GEC) purchases; None = none allowed."
    )
    offsets: Offsets | None = Field(default=None, description="CCER offset purchases; None = none allowed.")


class DrEvent(Strict):
    """A demand-response (peak-cut) event: reduce net grid import below the baseline."""

    name: str = Field(min_length=1, max_length=100, description="Event name, unique among the DR events.")
    date: str = Field(description="ISO date, local")
    start: str = Field(description="HH:MM")
    end: str = Field(description="HH:MM, after start, same day")
    baseline_kw: float | None = Field(
        default=None, ge=-1e8, le=1e8,
        description="Fixed baseline net grid import [kW] (e.g. as announced by the grid company); "
        "None = computed from data by demand_response.baseline.",
    )
    reduction_kw: float = Field(
        gt=0, le=1e8,
        description="Requested reduction of the average net grid import in the window below the "
        "baseline [kW].",
    )
    payment_per_kw: float = Field(
        ge=0, le=1e4,
        description="Paid once per kW of settled average delivered reduction in the window "
        "(within the settlement band).",
    )
    penalty_per_kwh: float = Field(
        default=0.0, ge=0, le=1e4,
        description="Per kWh by which the delivered reduction falls short of the requested one "
        "(accepted events only).",
    )
    committed: bool = Field(default=False, description="already accepted: participation forced")


class DrBaseline(Strict):
    """How the baseline of an event without a fixed ``baseline_kw`` is computed from data.

    Rule (labelled default, after the usual provincial practice "average load of the same hours on
    the previous several similar days"): per step of the window, the mean net grid import at the
    same clock time on the ``days`` most recent similar days before the event day (same kind:
    working day, or rest day = weekend/public holiday, by the Chinese calendar with 调休), looking
    back at most ``lookback_days`` and skipping days of other DR events. Data: ``history`` (metered
    net import) when given, otherwise the scenario's own net import without any action. Fewer
    similar days than ``days``: the mean of those found; none: the event day's own net import
    without any action.
    """

    days: int = Field(
        default=5, ge=1, le=30,
        description="Number of previous similar days averaged (default 5, an assumption in the "
        "range provincial rules use).",
    )
    lookback_days: int = Field(
        default=30, ge=1, le=366,
        description="Look for similar days at most this many calendar days before the event day.",
    )
    history: ProfileFile | None = Field(
        default=None,
        description="Metered net grid import CSV [kW, import − export, may be negative], any step "
        "that divides or is a multiple of the run's step; None = the scenario's own net import "
        "without any action.",
    )


class DrSettlement(Strict):
    """Settlement band of delivered reductions (labelled defaults; provincial rules vary)."""

    min_response_ratio: float = Field(
        default=0.5, ge=0, le=1,
        description="Delivered / requested reduction below which nothing is paid (default 0.5, "
        "the lower end of the 50–80 % minimum shares provincial rules use).",
    )
    max_response_ratio: float = Field(
        default=1.2, ge=1, le=10,
        description="Delivered / requested reduction above which nothing more is paid (default "
        "1.2, a common cap).",
    )


class DemandResponse(Strict):
    baseline: DrBaseline = Field(
        default_factory=DrBaseline, description="Baseline rule of events without a fixed baseline."
    )
    settlement: DrSettlement = Field(
        default_factory=DrSettlement, description="Settlement band of the delivered reduction."
    )
    events: list[DrEvent] = Field(
        default_factory=list, description="Demand-response events; events outside the horizon are ignored."
    )


Mode = Literal["hard", "soft"]


class ShareTarget(Strict):
    value: float = Field(
        ge=0, le=1,
        description="Minimum green share of electricity consumption "
        "over the horizon (PV, green direct, GEC).",
    )
    mode: Mode = Field(
        default="soft", description="hard = must hold; soft = shortfall allowed at penalty_per_kwh."
    )
    penalty_per_kwh: float = Field(default=1.0, ge=0, le=1e4, description="per kWh short (soft)")


class CapTarget(Strict):
    value_t: float = Field(
        ge=0, le=1e9,
        description="Emission cap over the horizon: grid import and fixed fuels minus CCER offsets."
    )
    mode: Mode = Field(
        default="soft",
        description="hard = must hold; soft = excess allowed at penalty_per_t.",
    )
    penalty_per_t: float = Field(
        default=500.0, ge=0, le=1e6, description="Penalty per tCO2 above the cap (soft mode)."
    )


class IndicatorTarget(Strict):
    """Zero-carbon park core indicator: tCO2 per tce of energy consumption."""

    threshold_t_per_tce: float = Field(
        default=0.2, gt=0, le=10,
        description="Maximum carbon intensity of the park's energy "
        "use (0.2 = zero-carbon park core indicator).",
    )
    mode: Mode = Field(
        default="soft", description="hard = must hold; soft = excess CO2 allowed at penalty_per_t."
    )
    penalty_per_t: float = Field(default=500.0, ge=0, le=1e6, description="per tCO2 over")


class Targets(Strict):
    green_share: ShareTarget | None = Field(
        default=None, description="Minimum green-electricity share target; None = no target."
    )
    emission_cap: CapTarget | None = Field(
        default=None, description="Absolute emission cap [tCO2]; None = no cap."
    )
    zero_carbon_indicator: IndicatorTarget | None = Field(
        default=None, description="Zero-carbon park indicator target (tCO2 per tce); None = no target."
    )
    carbon_price_per_t: float = Field(
        default=0.0, ge=0, le=1e5,
        description="Internal carbon price on emissions (grid import, "
        "fixed fuels, minus CCER) in the objective.",
    )
    green_counts_zero_emission: bool = Field(
        default=True,
        description="count green direct supply and certificates as zero-emission in the indicator",
    )


class Fuels(Strict):
    """Fixed non-electric energy use per year, pro-rated to the horizon."""

    natural_gas_m3_per_year: float = Field(
        default=0.0, ge=0, le=1e12,
        description="Natural gas use, pro-rated to the horizon; adds to emissions and tce.",
    )
    coal_t_per_year: float = Field(
        default=0.0, ge=0, le=1e10,
        description="Coal use [t coal/year], pro-rated to the horizon; adds to emissions and tce.",
    )
    heat_gj_per_year: float = Field(
        default=0.0, ge=0, le=1e12,
        description="Purchased heat, pro-rated to the horizon; adds to emissions and tce.",
    )


class Solver(Strict):
    """Solver options (HiGHS)."""

    engine: Literal["matrix", "pyomo"] = Field(
        default="matrix",
        description="Model builder: matrix = fast sparse matrices, pyomo = equivalent Pyomo model (slower).",
    )
    time_limit_s: float = Field(default=300.0, ge=0, le=1e6, description="HiGHS wall-clock time limit.")
    mip_gap: float = Field(
        default=1e-3, ge=0, le=1, description="Relative MIP gap at which HiGHS stops (1e-3 = 0.1 %)."
    )
    threads: int = Field(default=1, ge=1, le=256, description="Number of threads HiGHS may use.")
    seed: int = Field(default=0, ge=0, description="HiGHS random seed, for reproducible MIP runs.")
    exclusivity: Literal["auto", "all", "none"] = Field(
        default="auto",
        description="Exclusivity binaries: auto = only in steps where simultaneous flows could pay, "
        "all = every step, none = never",
    )
    relax: bool = Field(default=False, description="solve the LP relaxation only")


class Sizing(Strict):
    """Annualisation of capex for sizing mode."""

    discount_rate: float = Field(
        default=0.06, ge=0, le=0.5,
        description="Discount rate of the capital recovery factor annualising capex."
    )
    lifetime_years: dict[str, float] = Field(
        default_factory=dict,
        description="Lifetime overrides keyed by asset name, "
        "technology key or family (pv, storage, charger).",
    )


class LibraryRef(Strict):
    paths: list[Path] = Field(default_factory=list, description="Library override folders of YAML files.")

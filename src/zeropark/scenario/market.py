"""Schema of the grid connection, green power, certificates, offsets, demand response, targets,
fixed fuels and solver options."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from zeropark.scenario.components import Frozen, ProfileFile


class Grid(Frozen):
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


class GreenDirect(Frozen):
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


class Certificates(Frozen):
    """Green electricity certificates (GEC, 1 MWh each; bought as a continuous decision)."""

    price_per_mwh: float = Field(
        default=5.0, ge=0, le=1e4, description="Price of green electricity certificates per MWh (one GEC)."
    )
    max_mwh: float | None = Field(
        default=None, ge=0,
        description="Most certificates bought over the horizon; None "
        "= unlimited (never more than grid import).",
    )


class Offsets(Frozen):
    """CCER offsets against emissions, capped as a share of a base (targets.accounting)."""

    price_per_t: float = Field(default=70.0, ge=0, le=1e5, description="Price of CCER offsets per tCO2.")
    max_share: float = Field(
        default=0.05, ge=0, le=1,
        description="Most offsets usable, as a share of the base chosen by "
        "targets.accounting.offset_cap_base (default: the indicator's emissions after certificates).",
    )


class GreenPower(Frozen):
    direct: GreenDirect | None = Field(
        default=None, description="Direct green-power supply (绿电直连 / PPA); None = none."
    )
    certificates: Certificates | None = Field(
        default=None, description="Green electricity certificate (GEC) purchases; None = none allowed."
    )
    offsets: Offsets | None = Field(default=None, description="CCER offset purchases; None = none allowed.")


class DrEvent(Frozen):
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


class DrBaseline(Frozen):
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


class DrSettlement(Frozen):
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


class DemandResponse(Frozen):
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


class ShareTarget(Frozen):
    value: float = Field(
        ge=0, le=1,
        description="Minimum green share of electricity consumption "
        "over the horizon (PV, green direct, GEC).",
    )
    mode: Mode = Field(
        default="soft", description="hard = must hold; soft = shortfall allowed at penalty_per_kwh."
    )
    penalty_per_kwh: float = Field(default=1.0, ge=0, le=1e4, description="per kWh short (soft)")


class CapTarget(Frozen):
    value_t: float = Field(
        ge=0, le=1e9,
        description="Emission cap over the horizon on the core indicator's CO2 line (co2_t: Scope 1 + "
        "Scope 2 after certificates; minus offsets only when they count toward the indicator)."
    )
    mode: Mode = Field(
        default="soft",
        description="hard = must hold; soft = excess allowed at penalty_per_t.",
    )
    penalty_per_t: float = Field(
        default=500.0, ge=0, le=1e6, description="Penalty per tCO2 above the cap (soft mode)."
    )


class IndicatorTarget(Frozen):
    """Zero-carbon park core indicator: tCO2 per tce of energy consumption."""

    threshold_t_per_tce: float = Field(
        default=0.2, gt=0, le=10,
        description="The park's own limit [tCO2/tce], used where the national size bands do not "
        "apply (below 200,000 tce/yr) or with threshold_rule own; 0.2 = the national value for "
        "parks of 200k–1M tce/yr, a labelled default for smaller parks.",
    )
    threshold_rule: Literal["national_band", "own"] = Field(
        default="national_band",
        description="national_band = the limit of the national size band of the park's annual "
        "energy use (models/indicators.yaml: 0.2 for 200k–1M tce/yr, 0.3 above), fixed before "
        "the solve from the baseline tce and re-checked after it; the own threshold below 200k "
        "tce/yr. own = always threshold_t_per_tce.",
    )
    mode: Mode = Field(
        default="soft", description="hard = must hold; soft = excess CO2 allowed at penalty_per_t."
    )
    penalty_per_t: float = Field(default=500.0, ge=0, le=1e6, description="per tCO2 over")


class Accounting(Frozen):
    """How the emissions ledger counts (each option with its source or as an assumption in
    docs/accounting.md)."""

    offsets_in_indicator: bool = Field(
        default=False,
        description="Count CCER offsets toward the core indicator (CO2 per tce). Default no: the "
        "indicator is the park's own emissions; the value with offsets is reported beside it.",
    )
    offset_cap_base: Literal["indicator", "gross"] = Field(
        default="indicator",
        description="Base of the offset cap (offsets ≤ max_share × base): indicator = the "
        "indicator's emissions after certificates, gross = Scope 1 + location-based Scope 2.",
    )
    scope2_method: Literal["location", "market"] = Field(
        default="location",
        description="location = certificate-covered import credited at each step's grid factor; "
        "market = covered import zero, uncovered import at the residual-mix factor.",
    )
    residual_mix_factor: str = Field(
        default="cn-national-2023-excl-market-nonfossil",
        description="Emission factor key (models/emission_factors.yaml) of uncovered import in "
        "market-based accounting: the MEE/NBS factor excluding market-traded non-fossil power.",
    )
    tce_factor: Literal["equal_value", "coal_equivalent"] = Field(
        default="equal_value",
        description="Electricity to tce: equal_value (当量值, 0.1229 kgce/kWh, GB/T 2589-2020) or "
        "coal_equivalent (等价值, models/indicators.yaml electricity-equivalent-value).",
    )
    carbon_price_scope: Literal["scope1", "scope1_2_location", "scope1_2_market",
                                "indicator"] = Field(
        default="scope1",
        description="Emissions line the carbon price applies to (offsets, when bought, reduce "
        "it): scope1 = fuels only; scope1_2_location / scope1_2_market = fuels plus Scope 2 by "
        "that method; indicator = the core indicator's emissions.",
    )
    clean_share_counts_gas: bool = Field(
        default=True,
        description="Count natural gas as clean energy in the clean-energy share (NBS "
        "statistical definition); false = non-fossil electricity only.",
    )


class GuidingFigures(Frozen):
    """The park's own figures for the guiding indicators of the zero-carbon park notice."""

    product_energy_intensity: float | None = Field(
        default=None, ge=0,
        description="Energy use per unit of the main product [tce per product unit]; None = not given.",
    )
    product_energy_limit: float | None = Field(
        default=None, gt=0,
        description="National energy-consumption limit (限额 standard) for that product, same unit.",
    )
    solid_waste_utilisation: float | None = Field(
        default=None, ge=0, le=1, description="Industrial solid-waste utilisation rate [-] (≥ 0.8).")
    waste_energy_recovery: float | None = Field(
        default=None, ge=0, le=1,
        description="Waste heat, cold and pressure recovery rate [-] (≥ 0.5).")
    water_reuse: float | None = Field(
        default=None, ge=0, le=1, description="Industrial water reuse rate [-] (≥ 0.8).")

    @model_validator(mode="after")
    def _limit(self) -> GuidingFigures:
        if self.product_energy_intensity is not None and self.product_energy_limit is None:
            raise ValueError("product_energy_intensity needs product_energy_limit (the national "
                             "limit of the product, same unit)")
        return self


class Targets(Frozen):
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
        description="Internal carbon price in the objective, on the line chosen by "
        "targets.accounting.carbon_price_scope (default Scope 1, fuels), minus offsets bought.",
    )
    green_counts_zero_emission: bool = Field(
        default=True,
        description="count green direct supply and certificates as zero-emission in the indicator",
    )
    accounting: Accounting = Field(
        default_factory=lambda: Accounting(),
        description="Carbon accounting options: offsets, Scope 2 method, tce factor, carbon-price "
        "scope, clean-energy share (see docs/accounting.md).",
    )
    guiding: GuidingFigures = Field(
        default_factory=lambda: GuidingFigures(),
        description="The park's own figures for the guiding indicators outside the energy model "
        "(zero-carbon park '1 + 5' check); each None = not given.",
    )


class Fuels(Frozen):
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


class Solver(Frozen):
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


class Sizing(Frozen):
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
    capex_factor: float = Field(
        default=1.0, gt=0, le=100,
        description="Multiplies every capex of the technology library (sensitivity studies, "
        "e.g. 0.8 for 20 % cheaper equipment); fixed O&M is not scaled. 1 = the library's "
        "numbers.",
    )
    periods_mip_gap: float = Field(
        default=0.005, ge=0, le=0.2,
        description="Relative MIP gap of the representative-period model of `size --periods` "
        "(the larger of this and solver.mip_gap is used; the full-horizon check of the chosen "
        "sizes uses solver.mip_gap). Default 0.5 %: the aggregation itself moves the objective "
        "by about that much, so a tighter gap there buys no better sizes (an assumption, "
        "measured on the bundled parks in docs/planning.md).",
    )


class LibraryRef(Frozen):
    paths: list[Path] = Field(default_factory=list, description="Library override folders of YAML files.")

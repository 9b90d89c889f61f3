"""Pydantic models of library entries: what every entry must carry, and the TOU tariff.

A library file (``models/*.yaml`` or a user override folder) is validated with these models when
the library is loaded, so a broken entry fails with one line naming ``"<file>:<key>.<path>"``, the
value and what is allowed, rather than deep inside a model build. The models hold data only;
the arrays a tariff gives per time step are built in :mod:`zeropark.profiles.tariff`.

A tariff (see ``models/tariffs.yaml``)::

    prices_per_kwh: {peak: 1.05, flat: 0.62, valley: 0.30}   # [CNY/kWh]; optional critical
    default_period: flat
    periods:
      - months: [1, 2, 6, 7, 8, 12]
        peak: [[14, 22]]                # [start, end) in hours of local standard time
        valley: [[0, 6], [11, 13]]
      - months: [3, 4, 5, 9, 10, 11]
        ...

Every month 1..12 is covered by exactly one rule. A minute no window covers takes
``default_period``. ``critical`` windows override ``peak`` and ``deep_valley`` windows override
``valley``; any other overlap of two periods is an error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from numbers import Real
from typing import Annotated, Any, Literal, get_args

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from zeropark.errors import ScenarioError, from_validation_error
from zeropark.guard import snippet

PeriodName = Literal["critical", "peak", "flat", "valley", "deep_valley"]
#: Period names a tariff may use, in the order of their integer codes.
PERIOD_NAMES: tuple[str, ...] = get_args(PeriodName)
#: A window of the key overrides windows of the value where both cover a minute.
PERIOD_OVERRIDES: dict[str, str] = {"critical": "peak", "deep_valley": "valley"}
MINUTES_PER_DAY = 1440

_MINUTE = np.arange(MINUTES_PER_DAY)
_WINDOW_ALLOWED = "a list of [start, end) hour pairs with 0 <= start < end <= 24, on whole minutes"
_MONTHS_ALLOWED = "a non-empty list of distinct integer months 1..12"


def is_number(value: Any) -> bool:
    """True for a finite real number that is not a bool."""
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def window_mask(windows: Sequence[tuple[float, float]]) -> np.ndarray:
    """Minutes of a day covered by validated ``[start, end)`` windows [bool mask, 1440]."""
    mask = np.zeros(MINUTES_PER_DAY, dtype=bool)
    for start_h, end_h in windows:
        mask |= (_MINUTE >= round(start_h * 60)) & (_MINUTE < round(end_h * 60))
    return mask


def _window(value: Any) -> tuple[float, float]:
    if not (isinstance(value, list | tuple) and len(value) == 2):
        raise ValueError(_WINDOW_ALLOWED)
    start_h, end_h = value
    if not (is_number(start_h) and is_number(end_h)) or not 0 <= start_h < end_h <= 24:
        raise ValueError(_WINDOW_ALLOWED)
    if any(abs(hour * 60 - round(hour * 60)) > 1e-9 for hour in (start_h, end_h)):
        raise ValueError(_WINDOW_ALLOWED)
    return float(start_h), float(end_h)


def _window_list(value: Any) -> Any:
    if not isinstance(value, list):
        raise ValueError(_WINDOW_ALLOWED)
    return value


#: One ``[start, end)`` window [h of local standard time].
Window = Annotated[tuple[float, float], BeforeValidator(_window)]
Windows = Annotated[list[Window], BeforeValidator(_window_list)]


class LibraryEntry(BaseModel):
    """What every library entry carries: where its numbers come from and of which year.

    Other keys are kept as they are (``extra="allow"``); kinds with their own model (tariffs)
    check them.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    source: str = Field(default=None, validate_default=True,
                        description="Document and publisher, or 'labelled default: <why>'.")
    year: int = Field(default=None, validate_default=True, description="Year of the source.")

    # a library file may be someone else's: errors show only a short, escaped snippet of it
    @field_validator("source", mode="before")
    @classmethod
    def _source(cls, value: Any) -> Any:
        if not isinstance(value, str) or not value.strip():
            raise ScenarioError(
                "", snippet(value, 12),
                "a non-empty string naming document and publisher, or 'labelled default: <why>'",
            )
        return value

    @field_validator("year", mode="before")
    @classmethod
    def _year(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int) or not 1900 <= value <= 2100:
            raise ScenarioError("", snippet(value, 12), "an integer year, 1900..2100")
        return value


class TariffRule(BaseModel):
    """The months of one rule of a tariff and the windows of each period in them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    months: list[int] = Field(description="Months 1..12 this rule applies to.")
    critical: Windows | None = None
    peak: Windows | None = None
    flat: Windows | None = None
    valley: Windows | None = None
    deep_valley: Windows | None = None

    @model_validator(mode="before")
    @classmethod
    def _mapping_with_known_keys(cls, rule: Any) -> Any:
        if not isinstance(rule, Mapping):
            raise ScenarioError("", rule, "a mapping with months and period windows")
        unknown = sorted((key for key in rule if key != "months" and key not in PERIOD_NAMES),
                         key=str)
        if unknown:
            raise ScenarioError(str(unknown[0]), rule[unknown[0]],
                                f"rule keys are months and period names: {', '.join(PERIOD_NAMES)}")
        return rule

    @field_validator("months", mode="before")
    @classmethod
    def _months(cls, months: Any) -> Any:
        if not isinstance(months, list) or not months or len(set(map(repr, months))) != len(months):
            raise ValueError(_MONTHS_ALLOWED)
        if any(isinstance(m, bool) or not isinstance(m, int) or not 1 <= m <= 12 for m in months):
            raise ValueError(_MONTHS_ALLOWED)
        return months

    @model_validator(mode="after")
    def _no_overlap(self) -> TariffRule:
        masks = {name: window_mask(windows) for name, windows in self.windows().items()}
        names = list(masks)
        for a_i, a in enumerate(names):
            for b in names[a_i + 1:]:
                if PERIOD_OVERRIDES.get(a) == b or PERIOD_OVERRIDES.get(b) == a:
                    continue
                both = masks[a] & masks[b]
                if both.any():
                    first_h = int(np.argmax(both)) / 60
                    raise ScenarioError(
                        b, [list(w) for w in self.windows()[b]],
                        f"windows that do not overlap {a} (both cover {first_h:g} h); only "
                        "critical may overlap peak and deep_valley may overlap valley",
                    )
        return self

    def windows(self) -> dict[str, list[tuple[float, float]]]:
        """Windows of each period this rule names, in the order of :data:`PERIOD_NAMES`."""
        out: dict[str, list[tuple[float, float]]] = {}
        for name in PERIOD_NAMES:
            windows = getattr(self, name)
            if windows is not None:
                out[name] = windows
        return out


class Tariff(BaseModel):
    """A time-of-use tariff: energy price per period, period windows by month, basic charges.

    Validated with context ``{"field": <field path>}`` so that messages can name other rules.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    prices_per_kwh: dict[str, float] = Field(description="Energy price of each period [CNY/kWh].")
    default_period: str = Field(description="Period of every minute no window covers.")
    periods: list[TariffRule] = Field(description="Rules; every month 1..12 in exactly one.")
    demand_charge_per_kw_month: float | None = Field(
        default=None, description="Charge on each month's maximum demand [CNY/(kW·month)].")
    capacity_charge_per_kva_month: float | None = Field(
        default=None, description="Charge on transformer capacity [CNY/(kVA·month)].")

    @field_validator("prices_per_kwh", mode="before")
    @classmethod
    def _prices(cls, prices: Any) -> Any:
        if not isinstance(prices, Mapping) or not prices:
            raise ValueError(
                f"a mapping of period name to price [CNY/kWh]; periods: {', '.join(PERIOD_NAMES)}"
            )
        for name, price in prices.items():
            if name not in PERIOD_NAMES:
                raise ScenarioError("", name, f"period names: {', '.join(PERIOD_NAMES)}")
            if not is_number(price) or price < 0:
                raise ScenarioError(str(name), price, "a finite price >= 0 [CNY/kWh]")
        return dict(prices)

    @field_validator("default_period", mode="before")
    @classmethod
    def _default_period(cls, name: Any) -> Any:
        if not isinstance(name, str) or name not in PERIOD_NAMES:
            raise ValueError(f"one of: {', '.join(PERIOD_NAMES)}")
        return name

    @field_validator("periods", mode="before")
    @classmethod
    def _rules(cls, rules: Any) -> Any:
        if not isinstance(rules, list) or not rules:
            raise ValueError("a non-empty list of rules, each with months and windows")
        return rules

    @field_validator("demand_charge_per_kw_month", "capacity_charge_per_kva_month", mode="before")
    @classmethod
    def _charge(cls, charge: Any) -> Any:
        if charge is not None and (not is_number(charge) or charge < 0):
            raise ValueError("null or a finite charge >= 0 [CNY]")
        return charge

    @model_validator(mode="after")
    def _months_and_prices(self, info: ValidationInfo) -> Tariff:
        field = (info.context or {}).get("field", "")
        owner: dict[int, int] = {}
        used = {self.default_period}
        for i, rule in enumerate(self.periods):
            for month in rule.months:
                if month in owner:
                    where = ".".join(p for p in (field, f"periods.{owner[month]}") if p)
                    raise ScenarioError(
                        f"periods.{i}.months", month,
                        f"each month in exactly one rule; month {month} is already in {where}",
                    )
                owner[month] = i
            used.update(rule.windows())
        missing = sorted(set(range(1, 13)) - set(owner))
        if missing:
            raise ScenarioError(
                "periods", f"months {missing} not covered", "every month 1..12 in one rule"
            )
        unpriced = [name for name in PERIOD_NAMES if name in used and name not in self.prices_per_kwh]
        if unpriced:
            raise ScenarioError(
                "prices_per_kwh", dict(self.prices_per_kwh),
                f"a price for every period used: missing {', '.join(unpriced)}",
            )
        return self

    @classmethod
    def parse(cls, tariff: Tariff | Mapping[str, Any], field: str) -> Tariff:
        """A validated tariff from a model (returned as is) or a mapping.

        Raises
        ------
        ScenarioError
            Naming the offending field under ``field``, e.g. ``"grid.tariff.periods.1.months"``.
        """
        if isinstance(tariff, Tariff):
            return tariff
        if not isinstance(tariff, Mapping):
            raise ScenarioError(field, tariff,
                                "a mapping with prices_per_kwh, default_period, periods")
        try:
            return cls.model_validate(dict(tariff), context={"field": field})
        except ValidationError as err:
            raise from_validation_error(err, field) from None


#: Kinds (file stems) whose entries have a model of their own besides :class:`LibraryEntry`.
KIND_MODELS: dict[str, type[BaseModel]] = {"tariffs": Tariff}


def check_entry(entry: Any, kind: str, location: str) -> None:
    """Validate one library entry of ``kind`` read at ``location`` (``"<file>:<key>"``).

    Raises
    ------
    ScenarioError
        Naming ``location`` and the path inside the entry, the value and what is allowed.
    """
    if not isinstance(entry, Mapping):
        raise ScenarioError(location, snippet(entry, 12), "a mapping with at least source and year")
    models: list[type[BaseModel]] = [LibraryEntry]
    if kind in KIND_MODELS:
        models.append(KIND_MODELS[kind])
    for model in models:
        try:
            model.model_validate(dict(entry), context={"field": location})
        except ValidationError as err:
            raise from_validation_error(err, location) from None

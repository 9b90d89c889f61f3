"""Operator format of the schedule (schema 1.1): times with their UTC offset and a time-zone
field, validity, export price and expected cost per interval, revisions that never overwrite,
a CSV metadata sidecar, 1.0 documents still read, and ``ledger update --schedule DIR`` opening
only the plan it needs."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from zeropark.errors import ScenarioError
from zeropark.examples import battery, tiny_dict
from zeropark.operations import publish as pub
from zeropark.operations.commands import find_schedule
from zeropark.operations.ledger import read_actuals, update_state
from zeropark.operations.margins import Margins
from zeropark.operations.schedule import make_schedule
from zeropark.operations.state import state_from_dict
from zeropark.scenario import scenario_from_dict

STATE = {"storage": {"bat": {"soc": 0.5}}, "ev_plugged": []}


def schedule(start: str = "2025-07-01T00:00", **kw):
    sc = scenario_from_dict(tiny_dict(48, storage=[battery(
        energy_kwh=20, power_kw=10, soc_initial=0.5, end_condition="at_least_initial")],
        grid={"import_limit_kw": 1000.0, "export_limit_kw": 100.0,
              "export_price_per_kwh": 0.3}, **kw))
    fc = pd.DataFrame({"time": pd.date_range("2025-07-01", periods=48, freq="h"),
                       "load_kw": 50.0, "import_price_per_kwh": np.tile([0.5, 1.5], 24)})
    return make_schedule(sc, state_from_dict(STATE), start=start, horizon_h=24, step="1h",
                         forecast=fc, margins=Margins.off(),
                         created_at="2026-12-02T00:00:00+00:00")


def test_times_carry_the_offset_and_the_interval_costs_add_up():
    s = schedule()
    meta, ivs = s.doc["metadata"], s.doc["intervals"]
    assert meta["time_zone"] == "UTC+08:00" and meta["utc_offset_h"] == 8.0
    assert meta["start"] == meta["valid_from"] == "2025-07-01T00:00:00+08:00"
    assert meta["valid_to"] == meta["end"] == "2025-07-02T00:00:00+08:00"
    assert all(re.fullmatch(r"2025-07-0[12]T\d\d:00:00\+08:00", iv["start"]) for iv in ivs)
    assert {iv["export_price_per_kwh"] for iv in ivs} == {0.3}
    assert sum(iv["expected_cost"] for iv in ivs) == pytest.approx(
        meta["expected"]["energy_cost"], abs=0.05)
    assert list(s.frame.columns[-6:-4]) == ["export_price_per_kwh", "expected_cost"]
    assert s.start == pd.Timestamp("2025-07-01")  # tz-naive local, as everywhere else


def test_a_site_west_of_greenwich_gets_a_negative_offset():
    assert pub.utc_offset_text(-3.5) == "-03:30" and pub.utc_offset_text(5.75) == "+05:45"


def test_a_version_1_0_document_is_still_read_and_rolled_into_the_state():
    doc = json.loads(pub.schedule_json(schedule().doc))
    old = re.sub(r"(\d\d:\d\d:\d\d)\+08:00", r"\1", json.dumps(doc))
    old_doc = json.loads(old)
    old_doc["schema_version"] = "1.0.0"
    for k in ("time_zone", "utc_offset_h", "valid_from", "valid_to", "revision", "margins"):
        old_doc["metadata"].pop(k)
    for iv in old_doc["intervals"]:
        iv.pop("export_price_per_kwh")
        iv.pop("expected_cost")
    pub.check_schedule(old_doc)
    act = read_actuals(pd.DataFrame({"time": pd.date_range("2025-07-01", periods=24, freq="h"),
                                     "grid_import_kw": 50.0, "ef_kg_per_kwh": 0.5}))
    new, ref = update_state(state_from_dict(STATE), act, old_doc), update_state(
        state_from_dict(STATE), act, doc)
    assert new.state.storage == ref.state.storage and new.drift == ref.drift


def test_actuals_may_carry_the_schedules_offset_but_not_another():
    s = schedule()
    frame = s.frame[["start", "grid_import_kw", "ef_kg_per_kwh"]].rename(columns={"start": "time"})
    act = read_actuals(frame)
    assert act.utc_offset_h == 8.0 and act.time[0] == pd.Timestamp("2025-07-01")
    update_state(state_from_dict(STATE), act, s.doc)
    shifted = frame.assign(time=frame["time"].str.replace("+08:00", "+09:00"))
    with pytest.raises(ScenarioError, match="offset"):
        update_state(state_from_dict(STATE), read_actuals(shifted), s.doc)
    mixed = frame.copy()
    mixed.loc[3, "time"] = "2025-07-01T03:00:00"
    with pytest.raises(ScenarioError, match="one UTC offset"):
        read_actuals(mixed)


def test_folder_lookup_opens_only_the_plan_it_needs(tmp_path, monkeypatch):
    for day in ("2025-06-30T00:00", "2025-07-01T00:00"):
        s = schedule(day) if day.startswith("2025-07") else None
        if s is not None:
            pub.publish(s, tmp_path)
            pub.publish(schedule(day), tmp_path)  # a rerun: revision 2
    (tmp_path / "schedule-20250630T0000.json").write_text("{not json")  # older, never opened
    (tmp_path / "notes.json").write_text("[]")
    (tmp_path / "schedule-20250702T0000.json").write_text("{}")  # after the actuals: skipped
    opened: list[str] = []
    real = pub.read_schedule

    def counting(path):  # the package's own reader, counted
        opened.append(pub.Path(path).name)
        return real(path)

    monkeypatch.setattr(pub, "read_schedule", counting)
    found = find_schedule(tmp_path, "2025-07-01T05:00:00+08:00")
    assert found is not None and found.name == "schedule-20250701T0000.json"
    assert opened == ["schedule-20250701T0000.json"]
    assert json.loads(found.read_text())["metadata"]["revision"] == 2

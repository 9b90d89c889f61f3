"""Operations: the nightly day-ahead dispatch schedule that is always there (docs/operations.md).

Modules (imported on use, so the CLI starts fast):

- :mod:`~zeropark.operations.state` — the state file: SOC, month-to-date peak, year-to-date
  ledger, plugged-in EVs, committed DR events;
- :mod:`~zeropark.operations.forecast` — forecast tables laid over the scenario's profiles;
- :mod:`~zeropark.operations.horizon` — one horizon's scenario variant, profiles and pro-rata
  targets;
- :mod:`~zeropark.operations.schedule` — ``make_schedule``: optimise, or fall back to rules;
- :mod:`~zeropark.operations.evsplit` — exact per-session EV rows and per-pile setpoints;
- :mod:`~zeropark.operations.fallback` — the rule-based plan;
- :mod:`~zeropark.operations.publish` — the shipped JSON Schema, checks and atomic files;
- :mod:`~zeropark.operations.ledger` — rolling metered actuals into the state, drift;
- :mod:`~zeropark.operations.replay` — nightly loop over days, priced against one full run;
- :mod:`~zeropark.operations.commands` — ``zeropark schedule`` and ``zeropark ledger``.
"""

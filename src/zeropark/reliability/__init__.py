"""Reliability tools: explain infeasibility (elastic model, targets, IIS), check numbers and
scaling of a built model, verify solutions independently of the solver, and repair messy CSVs.

Modules: :mod:`zeropark.reliability.names` (readable names of rows and columns),
:mod:`zeropark.reliability.numerics` (finite checks, scaling report, residuals),
:mod:`zeropark.reliability.datacheck` (data conflicts found before solving: EV envelopes,
inverted bounds), :mod:`zeropark.reliability.elastic` (the elastic model and target bounds),
:mod:`zeropark.reliability.csvrepair` (documented repair of messy CSV files).
The user-facing entry point is :func:`zeropark.diagnose.explain`.
"""

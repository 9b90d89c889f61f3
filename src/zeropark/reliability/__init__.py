"""Reliability tools: explain infeasibility (elastic model, target bounds, IIS), check the
numbers and scaling of a built model, verify solutions independently of the solver, and repair
messy CSV files on request.

Modules: :mod:`~zeropark.reliability.names` (readable names of rows and columns),
:mod:`~zeropark.reliability.numerics` (finite checks, scaling report, residuals, solver quality),
:mod:`~zeropark.reliability.datacheck` (conflicts found before solving: EV envelopes, inverted
bounds), :mod:`~zeropark.reliability.elastic` (the elastic model and target bounds),
:mod:`~zeropark.reliability.sentences` (causes in the user's terms),
:mod:`~zeropark.reliability.csvrepair` (documented CSV repair),
:mod:`~zeropark.reliability.commands` (``zeropark diagnose``, ``zeropark repair-csv``).
The entry point used by every solve is :func:`zeropark.diagnose.explain`.
"""

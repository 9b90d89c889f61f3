"""zeropark: source-grid-load-storage dispatch and planning for zero-carbon industrial parks."""

__version__ = "0.1.0"

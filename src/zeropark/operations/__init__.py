"""zeropark.operations package."""

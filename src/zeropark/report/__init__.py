"""zeropark.report package."""

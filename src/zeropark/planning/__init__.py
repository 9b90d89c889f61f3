"""zeropark.planning package."""

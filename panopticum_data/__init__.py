"""Panopticum's data layer: models, set-based reads as DataFrames, audited write services, scores."""

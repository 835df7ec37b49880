"""Labelled cases: the schema, loaders, validation with rejects, adapters, synthetic data."""

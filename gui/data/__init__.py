"""Validation data step: the shared DataFrame table model, the data page and its session."""

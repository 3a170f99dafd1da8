"""Pipelines of the spaceflights project."""

"""Placeholder: filled in by the package issue."""

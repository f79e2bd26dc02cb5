"""Ingest: devices' pushes checked and applied exactly once, and scoped pulls; the sync routes."""

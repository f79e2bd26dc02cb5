"""Flet views, one module per screen; each exposes build(ctx, **route_params) -> ft.View over its view-model."""

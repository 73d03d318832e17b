"""Thin adapters: translate platform payloads to core events and render replies."""

__all__: list[str] = []  # its modules are imported by their own names

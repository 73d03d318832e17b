"""Thin adapters: translate platform payloads to core events and render replies."""

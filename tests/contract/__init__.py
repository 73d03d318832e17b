"""The storage contract: every behaviour of the interface, run once per backend."""

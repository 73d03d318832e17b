"""copbot's platform-agnostic core: what chat events mean for a community of practice."""

__version__ = "0.1.0"

__all__ = ["__version__"]

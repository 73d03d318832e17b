"""Which model the ``[similar] semantic`` setting names, checked and loaded.

Apart from :mod:`~knowledge.semantic.encoders` so that the models never import
each other: the choice knows them all, each imported only when chosen.
"""

from __future__ import annotations

from knowledge.semantic.encoders import (
    Embedder,
    MiniLMEmbedder,
    SemanticUnavailable,
    StaticEmbedder,
)

__all__ = ["check_choice", "int8_tokens", "load_embedder"]


def check_choice(value: str) -> str:
    """``value`` if it names a semantic stage (or "off"); else a ValueError saying what does."""
    if value in ("off", "minilm") or int8_tokens(value) is not None or value.startswith("static:"):
        return value
    raise ValueError(
        "use 'off', 'minilm-int8' (or 'minilm-int8@N', N tokens from 8 to 256), "
        "'minilm' or 'static:/path/to/model'"
    )


def int8_tokens(choice: str) -> int | None:
    """The entries' token cut of an int8 choice: ``minilm-int8`` (the shipped cut, 0) or
    ``minilm-int8@N`` (N from 8 to 256); ``None`` if ``choice`` is no int8 choice."""
    if choice == "minilm-int8":
        return 0
    prefix, _, tokens = choice.partition("@")
    if prefix == "minilm-int8" and tokens.isdigit() and 8 <= int(tokens) <= 256:
        return int(tokens)
    return None


def load_embedder(choice: str) -> Embedder:
    """``minilm``, ``minilm-int8[@N]`` or ``static:/path``; :class:`SemanticUnavailable`
    without the extra."""
    if choice == "minilm":
        return MiniLMEmbedder()
    tokens = int8_tokens(choice)
    if tokens is not None:
        from knowledge.semantic.onnx_encoder import OnnxMiniLMEmbedder

        return OnnxMiniLMEmbedder(max_tokens=tokens) if tokens else OnnxMiniLMEmbedder()
    if choice.startswith("static:"):
        return StaticEmbedder(choice.split(":", 1)[1])
    raise SemanticUnavailable(f"unknown semantic stage {choice!r}")

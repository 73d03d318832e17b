"""How sure the bot is that a past question answers a new one: a calibrated probability.

A raw score margin is not comparable across communities (it was 0.82 precise on one
evaluation set and 0.28 on a forum). Instead, each candidate gets a few features that
say *why* it matched, and a small logistic regression turns them into the probability
that the candidate is a real duplicate. The weights were fitted offline on the two
evaluation sets (``bench/fit_confidence.py``, cross-validated across questions, never
scored on the questions they were fitted on) and live in ``data/confidence.json``.

Pure: no SQL, no storage. :mod:`knowledge.similar` gathers the evidence (the question's
stemmed terms with their idf, each candidate's stems, the ranking scores) and calls
:func:`features` and :meth:`ConfidenceModel.probability`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

#: Feature names, in the order of a model's weights.
LEXICAL_FEATURES = (
    "margin",  # score above the crowd (5th candidate), over the question's own weight
    "gap_next",  # score above the next candidate, over the question's own weight
    "title_cover",  # idf share of the question's terms found in the candidate's title
    "text_cover",  # idf share found anywhere in the candidate
    "rare_cover",  # share of the question's three rarest terms that the candidate has
    "tag_match",  # a candidate tag is one of the question's words
    "accepted",  # the candidate has an accepted answer
    "age",  # log(1 + candidate age in years)
)
SEMANTIC_FEATURES = (
    *LEXICAL_FEATURES,
    "score_share",  # the candidate's words score over the question's own weight (0: no words)
    "cosine",  # embedding cosine with the question
    "cosine_margin",  # cosine above the crowd (the 5th nearest)
    "cosine_gap",  # how far below the nearest candidate's cosine (0 for the nearest)
)
#: How many of the question's rarest terms ``rare_cover`` looks at.
RARE_TERMS = 3


@dataclass(frozen=True, slots=True)
class QueryTerm:
    """One stemmed term of the question: its surface word, stem, and idf."""

    word: str
    stem: str
    idf: float


@dataclass(frozen=True, slots=True)
class Evidence:
    """What one candidate shares with the question, ready for the model."""

    values: dict[str, float]
    matched: tuple[str, ...]  # the question's words the candidate has, rarest first


def features(
    terms: Sequence[QueryTerm],
    *,
    title_stems: frozenset[str],
    text_stems: frozenset[str],
    score: float,
    next_score: float,
    crowd: float,
    own_weight: float,
    tags: Sequence[str] = (),
    accepted: bool = False,
    created_at: datetime | None = None,
    now: datetime | None = None,
    cosine: float | None = None,
    cosine_crowd: float | None = None,
    cosine_best: float | None = None,
) -> Evidence:
    """The features of one candidate (see :data:`LEXICAL_FEATURES`), each about 0..1."""
    total = sum(t.idf for t in terms)
    in_title = [t for t in terms if t.stem in title_stems]
    in_text = [t for t in terms if t.stem in text_stems or t.stem in title_stems]
    rarest = sorted(terms, key=lambda t: (-t.idf, t.stem))[:RARE_TERMS]
    found = {t.stem for t in in_text}
    words = {t.word for t in terms} | {t.stem for t in terms}
    age = 0.0
    if created_at is not None and now is not None:
        age = math.log1p(max(0.0, (now - created_at).total_seconds()) / (365.25 * 86400))
    values = {
        "margin": _ratio(score - crowd, own_weight) if score > 0 else 0.0,
        "gap_next": _ratio(score - next_score, own_weight) if score > 0 else 0.0,
        "title_cover": _ratio(sum(t.idf for t in in_title), total),
        "text_cover": _ratio(sum(t.idf for t in in_text), total),
        "rare_cover": _ratio(sum(1 for t in rarest if t.stem in found), len(rarest)),
        "tag_match": 1.0 if any(tag.lower() in words for tag in tags) else 0.0,
        "accepted": 1.0 if accepted else 0.0,
        "age": age,
        "score_share": _ratio(score, own_weight) if score > 0 else 0.0,
    }
    if cosine is not None:
        values["cosine"] = max(0.0, min(1.0, cosine))
        values["cosine_margin"] = max(0.0, min(1.0, cosine - (cosine_crowd or 0.0)))
        values["cosine_gap"] = max(0.0, min(1.0, (cosine_best or cosine) - cosine))
    matched = tuple(t.word for t in sorted(in_text, key=lambda t: (-t.idf, t.stem)))
    return Evidence(values, matched)


def _ratio(part: float, whole: float) -> float:
    if whole <= 0:
        return 0.0
    return max(0.0, min(1.0, part / whole))


@dataclass(frozen=True, slots=True)
class ConfidenceModel:
    """A logistic regression over named features: ``sigmoid(bias + sum(w * x))``."""

    names: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float

    def logit(self, values: Mapping[str, float]) -> float:
        pairs = zip(self.names, self.weights, strict=True)
        return self.bias + sum(w * values.get(n, 0.0) for n, w in pairs)

    def probability(self, values: Mapping[str, float]) -> float:
        """The probability in ``(0, 1)`` that the candidate is a real duplicate."""
        return sigmoid(self.logit(values))

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(self.names),
            "weights": [round(w, 6) for w in self.weights],
            "bias": round(self.bias, 6),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> ConfidenceModel:
        names = tuple(str(n) for n in raw["features"])
        weights = tuple(float(w) for w in raw["weights"])
        if len(names) != len(weights):
            raise ValueError("a confidence model needs one weight per feature")
        return cls(names, weights, float(raw["bias"]))


def sigmoid(x: float) -> float:
    """The logistic function, safe for any float (no overflow)."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def fit_logistic(
    rows: Sequence[Sequence[float]],
    labels: Sequence[int],
    *,
    l2: float = 1.0,
    iterations: int = 50,
) -> tuple[list[float], float]:
    """Weights and bias of an L2-regularised logistic regression, by Newton's method.

    Small and dependency-free: a handful of features and a few thousand rows. The bias
    is not regularised. Deterministic for the same input.
    """
    if not rows:
        return [], 0.0
    n_features = len(rows[0])
    beta = [0.0] * (n_features + 1)  # bias first
    x_rows = [[1.0, *row] for row in rows]
    for _ in range(iterations):
        gradient = [0.0] * (n_features + 1)
        hessian = [[0.0] * (n_features + 1) for _ in range(n_features + 1)]
        for x, y in zip(x_rows, labels, strict=True):
            p = sigmoid(sum(b * v for b, v in zip(beta, x, strict=True)))
            weight = p * (1 - p)
            for i, xi in enumerate(x):
                gradient[i] += (p - y) * xi
                row = hessian[i]
                for j in range(i, n_features + 1):
                    row[j] += weight * xi * x[j]
        for i in range(1, n_features + 1):
            gradient[i] += l2 * beta[i]
            hessian[i][i] += l2
        for i in range(n_features + 1):
            for j in range(i):
                hessian[i][j] = hessian[j][i]
        hessian[0][0] += 1e-9
        step = _solve(hessian, gradient)
        beta = [b - s for b, s in zip(beta, step, strict=True)]
        if max(abs(s) for s in step) < 1e-8:
            break
    return beta[1:], beta[0]


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (the matrix is small and positive definite)."""
    n = len(vector)
    a = [[*row, v] for row, v in zip(matrix, vector, strict=True)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        a[col], a[pivot] = a[pivot], a[col]
        if abs(a[col][col]) < 1e-12:
            continue
        for r in range(col + 1, n):
            factor = a[r][col] / a[col][col]
            for c in range(col, n + 1):
                a[r][c] -= factor * a[col][c]
    out = [0.0] * n
    for r in range(n - 1, -1, -1):
        if abs(a[r][r]) < 1e-12:
            continue
        out[r] = (a[r][n] - sum(a[r][c] * out[c] for c in range(r + 1, n))) / a[r][r]
    return out


def _load() -> dict[str, Any]:
    text = resources.files("knowledge").joinpath("data/confidence.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


_MODELS = _load()
#: The shipped models (fitted by ``bench/fit_confidence.py``) and their thresholds.
LEXICAL_MODEL = ConfidenceModel.from_json(_MODELS["lexical"])
SEMANTIC_MODEL = ConfidenceModel.from_json(_MODELS["semantic"])
#: From this probability the bot replies in the thread (chosen for precision on the
#: mixed case, where half the questions asked have no earlier duplicate).
SPEAK_THRESHOLD = float(_MODELS["lexical"]["speak"])
SEMANTIC_SPEAK_THRESHOLD = float(_MODELS["semantic"]["speak"])
#: From this probability (and below the speak threshold) the asker alone is told,
#: quietly, that an earlier question is possibly related.
QUIET_THRESHOLD = float(_MODELS["lexical"]["quiet"])
SEMANTIC_QUIET_THRESHOLD = float(_MODELS["semantic"]["quiet"])

__all__ = [
    "LEXICAL_FEATURES",
    "LEXICAL_MODEL",
    "QUIET_THRESHOLD",
    "SEMANTIC_FEATURES",
    "SEMANTIC_MODEL",
    "SEMANTIC_QUIET_THRESHOLD",
    "SEMANTIC_SPEAK_THRESHOLD",
    "SPEAK_THRESHOLD",
    "ChannelThreshold",
    "ConfidenceModel",
    "Evidence",
    "QueryTerm",
    "features",
    "fit_logistic",
    "sigmoid",
]


# ---------------------------------------------------------------------------- per channel

#: Each verdict moves a channel's thresholds by this much: 👎 up, ✅ down.
FEEDBACK_STEP = 0.02
#: How far feedback may move a channel's thresholds, down and up.
MAX_LOWER = 0.10
MAX_RAISE = 0.20


@dataclass(frozen=True, slots=True)
class ChannelThreshold:
    """A channel's speak threshold after its members' feedback, and why."""

    base: float
    solved: int
    not_related: int

    @property
    def shift(self) -> float:
        """Bounded: a channel that keeps rejecting suggestions gets fewer, never none."""
        raw = FEEDBACK_STEP * (self.not_related - self.solved)
        return max(-MAX_LOWER, min(MAX_RAISE, raw))

    def applied(self, threshold: float) -> float:
        return max(0.0, min(1.0, threshold + self.shift))

    @property
    def value(self) -> float:
        return self.applied(self.base)

    def explain(self) -> str:
        if not self.solved and not self.not_related:
            return f"{self.value:.2f} (the shipped threshold: no feedback here yet)"
        return (
            f"{self.value:.2f}: {self.base:.2f} {'+' if self.shift >= 0 else '−'} "
            f"{abs(self.shift):.2f} from {self.not_related} 👎 and {self.solved} ✅ here "
            f"(each moves it by {FEEDBACK_STEP:.2f}, within −{MAX_LOWER:.2f}…+{MAX_RAISE:.2f})"
        )

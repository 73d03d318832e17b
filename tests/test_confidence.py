"""The calibrated confidence (knowledge.confidence): features, the model, per-channel shifts."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowledge.confidence import (
    LEXICAL_FEATURES,
    LEXICAL_MODEL,
    SEMANTIC_MODEL,
    ChannelThreshold,
    ConfidenceModel,
    QueryTerm,
    features,
    fit_logistic,
    sigmoid,
)

TERMS = [
    QueryTerm("arpeggio", "arpeggio", 5.0),
    QueryTerm("tracker", "tracker", 3.0),
    QueryTerm("how", "how", 0.2),
]
unit = st.floats(min_value=0.0, max_value=1.0)


@given(st.floats(min_value=-1e6, max_value=1e6))
def test_sigmoid_is_a_probability(x: float) -> None:
    assert 0.0 <= sigmoid(x) <= 1.0
    assert sigmoid(x) == pytest.approx(1 - sigmoid(-x), abs=1e-12)


@given(st.dictionaries(st.sampled_from(LEXICAL_FEATURES), unit), unit, unit)
def test_shipped_model_is_monotonic_in_the_margin(
    values: dict[str, float], a: float, b: float
) -> None:
    # More margin over the crowd never makes a candidate less likely, and stays in (0, 1).
    low, high = sorted((a, b))
    p_low = LEXICAL_MODEL.probability({**values, "margin": low})
    p_high = LEXICAL_MODEL.probability({**values, "margin": high})
    assert 0.0 <= p_low <= p_high <= 1.0


def test_shipped_models_weigh_the_evidence_that_separates_duplicates() -> None:
    weights = dict(zip(LEXICAL_MODEL.names, LEXICAL_MODEL.weights, strict=True))
    assert weights["margin"] > 0 and weights["title_cover"] > 0
    semantic = dict(zip(SEMANTIC_MODEL.names, SEMANTIC_MODEL.weights, strict=True))
    assert semantic.get("cosine_margin", 0) > 0 or semantic.get("cosine", 0) > 0


def test_features_say_what_matched_rarest_first() -> None:
    evidence = features(
        TERMS,
        title_stems=frozenset({"tracker"}),
        text_stems=frozenset({"arpeggio", "tracker", "the"}),
        score=6.0,
        next_score=3.0,
        crowd=2.0,
        own_weight=8.0,
    )
    assert evidence.matched == ("arpeggio", "tracker")
    v = evidence.values
    assert v["margin"] == pytest.approx(0.5) and v["gap_next"] == pytest.approx(3 / 8)
    assert v["title_cover"] == pytest.approx(3 / 8.2)
    assert v["text_cover"] == pytest.approx(8 / 8.2)
    assert v["rare_cover"] == pytest.approx(2 / 3)
    assert all(0.0 <= x <= 1.0 for x in v.values())


def test_features_are_bounded_for_any_scores() -> None:
    evidence = features(
        TERMS,
        title_stems=frozenset(),
        text_stems=frozenset(),
        score=1e9,
        next_score=-5,
        crowd=-5,
        own_weight=1e-9,
    )
    assert all(0.0 <= x <= 1.0 for x in evidence.values.values())
    assert (
        features(
            [],
            title_stems=frozenset(),
            text_stems=frozenset(),
            score=0,
            next_score=0,
            crowd=0,
            own_weight=0,
        ).values["margin"]
        == 0.0
    )


def test_fit_logistic_recovers_a_known_model() -> None:
    # Rows drawn from p = sigmoid(-2 + 4x), deterministically: the fit finds it again.
    rows, labels = [], []
    for i in range(2000):
        x = (i % 100) / 100
        p = sigmoid(-2 + 4 * x)
        rows.append([x])
        labels.append(int((i * 0.6180339887) % 1 < p))
    weights, bias = fit_logistic(rows, labels, l2=0.0)
    assert weights[0] == pytest.approx(4, abs=0.5) and bias == pytest.approx(-2, abs=0.3)


def test_model_round_trips_through_json() -> None:
    model = ConfidenceModel(("margin", "title_cover"), (2.0, 1.0), -1.0)
    again = ConfidenceModel.from_json(model.to_json())
    assert again == model
    assert again.probability({"margin": 1.0}) == pytest.approx(sigmoid(1.0))
    with pytest.raises(ValueError):
        ConfidenceModel.from_json({"features": ["a"], "weights": [], "bias": 0})


@given(st.integers(0, 500), st.integers(0, 500), unit)
def test_channel_threshold_is_bounded(solved: int, rejected: int, base: float) -> None:
    channel = ChannelThreshold(base, solved, rejected)
    assert -0.10 - 1e-9 <= channel.shift <= 0.20 + 1e-9
    assert 0.0 <= channel.value <= 1.0
    more = ChannelThreshold(base, solved, rejected + 1)
    assert more.value >= channel.value  # another 👎 never lowers it


def test_channel_threshold_moves_by_one_step_per_verdict_and_explains() -> None:
    assert ChannelThreshold(0.4, 0, 0).value == 0.4
    assert ChannelThreshold(0.4, 0, 3).value == pytest.approx(0.46)
    assert ChannelThreshold(0.4, 2, 0).value == pytest.approx(0.36)
    assert "3 👎 and 1 ✅" in ChannelThreshold(0.4, 1, 3).explain()
    assert math.isclose(ChannelThreshold(0.4, 0, 100).value, 0.6)

"""A shifted client population's changes, feature by feature, and the errors that name what
an experiment got wrong."""

from __future__ import annotations

import pytest

from gameday.errors import FaultError
from gameday.platforms.shift import parse_shift, shifted

ROWS = [{"amount": 12.34, "hour": 20, "merchant_risk": 0.85, "foreign": False,
         "card_age_days": 400}] * 200
EXPERIMENT_SHIFT = {"amount": {"scale": 100}, "hour": {"add": 6, "modulo": 24},
                    "merchant_risk": {"add": 0.3, "low": 0, "high": 1},
                    "foreign": {"share_true": 0.9}}


def test_each_feature_changes_as_its_shift_says_and_the_others_do_not() -> None:
    rows = shifted(ROWS, parse_shift(EXPERIMENT_SHIFT), seed=7)
    first = rows[0]
    assert first["amount"] == pytest.approx(1234.0)  # cents for euros
    assert first["hour"] == 2 and isinstance(first["hour"], int)  # 20 + 6, wrapped at 24
    assert first["merchant_risk"] == 1.0  # 1.15, clipped into the field's range
    assert first["card_age_days"] == 400
    foreign = sum(row["foreign"] for row in rows) / len(rows)
    assert 0.8 < foreign < 1.0 and all(isinstance(row["foreign"], bool) for row in rows)


def test_the_same_seed_gives_the_same_population() -> None:
    shift = parse_shift(EXPERIMENT_SHIFT)
    assert shifted(ROWS, shift, seed=3) == shifted(ROWS, shift, seed=3)


@pytest.mark.parametrize(("shift", "message"), [
    ({"amount": {"scael": 100}}, "shift.amount.scael: Extra inputs are not permitted"),
    ({"amount": {"scale": -1}}, "shift.amount.scale: Input should be greater than 0"),
    ({"amount": {}}, "shift.amount: Value error, changes nothing"),
    ({"foreign": {"share_true": 0.5, "add": 1}}, "share_true is for a flag"),
    ({}, "shift: expected a mapping"),
])
def test_a_bad_shift_is_refused_naming_the_feature_and_field(shift: dict[str, object],
                                                             message: str) -> None:
    with pytest.raises(FaultError, match=message.replace(".", r"\.")):
        parse_shift(shift)


def test_a_feature_the_requests_lack_or_of_the_wrong_kind_is_refused() -> None:
    with pytest.raises(FaultError, match="no feature amonut in the requests"):
        shifted(ROWS, parse_shift({"amonut": {"scale": 100}}), seed=1)
    with pytest.raises(FaultError, match="share_true shifts a flag"):
        shifted(ROWS, parse_shift({"amount": {"share_true": 1}}), seed=1)
    with pytest.raises(FaultError, match="scale/add shift a number"):
        shifted(ROWS, parse_shift({"foreign": {"scale": 2}}), seed=1)

"""What crosses from the worker to the caller is an error code; refusals and outages are apart."""

from chatrec.contracts import OUTAGES, ErrorCode
from recommender.domain.errors import REFUSALS, ModelUnavailable, Outage, RecommenderError
from recommender.tasks.client import ServiceUnavailable


def test_every_code_is_a_refusal_or_an_outage_with_one_class() -> None:
    assert set(REFUSALS) | OUTAGES == set(ErrorCode) and not set(REFUSALS) & OUTAGES
    assert all(cls.code is code and issubclass(cls, RecommenderError) for code, cls in REFUSALS.items())


def test_an_outage_is_not_a_refusal() -> None:
    for outage in (ModelUnavailable, ServiceUnavailable):
        assert issubclass(outage, Outage) and not issubclass(outage, RecommenderError)
    assert ModelUnavailable.code in OUTAGES

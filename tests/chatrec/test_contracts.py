"""What a rating means is decided once (chatrec/contracts.py); storage, serving and retraining
each read it from there (tests in their own folders)."""

import pytest

from chatrec.contracts import TRAINS_AS_POSITIVE, Feedback, Meaning, meaning, stars_meaning


@pytest.mark.parametrize(("stars", "expected"), [(5, Meaning.LIKED), (4, Meaning.LIKED), (3.5, Meaning.SEEN),
                                                 (3, Meaning.SEEN), (2, Meaning.DISLIKED), (0, Meaning.DISLIKED)])
def test_what_a_rating_means(stars: float, expected: Meaning) -> None:
    assert stars_meaning(stars) is expected
    assert meaning("rating", stars) is expected


def test_every_kind_has_a_meaning_and_positives_are_what_was_watched_and_not_disliked() -> None:
    assert {kind: meaning(kind.value, 3) for kind in Feedback} == {
        Feedback.LIKE: Meaning.LIKED, Feedback.DISLIKE: Meaning.DISLIKED, Feedback.SEEN: Meaning.SEEN,
        Feedback.RATING: Meaning.SEEN, Feedback.SHOWN: Meaning.SHOWN}
    assert TRAINS_AS_POSITIVE == {Meaning.LIKED, Meaning.SEEN}
    with pytest.raises(ValueError):
        meaning("adore")

"""Money tests prove the books after each test: ``verify_books`` must find nothing."""

import pytest


@pytest.fixture(autouse=True)
def english():
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def books_add_up(db):
    yield
    from watermis.billing.verify import verify_books

    assert verify_books() == []

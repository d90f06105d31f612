"""Fixtures the money tests share; a test folder's conftest imports them by name
(autouse there): pages and threads speak English, stored files stay in memory, and the
ledger's ``verify`` is clean after every test."""

import pytest


@pytest.fixture(autouse=True)
def english(settings, client):
    from django.utils import translation

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def memory_storage(settings):
    """E-invoice files go to memory, not to the data folder."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }


@pytest.fixture(autouse=True)
def books_add_up(db):
    yield
    from watermis.billing.verify import verify_books

    assert verify_books() == []

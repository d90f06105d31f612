"""Settings for the test suite: the normal settings with fast password hashing."""

import os

os.environ.setdefault("WATERMIS_TESTING", "1")

from .settings import *  # noqa: E402, F403

# Stored files (e-invoice PDF and XML) stay in memory: tests never write into the data folder.
STORAGES = {  # noqa: F405
    **STORAGES,  # noqa: F405
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
}

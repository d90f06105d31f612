"""Settings for the test suite: the normal settings with fast password hashing."""

import os

os.environ.setdefault("WATERMIS_TESTING", "1")

from .settings import *  # noqa: E402, F403

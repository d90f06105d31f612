"""What a server process does once, after Django's set-up and before its first request."""

import gc


def settle_heap():
    """Load every page's code (the URL configuration imports the views), then take what
    exists now out of the garbage collector's rounds (``gc.freeze``).

    A loaded WaterMIS holds a few hundred thousand objects that live as long as the process.
    Without this, each full collection walks all of them again: tens of milliseconds, paid
    by whichever request happens to trigger it (one counter payment in a few hundred). Under
    a server that forks workers from a loaded parent, frozen objects also keep their memory
    pages shared (nothing writes their collector headers).
    """
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports every URL's views
    gc.collect()
    gc.freeze()

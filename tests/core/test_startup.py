"""The server's start-up: the whole application loaded, then frozen for the collector."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wsgi_application_freezes_its_start_up_heap():
    script = (
        "import gc, sys; sys.path.insert(0, 'src'); import watermis.wsgi; "
        "from django.urls import get_resolver; "
        "print(gc.get_freeze_count(), len(get_resolver().reverse_dict))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "watermis.test_settings"}
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    frozen, urls = map(int, out.stdout.split())
    assert urls > 100  # every app's pages were loaded before the freeze
    assert frozen > 100_000  # Django, the apps and their pages: out of the collector's rounds

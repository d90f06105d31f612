"""The demo water company: every module adds its part here, in dependency order.

``build_demo`` is deterministic for a given seed. Each part writes in bulk
and journals what it writes, so the generator scales to benchmark sizes.
"""

import random

from django.db import transaction

from watermis.core.journal import audit_context
from watermis.org import demo as org_demo
from watermis.org.models import Company
from watermis.tariffs import demo as tariffs_demo


def demo_exists():
    return Company.objects.exists()


def build_demo(seed=2026, staff_per_unit=8):
    """Build the demo company in one transaction; returns what was built."""
    rng = random.Random(seed)
    with audit_context(source="command:load_demo"), transaction.atomic():
        built = org_demo.build(rng, staff_per_unit=staff_per_unit)
        built.update(tariffs_demo.build(rng))
    return built


def demo_logins():
    """(username, role, zone) of each demo operator, for the README and the console."""
    return [(username, role, zone or "*") for username, role, zone, _flag in org_demo.OPERATORS]

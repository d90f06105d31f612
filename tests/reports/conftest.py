"""The reports' small data: the invoices' town (bills of three months) for the facts' mechanics."""

from tests.invoices.conftest import (  # noqa: F401 - fixtures
    DAY,
    MONTHS,
    items,
    kinds,
    make_bill,
    town,
)

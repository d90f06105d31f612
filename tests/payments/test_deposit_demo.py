"""The demo company's prepaid deposits: taken at the counter and by channels, one corrected,
a company-wide transfer with one transfer undone, a deposit paying bills at once."""

import datetime

from django.db.models import Sum

from watermis.billing.models import Account
from watermis.billing.verify import verify_books
from watermis.demo import build_demo
from watermis.payments.models import (
    Deposit,
    DepositChannel,
    DepositCorrection,
    DepositTransfer,
    TransferRun,
    TransferTrigger,
    TransferUndo,
)


def test_demo_deposits(db):
    built = build_demo(seed=3, customers=600, today=datetime.date(2026, 11, 24))
    data = built["deposit_data"]
    assert data["deposits"] == Deposit.objects.count() >= 20
    assert Deposit.objects.exclude(channel=DepositChannel.COUNTER).exists()
    assert DepositCorrection.objects.count() == 1
    company = TransferRun.objects.get(trigger=TransferTrigger.MANUAL)
    assert company.zone is None and company.customers == data["transferred"] > 0
    assert TransferUndo.objects.count() == 1
    assert TransferRun.objects.filter(trigger=TransferTrigger.COUNTER).count() == 1
    assert DepositTransfer.objects.count() == company.customers + 1
    assert Account.objects.aggregate(t=Sum("deposit"))["t"] > 0
    assert not Account.objects.filter(deposit__lt=0).exists()
    assert verify_books() == []

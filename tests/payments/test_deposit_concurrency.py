"""Deposits and transfers on the same account at the same moment, on PostgreSQL (row locks):
nothing is lost, no bill is paid twice, a channel's callback repeated at once is taken once,
a correction racing a transfer never takes the deposit below zero."""

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum

from watermis.billing.models import Account, Allocation
from watermis.billing.verify import verify_books
from watermis.payments import deposits
from watermis.payments.models import Deposit, DepositChannel, DepositTransfer

from .conftest import NOW, D
from .test_counter_concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def paid_twice():
    """Debit entries allocated more than their amount (a bill paid twice)."""
    over = []
    for debit_id, total in (
        Allocation.objects.values("debit_id").annotate(t=Sum("amount")).values_list("debit_id", "t")
    ):
        if total > Allocation.objects.filter(debit_id=debit_id).first().debit.amount:
            over.append(debit_id)
    return over


def start_and_run(actor, zone):
    run = deposits.start_transfer(actor, zone, now=NOW)
    return deposits.run_transfer(run.pk)


def test_deposits_and_transfers_at_once_on_one_account(town, bills, cashier, cashier2, clerk_a):
    customer = town["customers"][0]  # bills of 40.00, 44.00, 48.00
    zone = town["book"].area.zone
    calls = [
        lambda who=who: deposits.take_deposit(who, customer, "50", pay_bills=True, now=NOW)
        for who in (cashier, cashier2, cashier, cashier2)
    ]
    calls += [lambda: start_and_run(clerk_a, zone)]
    results, errors = run_together(calls)
    # a second manual run of the zone may be refused while the first runs; nothing else fails
    assert all(isinstance(e, ValidationError) and "running" in e.messages[0] for e in errors), (
        errors
    )
    assert Deposit.objects.count() == 4
    moved = DepositTransfer.objects.aggregate(t=Sum("amount"))["t"]
    assert moved == D("132.00")  # all three bills, each once
    assert Account.objects.get(pk=customer.pk).deposit == D("200.00") - D("132.00")
    assert Account.objects.get(pk=customer.pk).balance == 0
    assert paid_twice() == []
    assert verify_books() == []


def test_a_callback_repeated_at_once_is_taken_once(town, bills, cashier, cashier2):
    customer = town["customers"][1]
    calls = [
        lambda who=who: deposits.take_deposit(
            who, customer, "88.80", channel=DepositChannel.ALIPAY, reference="ALI-7", now=NOW
        )
        for who in (cashier, cashier2, cashier, cashier2)
    ]
    results, errors = run_together(calls)
    assert errors == []
    assert len({d.pk for d in results}) == 1 and sum(1 for d in results if not d.repeated) == 1
    assert Deposit.objects.count() == 1
    assert Account.objects.get(pk=customer.pk).deposit == D("88.80")
    assert verify_books() == []


def test_a_correction_racing_a_transfer_never_goes_below_zero(town, bills, cashier, clerk_a):
    customer = town["customers"][1]  # first bill 44.00
    deposit = deposits.take_deposit(cashier, customer, "44", now=NOW)
    zone = town["book"].area.zone
    results, errors = run_together(
        [
            lambda: deposits.correct_deposit(cashier, deposit, "typed wrong", now=NOW),
            lambda: start_and_run(clerk_a, zone),
        ]
    )
    account = Account.objects.get(pk=customer.pk)
    assert account.deposit == 0
    # either the correction came first (the transfer found nothing) or the transfer did
    # (the correction was refused)
    if errors:
        assert "Undo those transfers first" in errors[0].messages[0]
        assert DepositTransfer.objects.count() == 1
    else:
        assert DepositTransfer.objects.count() == 0
    assert verify_books() == []

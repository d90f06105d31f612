"""The demo company's prepaid deposits, taken through :mod:`watermis.payments.deposits` like
any other (locked, checked, journaled):

- customers paying by prepaid deposit put money in over the last weeks, at the counter
  (``cashier``, ``cashier2``) or by WeChat Pay / Alipay (a channel reference each);
- one deposit typed wrong this morning and corrected by its cashier;
- ``manager`` ran a company-wide transfer: every unpaid bill a deposit covers is paid,
  oldest first; one transfer was undone (a read found wrong), its bills unpaid again;
- this morning a customer deposited at the counter and paid her bills from it at once.

Last month's bills, waiting for the clerk's bill run, are paid from the deposits as each
book is billed (``deposits.transfer_after_bill_run``).
"""

import datetime
from decimal import Decimal

from django.utils import timezone

from watermis.billing.bills import open_bills
from watermis.billing.models import Bill
from watermis.customers.models import Customer, PaymentMethod
from watermis.org.models import Operator

from . import deposits
from .models import CounterMethod, DepositChannel

HOW_MANY = 24


def _at(day, hour, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def _owed(customer_ids):
    totals = {}
    for bill in open_bills(queryset=Bill.objects.filter(customer_id__in=customer_ids)):
        totals[bill.customer_id] = totals.get(bill.customer_id, Decimal(0)) + bill.open_amount
    return totals


def build(rng, today=None):
    """The deposits; returns counts."""
    today = today or timezone.localdate()
    staff = {
        o.username: o
        for o in Operator.objects.filter(username__in=("cashier", "cashier2", "manager"))
    }
    if len(staff) < 3:
        return {"deposits": 0}
    cashier, cashier2, manager = staff["cashier"], staff["cashier2"], staff["manager"]
    prepaid = list(
        Customer.objects.filter(payment_method=PaymentMethod.PREPAID)
        .exclude(status="closed")
        .order_by("account_no")[: HOW_MANY * 3]
    )
    rng.shuffle(prepaid)
    prepaid = sorted(prepaid[:HOW_MANY], key=lambda c: c.account_no)
    owed = _owed([c.pk for c in prepaid])
    taken = []
    for n, customer in enumerate(prepaid):
        day = today - datetime.timedelta(days=rng.randint(3, 40))
        need = owed.get(customer.pk, Decimal(0))
        amount = max(
            Decimal(100), (need * 2 / 100).to_integral_value(rounding="ROUND_CEILING") * 100
        )
        if n % 5 == 4:  # not enough for everything: the oldest bills only, or none
            amount = max(Decimal(20), (need / 2).quantize(Decimal("1")))
        # cashier2 serves her own zone; cashier every zone (F1.2)
        operator = cashier2 if customer.zone_id == cashier2.unit.zone_id and n % 2 else cashier
        if n % 3 == 1:
            channel = rng.choice([DepositChannel.WECHAT, DepositChannel.ALIPAY])
            reference = f"{channel.upper()}{day:%Y%m%d}{rng.randint(10**9, 10**10 - 1)}"
            deposit = deposits.take_deposit(
                cashier,
                customer,
                amount,
                channel=channel,
                reference=reference,
                now=_at(day, rng.randint(7, 22), rng.randint(0, 59)),
            )
        else:
            tendered = (amount / 50).to_integral_value(rounding="ROUND_CEILING") * 50
            deposit = deposits.take_deposit(
                operator,
                customer,
                amount,
                method=CounterMethod.CASH,
                tendered=tendered,
                now=_at(day, rng.randint(8, 16), rng.randint(0, 59)),
            )
        taken.append(deposit)

    # the company-wide transfer (the task's body run here, as the worker would)
    run = deposits.start_transfer(manager, None, now=_at(today - datetime.timedelta(days=2), 17))
    run = deposits.run_transfer(run.pk)
    undone = 0
    first = run.transfers.order_by("customer__account_no").first()
    if first is not None:
        deposits.undo_transfer(
            manager, first, "抄表数据有误，待更正后重新转账", now=_at(today, 8, 40)
        )
        undone = 1

    # this morning: a deposit typed wrong and corrected, one paying the bills at once
    rest = [c for c in prepaid if c.zone_id == cashier.unit.zone_id]
    if rest:
        wrong = deposits.take_deposit(
            cashier, rest[0], "1000", tendered="1000", now=_at(today, 9, 5)
        )
        deposits.correct_deposit(cashier, wrong, "金额录入错误（应为100元）", now=_at(today, 9, 7))
        deposits.take_deposit(cashier, rest[0], "100", tendered="100", now=_at(today, 9, 8))
    zone_customers = Customer.objects.filter(zone_id=cashier.unit.zone_id).order_by("account_no")
    owing = _owed(list(zone_customers.values_list("pk", flat=True)[:400]))
    paying = next((c for c in zone_customers[:400] if owing.get(c.pk, 0) > 0), None)
    if paying is not None:
        need = owing[paying.pk]
        amount = (need / 100).to_integral_value(rounding="ROUND_CEILING") * 100
        deposits.take_deposit(
            cashier, paying, amount, tendered=amount, pay_bills=True, now=_at(today, 9, 30)
        )
    return {"deposits": len(taken) + 3, "transferred": run.customers, "undone": undone}

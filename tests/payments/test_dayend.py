"""The cashier's day-end figures (F8.1): taken by method, reversals on the day they are made
and by whom, waivers, cash expected in the drawer, and cross-zone payments under both zones."""

import datetime

from django.contrib.auth.models import Permission

from watermis.payments import counter, queries
from watermis.payments.models import CounterPayment, LateFeeWaiver

from .conftest import NOW, D, screen

LATER = NOW + datetime.timedelta(days=1)


def test_day_end_by_cashier_and_day(town, bills, cashier, cashier2, manager, org):
    zhang, li, _wang, west = town["customers"]
    cashier.user_permissions.add(Permission.objects.get(codename="pay_other_zone"))
    cashier = type(cashier).objects.get(pk=cashier.pk)
    cash = counter.take_payment(
        cashier,
        screen(
            zhang, bills[zhang.pk][:1], tendered=D("50"), waiver=D("1.00"), waiver_reason="减免"
        ),
        now=NOW,
    )
    counter.take_payment(cashier, screen(zhang, bills[zhang.pk][2:], method="wechat"), now=NOW)
    crossed = counter.take_payment(cashier, screen(west, bills[west.pk][2:]), now=NOW)
    other = counter.take_payment(cashier2, screen(li, bills[li.pk][2:]), now=NOW)
    counter.reverse_payment(manager, cash, "错收", now=LATER)  # the next day, by a supervisor

    payments = CounterPayment.objects.all()
    today = queries.day_end(
        payments, LateFeeWaiver.objects.all(), date_from=NOW.date(), date_to=NOW.date()
    )
    by_name = {row.cashier: row for row in today}
    mine = by_name["Cashier_X"]
    assert mine.count == 3 and mine.cross_count == 1 and mine.cross_amount == crossed.credit
    assert mine.method_net("wechat") == D("48.00")
    assert mine.cash_expected == cash.credit + crossed.credit  # reversed tomorrow, not today
    assert mine.waiver_count == 0  # the waiver went with its payment
    assert by_name["Cashier_Y"].taken == other.credit
    tomorrow = queries.day_end(payments, date_from=LATER.date(), date_to=LATER.date())
    assert [(r.cashier, r.reversed_count, r.reversed, r.cash_expected) for r in tomorrow] == [
        ("Manager", 1, cash.credit, -cash.credit)
    ]
    total = queries.day_end_totals(today)
    assert total.count == 4 and total.taken == sum(p.credit for p in payments)
    # F1.2: the west zone sees the cross-zone payment, and so does the east
    west_rows = queries.day_end(queries.in_zone(payments, org["zone_b"]), date_from=NOW.date())
    assert [(r.cashier, r.count) for r in west_rows] == [("Cashier_X", 1)]
    zones = queries.zone_totals(payments, date_from=NOW.date(), date_to=NOW.date())
    assert {(z["zone"], z["cashier_zone"], z["count"]) for z in zones} == {
        ("东城区", "东城区", 2),
        ("西城区", "东城区", 1),
    }

"""Late fees: the arithmetic (worked examples, properties), a customer's arrears, charging."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections
from hypothesis import given, settings
from hypothesis import strategies as st

from watermis.billing import ledger
from watermis.billing.latefees import (
    EXEMPT_BANK,
    EXEMPT_BILL,
    EXEMPT_LOW_INCOME,
    HALF_UP,
    TRUNCATE,
    LateFeeRules,
    arrears,
    arrears_for,
    charge_late_fees,
    exemption,
    late_fee,
)
from watermis.billing.models import Bill, EntryKind, LateFeeCharge, LedgerEntry
from watermis.billing.verify import verify_books
from watermis.core.models import AuditEntry
from watermis.customers import services as customer_services
from watermis.customers.models import PaymentMethod
from watermis.system.models import Parameter
from watermis.tariffs import services as tariff_services
from watermis.tariffs.models import CategoryKind

from .factories import make_bill

D = Decimal
DAY = datetime.date
RULES = LateFeeRules(daily_rate=D("0.003"), grace_days=0, cap_principal=True, rounding=TRUNCATE)
NO_GRACE_5 = LateFeeRules(daily_rate=D("0.005"), grace_days=0)


def rules(**changes):
    values = {"daily_rate": D("0.003"), "grace_days": 0, "cap_principal": True}
    values.update(changes)
    return LateFeeRules(**values)


# --- the arithmetic: worked examples ---------------------------------------------------------


def test_domain_worked_example():
    """DOMAIN.md §2: principal 152.00, 30 days at 3‰ → 13.68 (at 5‰ → 22.80)."""
    due = DAY(2026, 3, 31)
    fee = late_fee(D("152.00"), due, DAY(2026, 4, 30), RULES)
    assert (fee.amount, fee.days) == (D("13.68"), 30)
    assert (fee.accrues_from, fee.through) == (DAY(2026, 4, 1), DAY(2026, 4, 30))
    assert (fee.principal, fee.rate, fee.capped) == (D("152.00"), D("0.003"), False)
    assert late_fee(D("152.00"), due, DAY(2026, 4, 30), NO_GRACE_5).amount == D("22.80")
    assert "152.00 × 0.003 per day × 30 days (2026-04-01 to 2026-04-30) = 13.68" in fee.explain()


def test_grace_days_then_the_first_day_counts():
    grace = rules(grace_days=15)
    due = DAY(2026, 3, 31)
    inside = late_fee(D("100.00"), due, DAY(2026, 4, 15), grace)
    assert (inside.amount, inside.days, inside.through) == (D("0.00"), 0, None)
    assert inside.accrues_from == DAY(2026, 4, 16)
    assert "No late fee before 2026-04-16" in inside.explain()
    first = late_fee(D("100.00"), due, DAY(2026, 4, 16), grace)
    assert (first.amount, first.days) == (D("0.30"), 1)
    # on the due date itself, and before it, nothing
    assert late_fee(D("100.00"), due, due, RULES).amount == 0
    assert late_fee(D("100.00"), due, DAY(2026, 3, 1), RULES).days == 0


def test_across_a_year_boundary():
    fee = late_fee(D("200.00"), DAY(2025, 12, 25), DAY(2026, 1, 4), RULES)
    assert (fee.accrues_from, fee.days, fee.amount) == (DAY(2025, 12, 26), 10, D("6.00"))
    graced = late_fee(D("200.00"), DAY(2025, 12, 20), DAY(2026, 1, 10), rules(grace_days=15))
    assert (graced.accrues_from, graced.days) == (DAY(2026, 1, 5), 6)


def test_leap_year_counts_29_february():
    leap = late_fee(D("100.00"), DAY(2028, 2, 20), DAY(2028, 3, 1), RULES)
    plain = late_fee(D("100.00"), DAY(2027, 2, 20), DAY(2027, 3, 1), RULES)
    assert (leap.days, leap.amount) == (10, D("3.00"))
    assert (plain.days, plain.amount) == (9, D("2.70"))


def test_truncate_or_round_half_up_to_the_fen():
    due, on = DAY(2026, 1, 31), DAY(2026, 2, 1)
    # 101.70 × 0.003 × 1 = 0.3051
    assert late_fee(D("101.70"), due, on, rules(rounding=TRUNCATE)).amount == D("0.30")
    assert late_fee(D("101.70"), due, on, rules(rounding=HALF_UP)).amount == D("0.31")
    # 0.305 exactly: half up goes up, truncation down
    assert late_fee(
        D("50.00"), due, on, rules(rounding=HALF_UP, daily_rate=D("0.0061"))
    ).amount == D("0.31")
    assert late_fee(
        D("50.00"), due, on, rules(rounding=TRUNCATE, daily_rate=D("0.0061"))
    ).amount == D("0.30")


def test_cap_at_the_bill_amount_counts_earlier_charges():
    due, on = DAY(2026, 1, 31), DAY(2026, 3, 2)  # 30 days
    high = rules(daily_rate=D("0.05"))  # 150 % of the principal
    fee = late_fee(D("100.00"), due, on, high)
    assert (fee.amount, fee.capped) == (D("100.00"), True)
    assert "capped" in fee.explain()
    assert late_fee(
        D("100.00"), due, on, rules(daily_rate=D("0.05"), cap_principal=False)
    ).amount == D("150.00")
    # 40 charged before: only 60 more, whatever the days
    more = late_fee(D("100.00"), due, on, high, charged=D("40.00"), charged_through=DAY(2026, 2, 5))
    assert (more.amount, more.capped, more.days) == (D("60.00"), True, 25)
    # the cap is the bill amount, not what is still unpaid of it
    part = late_fee(D("10.00"), due, on, high, bill_amount=D("100.00"), charged=D("95.00"))
    assert (part.amount, part.capped) == (D("5.00"), True)
    full = late_fee(D("100.00"), due, on, high, charged=D("100.00"))
    assert full.amount == 0 and full.days == 30


def test_charged_through_moves_the_start():
    due = DAY(2026, 1, 31)
    fee = late_fee(
        D("100.00"),
        due,
        DAY(2026, 3, 12),
        RULES,
        charged=D("3.00"),
        charged_through=DAY(2026, 3, 2),
    )
    assert (fee.accrues_from, fee.days, fee.amount) == (DAY(2026, 3, 3), 10, D("3.00"))
    # charged through the as-of date: nothing more that day
    again = late_fee(D("100.00"), due, DAY(2026, 3, 12), RULES, charged_through=DAY(2026, 3, 12))
    assert again.amount == 0 and again.days == 0
    # a charge inside the grace period does not move the start back
    graced = late_fee(
        D("100.00"), due, DAY(2026, 2, 20), rules(grace_days=15), charged_through=DAY(2026, 2, 1)
    )
    assert graced.accrues_from == DAY(2026, 2, 16)


def test_exempt_and_nothing_open():
    due, on = DAY(2026, 1, 31), DAY(2026, 3, 2)
    for why in (EXEMPT_BANK, EXEMPT_LOW_INCOME, EXEMPT_BILL):
        fee = late_fee(D("100.00"), due, on, RULES, exempt=why)
        assert fee.amount == 0 and fee.days == 0 and fee.exempt == why
        assert fee.explain().startswith("No late fee:")
    assert late_fee(D("0.00"), due, on, RULES).amount == 0
    assert exemption(PaymentMethod.BANK, True, True) == EXEMPT_BANK
    assert exemption(PaymentMethod.COUNTER, True, True) == EXEMPT_LOW_INCOME
    assert exemption(PaymentMethod.PREPAID, False, True) == EXEMPT_BILL
    assert exemption(PaymentMethod.COLLECTOR, False, False) == ""


def test_rules_refuse_nonsense():
    with pytest.raises(ValueError):
        LateFeeRules(daily_rate=D("0.003"), grace_days=0, rounding="ceiling")
    with pytest.raises(ValueError):
        LateFeeRules(daily_rate=D("-0.001"), grace_days=0)


def test_rules_come_from_the_parameters():
    assert LateFeeRules.from_params() == LateFeeRules(
        daily_rate=D("0.003"), grace_days=15, cap_principal=True, rounding=TRUNCATE
    )
    Parameter.objects.create(key="late_fee.daily_rate", value="0.005")
    Parameter.objects.create(key="late_fee.rounding", value="half_up")
    Parameter.objects.create(key="late_fee.cap_principal", value="0")
    Parameter.objects.create(key="late_fee.grace_days", value="10")
    assert LateFeeRules.from_params() == LateFeeRules(
        daily_rate=D("0.005"), grace_days=10, cap_principal=False, rounding=HALF_UP
    )


# --- the arithmetic: properties --------------------------------------------------------------

money = st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2)
rates = st.decimals(min_value=D("0"), max_value=D("0.05"), places=6)
days = st.integers(min_value=-30, max_value=2000)
dates = st.dates(min_value=DAY(2020, 1, 1), max_value=DAY(2035, 12, 31))
rule_sets = st.builds(
    LateFeeRules,
    daily_rate=rates,
    grace_days=st.integers(min_value=0, max_value=365),
    cap_principal=st.booleans(),
    rounding=st.sampled_from([TRUNCATE, HALF_UP]),
)


@st.composite
def bills(draw):
    amount = draw(money)
    principal = draw(st.decimals(min_value=D("0"), max_value=amount, places=2))
    charged = draw(st.decimals(min_value=D("0"), max_value=amount * 2, places=2))
    due = draw(dates)
    through = draw(st.none() | st.builds(lambda n: due + datetime.timedelta(days=n), days))
    return {
        "principal": principal,
        "due_on": due,
        "bill_amount": amount,
        "charged": charged if through else D("0.00"),
        "charged_through": through,
    }


def fee_of(bill, on, rule, **extra):
    return late_fee(
        bill["principal"],
        bill["due_on"],
        on,
        rule,
        bill_amount=bill["bill_amount"],
        charged=bill["charged"],
        charged_through=bill["charged_through"],
        **extra,
    )


def as_of(bill, offset):
    return bill["due_on"] + datetime.timedelta(days=offset)


@settings(max_examples=300, deadline=None)
@given(bills(), days, rule_sets)
def test_never_negative_and_never_above_the_cap(bill, offset, rule):
    fee = fee_of(bill, as_of(bill, offset), rule)
    assert fee.amount >= 0 and fee.amount == fee.amount.quantize(D("0.01"))
    if rule.cap_principal:
        assert fee.amount + bill["charged"] <= max(bill["bill_amount"], bill["charged"])
    assert fee.days >= 0
    if fee.days:
        assert fee.through == as_of(bill, offset)
        assert (fee.through - fee.accrues_from).days + 1 == fee.days


@settings(max_examples=300, deadline=None)
@given(bills(), days, st.integers(min_value=0, max_value=400), rule_sets)
def test_monotone_in_the_as_of_date(bill, offset, later, rule):
    earlier = fee_of(bill, as_of(bill, offset), rule)
    after = fee_of(bill, as_of(bill, offset + later), rule)
    assert after.amount >= earlier.amount and after.days >= earlier.days


@settings(max_examples=200, deadline=None)
@given(bills(), rule_sets, st.data())
def test_nothing_within_the_grace_period(bill, rule, data):
    offset = data.draw(st.integers(min_value=-30, max_value=rule.grace_days))
    fee = fee_of(bill, as_of(bill, offset), rule)
    assert fee.amount == 0 and fee.days == 0
    assert fee.accrues_from > as_of(bill, offset)


@settings(max_examples=300, deadline=None)
@given(bills(), days, rates, st.integers(0, 60), st.booleans())
def test_truncation_never_above_rounding(bill, offset, rate, grace, cap):
    on = as_of(bill, offset)
    cut = fee_of(bill, on, LateFeeRules(rate, grace, cap, TRUNCATE))
    rounded = fee_of(bill, on, LateFeeRules(rate, grace, cap, HALF_UP))
    assert cut.amount <= rounded.amount <= cut.amount + D("0.01")


@settings(max_examples=200, deadline=None)
@given(bills(), days, rule_sets, st.sampled_from([EXEMPT_BANK, EXEMPT_LOW_INCOME, EXEMPT_BILL]))
def test_exempt_is_zero(bill, offset, rule, why):
    assert fee_of(bill, as_of(bill, offset), rule, exempt=why).amount == 0


@settings(max_examples=200, deadline=None)
@given(money, dates, st.integers(1, 3000), rates)
def test_uncapped_truncated_is_the_hrb_formula(principal, due, n, rate):
    """HRB Obtwyj: trunc(principal × days × rate, fen) with days counted inclusively."""
    rule = LateFeeRules(rate, 0, False, TRUNCATE)
    fee = late_fee(principal, due, due + datetime.timedelta(days=n), rule)
    exact = principal * n * rate
    assert fee.days == n
    assert fee.amount <= exact < fee.amount + D("0.01")


# --- a customer's arrears --------------------------------------------------------------------

ISSUED = DAY(2026, 1, 28)
DUE = DAY(2026, 2, 27)


@pytest.fixture
def town(org, admin):
    category = tariff_services.create_category(
        admin, {"code": "RES", "name": "居民", "kind": CategoryKind.RESIDENTIAL}
    )
    tariff = tariff_services.create_tariff(
        admin, {"code": "RES", "name": "居民水价", "category": category}
    )
    area = customer_services.create_area(
        admin, {"code": "A1", "name": "东一片", "zone": org["zone_a"]}
    )
    book = customer_services.create_book(admin, {"code": "DA01", "name": "东一册", "area": area})
    return {"category": category, "tariff": tariff, "book": book}


def open_customer(admin, town, number, **data):
    return customer_services.open_customer(
        admin,
        {
            "name": f"用户{number}",
            "address": f"解放路{number}号",
            "book": town["book"],
            "category": town["category"],
            **data,
        },
        {"number": f"M{number:03d}", "installed_on": DAY(2025, 1, 1), "tariff": town["tariff"]},
        today=DAY(2025, 1, 1),
    )


@pytest.fixture
def customer(admin, town):
    return open_customer(admin, town, 1)


def pay(customer, amount, on):
    return ledger.post_entry(None, customer, EntryKind.PAYMENT, D(amount), business_date=on).entry


def test_arrears_lists_open_bills_with_their_fees(customer):
    jan = make_bill(customer, "152.00", DAY(2026, 1, 1), issued_on=ISSUED, due_on=DUE)
    feb = make_bill(
        customer, "80.00", DAY(2026, 2, 1), issued_on=DAY(2026, 2, 28), due_on=DAY(2026, 3, 30)
    )
    paid = make_bill(
        customer, "50.00", DAY(2025, 12, 1), issued_on=DAY(2025, 12, 28), due_on=DAY(2026, 1, 27)
    )
    pay(customer, "50.00", DAY(2026, 1, 10))  # pays the oldest, December
    on = DAY(2026, 3, 29)  # 30 days after January's due date; February not due yet
    result = arrears(customer.pk, on, RULES)
    assert [line.bill.pk for line in result.lines] == [jan.pk, feb.pk]
    assert paid.pk not in [line.bill.pk for line in result.lines]
    first, second = result.lines
    assert (first.principal, first.fee.amount, first.fee.days) == (D("152.00"), D("13.68"), 30)
    assert (second.principal, second.fee.amount) == (D("80.00"), D("0.00"))
    assert result.principal == D("232.00") and result.overdue == D("152.00")
    assert result.late_fee_due == D("13.68") and result.late_fee == D("13.68")
    assert result.total == D("245.68") and first.total == D("165.68")


def test_arrears_is_four_queries_whatever_the_bills(
    admin, town, customer, django_assert_num_queries
):
    """Customers, bills, a look for late-fee charges, the charges (none charged: no query)."""
    for month in range(1, 4):
        make_bill(customer, "10.00", DAY(2025, month, 1), due_on=DAY(2025, month, 28))
    with django_assert_num_queries(3):
        uncharged = arrears(customer.pk, DAY(2025, 7, 1), RULES)
    charge_late_fees(None, customer, DAY(2025, 6, 1), rules=RULES)
    with django_assert_num_queries(4):
        few = arrears(customer.pk, DAY(2025, 7, 1), RULES)
    assert uncharged.total == few.total  # charged or due, the same late fees
    for month in range(4, 13):
        make_bill(customer, "10.00", DAY(2025, month, 1), due_on=DAY(2025, month, 28))
    charge_late_fees(None, customer, DAY(2026, 1, 10), rules=RULES)
    others = [open_customer(admin, town, n) for n in range(2, 6)]
    for other in others:
        make_bill(other, "30.00", DAY(2025, 5, 1), due_on=DAY(2025, 5, 28))
    with django_assert_num_queries(4):
        many = arrears(customer.pk, DAY(2026, 2, 1), RULES)
    with django_assert_num_queries(4):
        several = arrears_for([customer.pk, *(o.pk for o in others)], DAY(2026, 2, 1), RULES)
    assert len(few.lines) == 3 and len(many.lines) == 12
    assert several[customer.pk].total == many.total
    assert all(several[o.pk].principal == D("30.00") for o in others)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ({"payment_method": PaymentMethod.BANK}, EXEMPT_BANK),
        ({"low_income": True}, EXEMPT_LOW_INCOME),
    ],
)
def test_exempt_customers_owe_no_late_fee(admin, town, data, why):
    customer = open_customer(admin, town, 7, **data)
    make_bill(customer, "152.00", DAY(2026, 1, 1), issued_on=ISSUED, due_on=DUE)
    line = arrears(customer.pk, DAY(2026, 6, 1), RULES).lines[0]
    assert line.fee.amount == 0 and line.fee.exempt == why
    assert charge_late_fees(None, customer, DAY(2026, 6, 1), rules=RULES) == []


def test_exempt_bill(customer):
    bill = make_bill(customer, "152.00", DAY(2026, 1, 1), issued_on=ISSUED, due_on=DUE)
    Bill.objects.filter(pk=bill.pk).update(late_fee_exempt=True)
    line = arrears(customer.pk, DAY(2026, 6, 1), RULES).lines[0]
    assert line.fee.exempt == EXEMPT_BILL and "bill marked no late fee" in line.fee.explain()


# --- charging --------------------------------------------------------------------------------


def test_charge_posts_an_entry_and_a_record_per_bill(customer, cashier_a):
    jan = make_bill(customer, "152.00", DAY(2026, 1, 1), issued_on=ISSUED, due_on=DUE)
    make_bill(
        customer, "80.00", DAY(2026, 2, 1), issued_on=DAY(2026, 2, 28), due_on=DAY(2026, 3, 30)
    )
    on = DAY(2026, 3, 29)
    charges = charge_late_fees(cashier_a, customer, on, rules=RULES)
    assert len(charges) == 1
    charge = charges[0]
    assert (charge.bill, charge.amount, charge.days) == (jan, D("13.68"), 30)
    assert (charge.accrues_from, charge.through) == (DAY(2026, 2, 28), on)
    assert (charge.principal, charge.daily_rate) == (D("152.00"), D("0.003"))
    entry = charge.entry
    assert (entry.kind, entry.amount, entry.business_date) == (EntryKind.LATE_FEE, D("13.68"), on)
    assert entry.posted_by == cashier_a and entry.period == DAY(2026, 1, 1)
    assert entry.reason == "Late fee on the 2026-01 bill: 30 days, 2026-02-28 to 2026-03-29"
    assert ledger.balance_of(customer.pk) == D("-245.68")
    [audit] = AuditEntry.objects.filter(object_type="billing.latefeecharge")
    assert (audit.object_id, audit.actor, audit.verb) == (str(charge.pk), cashier_a, "late_fee")
    assert audit.after["amount"] == "13.68" and audit.reason == entry.reason
    # charged and not paid: shown as open, nothing more due the same day
    after = arrears(customer.pk, on, RULES)
    assert after.late_fee_open == D("13.68") and after.late_fee_due == 0
    assert after.total == D("245.68")


def test_charging_twice_the_same_day_adds_nothing(customer):
    make_bill(customer, "152.00", DAY(2026, 1, 1), issued_on=ISSUED, due_on=DUE)
    on = DAY(2026, 3, 29)
    assert len(charge_late_fees(None, customer, on, rules=RULES)) == 1
    assert charge_late_fees(None, customer, on, rules=RULES) == []
    assert charge_late_fees(None, customer, on - datetime.timedelta(days=3), rules=RULES) == []
    assert LateFeeCharge.objects.count() == 1
    # the next day: one more day
    [next_day] = charge_late_fees(None, customer, on + datetime.timedelta(days=1), rules=RULES)
    assert (next_day.days, next_day.amount) == (1, D("0.45"))  # 0.456 truncated
    assert next_day.accrues_from == on + datetime.timedelta(days=1)


def test_partial_payment_then_a_later_charge(customer):
    make_bill(customer, "152.00", DAY(2026, 1, 1), issued_on=ISSUED, due_on=DUE)
    on = DAY(2026, 3, 29)
    charge_late_fees(None, customer, on, rules=RULES)  # 13.68 on 152.00
    pay(customer, "100.00", on)  # the bill (older) first: 52.00 of it left
    line = arrears(customer.pk, on, RULES).lines[0]
    assert line.principal == D("52.00") and line.fee_open == D("13.68")
    later = DAY(2026, 4, 8)
    [charge] = charge_late_fees(None, customer, later, rules=RULES)
    # 10 days on what is left: 52.00 × 0.003 × 10
    assert (charge.principal, charge.days, charge.amount) == (D("52.00"), 10, D("1.56"))
    assert charge.accrues_from == DAY(2026, 3, 30)
    assert ledger.balance_of(customer.pk) == D("-67.24")


def test_paid_bill_with_an_unpaid_late_fee_stays_in_arrears(customer):
    # amounts exact in binary: SQLite adds decimals as floats (see the report on verify)
    bill = make_bill(customer, "100.00", DAY(2026, 1, 1), issued_on=ISSUED, due_on=DUE)
    on = DAY(2026, 3, 29)
    charge_late_fees(None, customer, on, rules=RULES)  # 100.00 × 0.003 × 30 = 9.00
    pay(customer, "100.00", on)  # the bill, not its late fee
    result = arrears(customer.pk, DAY(2026, 5, 1), RULES)
    [line] = result.lines
    assert line.bill == bill and line.principal == 0 and line.fee_open == D("9.00")
    assert line.fee.amount == 0 and result.total == D("9.00")
    pay(customer, "9.00", on)
    assert arrears(customer.pk, DAY(2026, 5, 1), RULES).lines == ()


def test_cap_holds_across_charges(customer):
    make_bill(customer, "100.00", DAY(2026, 1, 1), issued_on=ISSUED, due_on=DUE)
    high = rules(daily_rate=D("0.05"))
    [first] = charge_late_fees(None, customer, DAY(2026, 3, 9), rules=high)  # 10 days: 50.00
    [second] = charge_late_fees(None, customer, DAY(2026, 3, 29), rules=high)  # capped
    assert (first.amount, second.amount) == (D("50.00"), D("50.00"))
    assert charge_late_fees(None, customer, DAY(2026, 12, 31), rules=high) == []
    line = arrears(customer.pk, DAY(2026, 12, 31), high).lines[0]
    assert line.fee_charged == D("100.00") and line.fee.capped


def test_only_the_chosen_bills_are_charged(admin, town, customer):
    jan = make_bill(customer, "152.00", DAY(2026, 1, 1), issued_on=ISSUED, due_on=DUE)
    feb = make_bill(customer, "80.00", DAY(2026, 2, 1), issued_on=ISSUED, due_on=DUE)
    charges = charge_late_fees(None, customer, DAY(2026, 3, 29), bills=[feb.pk], rules=RULES)
    assert [c.bill for c in charges] == [feb]
    charges = charge_late_fees(None, customer, DAY(2026, 3, 29), bills=[jan], rules=RULES)
    assert [c.bill for c in charges] == [jan]
    other = open_customer(admin, town, 9)
    theirs = make_bill(other, "10.00", DAY(2026, 1, 1), issued_on=ISSUED, due_on=DUE)
    with pytest.raises(ValidationError) as caught:
        charge_late_fees(None, customer, DAY(2026, 4, 1), bills=[theirs], rules=RULES)
    assert "bills" in caught.value.message_dict


def test_reversed_charge_is_charged_again(customer, clerk_a):
    make_bill(customer, "152.00", DAY(2026, 1, 1), issued_on=ISSUED, due_on=DUE)
    on = DAY(2026, 3, 29)
    [charge] = charge_late_fees(None, customer, on, rules=RULES)
    ledger.reverse_entry(clerk_a, charge.entry, "错收", on)
    assert arrears(customer.pk, on, RULES).late_fee == D("13.68")  # due again, not open
    [again] = charge_late_fees(None, customer, on, rules=RULES)
    assert again.amount == D("13.68") and again.accrues_from == DAY(2026, 2, 28)


def test_a_part_payment_lowers_the_late_fee_principal(customer):
    make_bill(customer, "152.00", DAY(2026, 1, 1), issued_on=ISSUED, due_on=DUE)
    ledger.post_entry(
        None, customer, EntryKind.PAYMENT, D("20.00"), business_date=DAY(2026, 3, 1)
    )  # pays 20.00 of the bill
    [charge] = charge_late_fees(None, customer, DAY(2026, 3, 29), rules=RULES)
    assert charge.principal == D("132.00") and charge.amount == D("11.88")


def test_rules_default_to_the_parameters(customer):
    make_bill(customer, "152.00", DAY(2026, 1, 1), issued_on=ISSUED, due_on=DUE)
    # default grace 15 days: from 2026-03-15; to 2026-04-13 is 30 days
    [charge] = charge_late_fees(None, customer, DAY(2026, 4, 13))
    assert (charge.accrues_from, charge.days, charge.amount) == (DAY(2026, 3, 15), 30, D("13.68"))
    assert arrears(customer.pk, DAY(2026, 4, 13)).late_fee_open == D("13.68")


def test_charging_is_refused_outside_the_operator_zones(org, admin, customer):
    from tests.conftest import make_operator

    from watermis.org.roles import CASHIER

    make_bill(customer, "152.00", DAY(2026, 1, 1), issued_on=ISSUED, due_on=DUE)
    other = make_operator(org, "cashier_b", CASHIER, unit_key="unit_b")
    with pytest.raises(PermissionDenied):
        charge_late_fees(other, customer, DAY(2026, 3, 29), rules=RULES)
    assert not LedgerEntry.objects.filter(kind=EntryKind.LATE_FEE).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_charges_charge_once(org, admin):
    category = tariff_services.create_category(
        admin, {"code": "RES", "name": "居民", "kind": CategoryKind.RESIDENTIAL}
    )
    tariff = tariff_services.create_tariff(
        admin, {"code": "RES", "name": "居民水价", "category": category}
    )
    area = customer_services.create_area(
        admin, {"code": "A1", "name": "东一片", "zone": org["zone_a"]}
    )
    book = customer_services.create_book(admin, {"code": "DA01", "name": "东一册", "area": area})
    town = {"category": category, "tariff": tariff, "book": book}
    customer = open_customer(admin, town, 1)
    make_bill(customer, "152.00", DAY(2026, 1, 1), issued_on=ISSUED, due_on=DUE)
    make_bill(customer, "80.00", DAY(2026, 2, 1), issued_on=ISSUED, due_on=DUE)
    errors, barrier = [], threading.Barrier(6)

    def charge():
        try:
            barrier.wait()
            charge_late_fees(None, customer, DAY(2026, 3, 29), rules=RULES)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=charge) for _n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert LateFeeCharge.objects.count() == 2
    assert ledger.balance_of(customer.pk) == D("-232.00") - D("13.68") - D("7.20")
    assert verify_books() == []

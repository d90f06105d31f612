"""Bills and accounts as staff see them (issue 6; F7.2–F7.4 bills paid, in arrears, history).

- the bill list: every filter combines, status and totals in SQL, Excel export;
- a bill explained: period, volumes, tariff, tier year, each line in words, the
  ledger entry and every allocation that settled it, late fees, corrections;
- a customer's account: balance, open bills, the entries with the balance after each;
- the ledger entry list.

Every page needs a named permission and reads through the restricted querysets,
so a bill or account of another zone answers 404. Nothing here writes: the
buttons lead to the correction and write-off pages, which call the services.
"""

from decimal import Decimal

from django.core.paginator import EmptyPage, PageNotAnInteger
from django.db.models import (
    Case,
    Count,
    DateField,
    DecimalField,
    F,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from django_tables2 import RequestConfig

from watermis.core import paging
from watermis.core.export import export_table
from watermis.core.paging import CappedPaginator, capped_count
from watermis.core.scoping import visible_zone_ids
from watermis.core.views import (
    PER_PAGE_CHOICES,
    ObjectListView,
    PermissionMixin,
    ScopedViewMixin,
    per_page_of,
)
from watermis.customers.models import Customer
from watermis.customers.views import detail_rows
from watermis.tariffs.templatetags.tariff_format import plain

from .bill_filtersets import ArrearsFilterSet, BillFilterSet, LedgerEntryFilterSet
from .bill_tables import (
    STATUS_CSS,
    AccountEntryTable,
    BillTable,
    LedgerEntryTable,
    PaidBillTable,
    account_href,
    money,
    related,
)
from .bills import (
    filter_arrears,
    filter_paid,
    open_bills,
    paid_total,
    payments_made,
    status_label,
    with_status,
)
from .ledger import balance_of, deposit_of, open_entries
from .models import (
    IN_DEPOSIT,
    Allocation,
    Bill,
    BillKind,
    BillLine,
    BillState,
    BillStatus,
    Direction,
    EntryKind,
    LateFeeCharge,
    LedgerEntry,
    MonthEnd,
    WriteOffState,
)

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=16, decimal_places=2)


def url_or_none(name, pk):
    """The URL of a page that may not exist yet: ``name`` with the pk, or with ``?bill=pk``."""
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        pass
    try:
        return f"{reverse(name)}?bill={pk}"
    except NoReverseMatch:
        return None


def first_url(names, pk):
    """The URL of the first of ``names`` that exists (the pages' names as planned, then as
    built), or None."""
    for name in names:
        href = url_or_none(name, pk)
        if href:
            return href
    return None


# Correction and write-off pages of a bill, by the names they may have.
CANCEL_PAGES = ("billing:bill_cancel",)
RED_BILL_PAGES = ("billing:redbill_request", "billing:bill_redbill")
WRITE_OFF_PAGES = ("billing:writeoff_request", "billing:bill_writeoff")


# --- lists ------------------------------------------------------------------------------------


# What is left open on bills of a status, when the status alone says it.
OPEN_BY_STATUS = {
    BillStatus.PAID: "none",
    BillStatus.WRITTEN_OFF: "none",
    BillStatus.CANCELLED: "none",
    BillStatus.CREDIT: "none",
    BillStatus.UNPAID: "all",  # nothing settled: open = amount
}


def bill_totals(queryset, status=""):
    """Count, billed and open amount of a (filtered) bill queryset, in SQL.

    Billed: Σ amount of issued bills (red bills subtract). Open: Σ (amount − settled)
    of issued regular bills. ``status``: the status the queryset is filtered on, if any;
    it spares reading allocations when it says what is open (paid: nothing, unpaid:
    everything). Without one, Σ settled comes from one join of the allocations with
    the filtered bills, which is cheaper than a sum per bill.
    """
    queryset = queryset.order_by()
    issued = Q(state=BillState.ISSUED)
    receivable = issued & Q(kind=BillKind.REGULAR)
    aggregates = {
        "count": Count("pk"),
        "billed": Sum("amount", filter=issued),
        "receivable": Sum("amount", filter=receivable),
    }
    rule = OPEN_BY_STATUS.get(status)
    if status and rule is None:  # partly paid, inspection: a sum per bill, in the same pass
        aggregates["open"] = Sum("open_amount")
    sums = queryset.aggregate(**aggregates)
    if rule == "none":
        open_amount = ZERO
    elif rule == "all":
        open_amount = sums["receivable"] or ZERO
    elif "open" in sums:
        open_amount = sums["open"] or ZERO
    else:
        settled = Allocation.objects.filter(
            debit_id__in=queryset.filter(receivable).values("entry_id")
        ).aggregate(total=Sum("amount"))["total"]
        open_amount = (sums["receivable"] or ZERO) - (settled or ZERO)
    return {
        "count": sums["count"],
        "billed": money(sums["billed"] or ZERO),
        "open": money(open_amount),
    }


def entry_totals(queryset):
    sums = queryset.order_by().aggregate(
        count=Count("pk"),
        debit=Sum("amount", filter=Q(direction=Direction.DEBIT)),
        credit=Sum("amount", filter=Q(direction=Direction.CREDIT)),
    )
    return {
        "count": sums["count"],
        "debit": money(sums["debit"] or ZERO),
        "credit": money(sums["credit"] or ZERO),
    }


def paginate(request, table, per_page, count=None, page=None):
    """Sort ``table`` from the query string and show one page of ``per_page`` rows (a page
    past the end shows the last one); ``count``: the rows (up to the cap), when known."""
    RequestConfig(request, paginate=False).configure(table)
    if page is None:
        try:
            page = int(request.GET.get("page", 1))
        except ValueError:
            page = 1
    try:
        table.paginate(paginator_class=CappedPaginator, per_page=per_page, page=page, count=count)
    except (EmptyPage, PageNotAnInteger):
        table.page = table.paginator.get_page(page)
    table.per_page_choices, table.current_per_page = PER_PAGE_CHOICES, per_page
    return table


class TotalsListView(ObjectListView):
    """A list with totals over the whole filtered set (not only the page); the totals'
    count pages the table, so the filtered set is read once for both.

    The rows are first counted up to :data:`~watermis.core.paging.ROW_CAP`: a selection of
    more rows shows its first pages without totals (the page says so and links to the
    statistical reports, which sum any selection), so that no page reads millions of rows.
    """

    template_name = "billing/bill_query.html"

    def get_totals(self, queryset):
        """(count, [(html id, label, value)])."""
        return None, []

    def count(self, queryset):
        """The filtered rows, counted up to the cap."""
        return capped_count(queryset)

    def get(self, request, *args, **kwargs):
        queryset = self.filtered_queryset()
        table = self.table_class(queryset)  # no request: it would page (and count) at once
        if request.GET.get("export") == "xlsx":
            return export_table(request, table, self.export_name, self.get_title())
        count = self.count(queryset)
        totals = []
        if count <= paging.ROW_CAP:
            count, totals = self.get_totals(queryset)
        per_page = per_page_of(request)
        request, sort_refused = paging.honour_sort(request, self.table_class, count)
        paginate(request, table, per_page, count=count)
        table.sort_refused = sort_refused
        context = self.get_context_data(
            table=table,
            filterset=self.filterset,
            title=self.get_title(),
            per_page_choices=PER_PAGE_CHOICES,
            per_page=per_page,
            totals=totals,
            totals_capped=count > paging.ROW_CAP,
            row_cap=paging.ROW_CAP,
        )
        return self.render_to_response(context)


class BillListView(TotalsListView):
    """Bills (F7.4 historical bills; every filter of F7.2 paid bills and F7.3 arrears too)."""

    model = Bill
    table_class = BillTable
    filterset_class = BillFilterSet
    title = gettext_lazy("Bills")
    export_name = "bills"

    def get_queryset(self):
        return with_status(super().get_queryset()).select_related(
            "customer",
            "customer__category",
            "meter",
            "book",
            "book__reader",
            "book__collector",
            "zone",
            "tariff",
        )

    def filtered_status(self):
        if self.filterset.is_bound and self.filterset.is_valid():
            return self.filterset.form.cleaned_data.get("status") or ""
        return ""

    def get_totals(self, queryset):
        totals = bill_totals(queryset, self.filtered_status())
        return totals["count"], [
            ("bill-count", _("Bills"), totals["count"]),
            ("bill-billed", _("Billed"), totals["billed"]),
            ("bill-open", _("Outstanding"), totals["open"]),
        ]


class PaidBillListView(BillListView):
    """Paid bills of a period (F7.2): bills a payment went to between two days (this month
    until today unless chosen), how and by whom paid, with what the period's payments paid
    on each; every bill filter combines. The status filter tells fully paid from partly."""

    table_class = PaidBillTable
    title = gettext_lazy("Paid bills")
    export_name = "paid-bills"

    def get_filter_data(self):
        data = self.request.GET.copy()
        if "paid_from" not in data and "paid_to" not in data:
            today = timezone.localdate()
            data["paid_from"] = today.replace(day=1).isoformat()
            data["paid_to"] = today.isoformat()
        return data

    def criteria(self):
        return self.filterset.paid_criteria() if self.filterset is not None else {}

    def count(self, queryset):
        """Counted newest bill first (``billing_bill_month_idx``): the period's payments
        went mostly to the newest bills, so the cap is reached after few of them."""
        return capped_count(queryset.order_by("-month", "-id"), ordered=True)

    def filtered_queryset(self):
        queryset = super().filtered_queryset()
        criteria = self.criteria()
        if not criteria:  # no payment filter: bills that received any payment
            queryset = filter_paid(queryset)
        payments = payments_made(**criteria).filter(debit_id=OuterRef("entry_id"))
        by_bill = payments.order_by().values("debit_id")
        return queryset.annotate(
            paid=Subquery(
                by_bill.annotate(total=Sum("amount")).values("total"), output_field=MONEY
            ),
            paid_on=Subquery(
                by_bill.annotate(day=Max("made_by__business_date")).values("day"),
                output_field=DateField(),
            ),
        )

    def get_totals(self, queryset):
        count, totals = super().get_totals(queryset)
        paid = money(paid_total(queryset, **self.criteria()))
        return count, [*totals, ("bill-paid", _("Paid in the period"), paid)]


class ArrearsListView(BillListView):
    """The arrears (F7.3): bills with something left to pay (unpaid, partly paid, with the
    inspectors), with the amount outstanding and the accounts that owe it; every bill
    filter combines."""

    filterset_class = ArrearsFilterSet
    title = gettext_lazy("Arrears")
    export_name = "arrears"

    def get_queryset(self):
        return filter_arrears(super().get_queryset())

    def get_totals(self, queryset):
        count, totals = super().get_totals(queryset)
        accounts = queryset.order_by().aggregate(n=Count("customer_id", distinct=True))["n"]
        return count, [*totals, ("bill-accounts", _("Accounts owing"), accounts)]


def entries(queryset):
    return queryset.select_related(
        "customer",
        "zone",
        "posted_by",
        "unit",
        "bill",
        "late_fee",
        "write_off",
        "cancelled_bill",
        "reversed_by",
    )


class LedgerEntryListView(TotalsListView):
    """Every posted entry, any account: by zone, kind, direction, date, operator, channel."""

    model = LedgerEntry
    table_class = LedgerEntryTable
    filterset_class = LedgerEntryFilterSet
    title = gettext_lazy("Ledger entries")
    export_name = "ledger-entries"

    def get_queryset(self):
        return entries(super().get_queryset())

    def get_totals(self, queryset):
        totals = entry_totals(queryset)
        return totals["count"], [
            ("entry-count", _("Entries"), totals["count"]),
            ("entry-debit", _("Debit (owes more)"), totals["debit"]),
            ("entry-credit", _("Credit (owes less)"), totals["credit"]),
        ]


# --- one bill ---------------------------------------------------------------------------------


def line_text(line):
    """One bill line in words: tier, volume × unit price = amount."""
    values = {
        "tier": line.tier,
        "volume": plain(line.volume),
        "price": plain(line.unit_price, 2),
        "amount": line.amount,
    }
    if line.kind == BillLine.Kind.FEE and not line.volume:
        return _("Fixed fee: %(amount)s yuan") % values
    if line.kind == BillLine.Kind.QUOTA:
        return (
            _("Over quota, bracket %(tier)s: %(volume)s m³ × %(price)s yuan/m³ = %(amount)s yuan")
            % values
        )
    if line.tier:
        return _("Tier %(tier)s: %(volume)s m³ × %(price)s yuan/m³ = %(amount)s yuan") % values
    return _("%(volume)s m³ × %(price)s yuan/m³ = %(amount)s yuan") % values


def line_groups(bill):
    """The bill's lines grouped by price item (in the items' order), each with its subtotal."""
    lines = bill.lines.select_related("item").order_by(
        "item__sort_order", "item__code", "price_from", "kind", "tier", "id"
    )
    groups = []
    for line in lines:
        line.text = line_text(line)
        if not groups or groups[-1]["item"].pk != line.item_id:
            groups.append({"item": line.item, "lines": [], "amount": ZERO})
        groups[-1]["lines"].append(line)
        groups[-1]["amount"] += line.amount
    return groups


def volume_note(bill):
    """Why the billed volume differs from the metered one, or ''."""
    if bill.volume > bill.read_volume:
        return _("The minimum volume applied: %(billed)s m³ billed for %(read)s m³ metered.") % {
            "billed": plain(bill.volume),
            "read": plain(bill.read_volume),
        }
    if bill.volume < bill.read_volume and bill.part:
        return _("Part %(part)s of the read: a split of the volume or a share of the meter.") % {
            "part": bill.part
        }
    return ""


def allocation_rows(entry):
    """Every allocation of the bill's entry: what settled it (or what it settled), how much,
    when, by whom; negative rows are allocations undone by a reversal."""
    if entry is None:
        return []
    mine, other = ("debit", "credit") if entry.direction == Direction.DEBIT else ("credit", "debit")
    rows = Allocation.objects.filter(**{mine: entry}).select_related(
        other,
        f"{other}__posted_by",
        f"{other}__bill",
        f"{other}__write_off",
        f"{other}__write_off__decided_by",
        "made_by",
        "made_by__posted_by",
    )
    result = []
    for allocation in rows.order_by("id"):
        counterpart = getattr(allocation, other)
        made_by = allocation.made_by
        note = ""
        if made_by.kind == EntryKind.REVERSAL:
            note = _("Undone by reversal #%(entry)s") % {"entry": made_by.pk}
        elif made_by.pk not in (entry.pk, counterpart.pk):
            note = _("Applied when #%(entry)s was posted") % {"entry": made_by.pk}
        elif made_by.pk == entry.pk and counterpart.posted_at < entry.posted_at:
            note = _("Paid from credit standing on the account")
        bill = related(counterpart, "bill")
        write_off = related(counterpart, "write_off")
        result.append(
            {
                "allocation": allocation,
                "entry": counterpart,
                "href": account_href(counterpart.customer_id, counterpart.pk),
                "bill": bill,
                "write_off": write_off,
                "at": made_by.posted_at,
                "note": note,
            }
        )
    return result


def bill_actions(user, bill, corrections):
    """Buttons to the correction and write-off pages the viewer may use (those that exist).

    A hint only: the services decide. Cancel: nothing settled yet and the month not
    closed; a red bill: something left that earlier red bills and write-offs do not cover;
    a write-off: something open and no request waiting.
    """
    actions = []
    if bill.state != BillState.ISSUED or bill.kind != BillKind.REGULAR:
        return actions

    def add(key, names, text, icon):
        href = first_url(names, bill.pk)
        if href:
            actions.append({"id": key, "href": href, "text": text, "icon": icon})

    if user.has_perm("billing.correct_bill"):
        closed = MonthEnd.objects.filter(zone_id=bill.zone_id, month=bill.month).exists()
        if bill.settled <= 0 and not closed:
            add("bill-cancel", CANCEL_PAGES, _("Cancel the bill"), "bi-x-circle")
        reds = sum(
            (
                c.amount
                for c in corrections
                if c.kind == BillKind.RED and c.state == BillState.ISSUED
            ),
            ZERO,
        )
        if bill.amount + reds - bill.written_off > 0:
            add("bill-redbill", RED_BILL_PAGES, _("Request a red bill"), "bi-dash-circle")
    if (
        user.has_perm("billing.add_writeoff")
        and bill.open_amount > 0
        and not bill.write_offs.filter(state=WriteOffState.REQUESTED).exists()
    ):
        add("bill-writeoff", WRITE_OFF_PAGES, _("Request a write-off"), "bi-journal-x")
    return actions


def with_money(bill):
    """The bill with its computed amounts to the fen."""
    for name in ("settled", "written_off", "open_amount"):
        setattr(bill, name, money(getattr(bill, name)))
    return bill


def red_bill_requests(bill):
    """Requests for red bills against this bill (once the correction pages have them)."""
    requests = getattr(bill, "red_bill_requests", None)
    if requests is None:
        return []
    return list(requests.select_related("requested_by", "decided_by", "red_bill").order_by("id"))


class BillDetailView(ScopedViewMixin, TemplateView):
    """One bill explained: where the volume and each line come from, and who settled it."""

    model = Bill
    template_name = "billing/bill_detail.html"

    def get_object(self):
        queryset = with_status(self.get_queryset()).select_related(
            "customer",
            "customer__category",
            "zone",
            "book",
            "meter",
            "tariff",
            "reading",
            "entry",
            "entry__posted_by",
            "cancel_entry",
            "cancel_entry__posted_by",
            "run_book__run",
            "corrects",
            "approved_by",
        )
        return with_money(get_object_or_404(queryset, pk=self.kwargs["pk"]))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        bill = self.get_object()
        user = self.request.user
        groups = line_groups(bill)
        line_total = sum((g["amount"] for g in groups), ZERO)
        allocations = allocation_rows(bill.entry)
        visible = Bill.objects.restrict(user)
        corrections = [
            with_money(c)
            for c in with_status(visible.filter(corrects=bill)).order_by("month", "id")
        ]
        context.update(
            object=bill,
            bill=bill,
            title=_("Bill %(number)s") % {"number": bill.pk},
            status_label=status_label(bill.status),
            status_css=STATUS_CSS.get(bill.status, ""),
            account_href=account_href(bill.customer_id),
            entry_href=account_href(bill.customer_id, bill.entry_id) if bill.entry_id else None,
            days=(bill.period_end - bill.period_start).days,
            overdue=bill.open_amount > 0 and bill.due_on < timezone.localdate(),
            volume_note=volume_note(bill),
            groups=groups,
            line_total=line_total,
            lines_match=line_total == bill.amount,
            several_prices=len({line.price_from for g in groups for line in g["lines"]}) > 1,
            allocations=allocations,
            allocated=money(sum((r["allocation"].amount for r in allocations), ZERO)),
            late_fees=bill.late_fees.select_related("entry", "entry__posted_by").order_by(
                "through", "id"
            ),
            write_offs=bill.write_offs.select_related("requested_by", "decided_by").order_by(
                "requested_at", "id"
            ),
            corrections=corrections,
            corrects=visible.filter(pk=bill.corrects_id).first() if bill.corrects_id else None,
            run_href=(
                url_or_none("billing:run_detail", bill.run_book.run_id)
                if bill.run_book_id
                else None
            ),
            reading_href=(
                url_or_none("readings:reading_detail", bill.reading_id)
                if bill.reading_id and user.has_perm("readings.view_reading")
                else None
            ),
            actions=bill_actions(user, bill, corrections),
            red_bill_requests=red_bill_requests(bill),
        )
        return context


# --- one account ------------------------------------------------------------------------------


def running_balance(queryset):
    """Entries annotated with ``running_balance``: the balance of the entry's pot (the bill
    account, or the prepaid deposit) after each entry, in posting order (a window function,
    so any page of any sort order is right)."""
    signed = Case(
        When(direction=Direction.CREDIT, then=F("amount")),
        default=Value(ZERO) - F("amount"),
        output_field=MONEY,
    )
    pot = Case(When(IN_DEPOSIT, then=Value(1)), default=Value(0))
    return queryset.annotate(
        running_balance=Window(
            Sum(signed),
            partition_by=[F("customer_id"), pot],
            order_by=[F("posted_at").asc(), F("id").asc()],
            output_field=MONEY,
        )
    )


ACCOUNT_FIELDS = ["address", "phone", "zone", "book", "category", "status", "payment_method"]


def other_open_debits(customer_id, bill_entry_ids):
    """Open debits of the account that are not bills (late fees, refunds, transfers out):
    [{"entry", "open", "late_fee"}], oldest first."""
    rows = [
        {"entry": entry, "open": money(left)}
        for entry, left in open_entries(customer_id, Direction.DEBIT)
        if entry.pk not in bill_entry_ids
    ]
    fees = LateFeeCharge.objects.filter(entry_id__in=[r["entry"].pk for r in rows])
    by_entry = {fee.entry_id: fee for fee in fees}
    for row in rows:
        row["late_fee"] = by_entry.get(row["entry"].pk)
    return rows


class AccountDetailView(PermissionMixin, TemplateView):
    """A customer's account (F3.8 arrears, prepaid credit): balance, open bills, entries."""

    permission_required = "billing.view_account"
    template_name = "billing/account_detail.html"

    def get_customer(self):
        customers = Customer.objects.all().in_zones(visible_zone_ids(self.request.user))
        return get_object_or_404(
            customers.select_related("zone", "book", "category"), pk=self.kwargs["pk"]
        )

    def entry_page(self, queryset, entry_id, per_page):
        """The page (newest first) holding entry ``entry_id``, or None."""
        if entry_id is None or "sort" in self.request.GET:
            return None
        target = queryset.filter(pk=entry_id).values_list("posted_at", flat=True).first()
        if target is None:
            return None
        newer = queryset.filter(Q(posted_at__gt=target) | Q(posted_at=target, pk__gt=entry_id))
        return newer.count() // per_page + 1

    def get(self, request, *args, **kwargs):
        customer = self.get_customer()
        user = request.user
        ledger = LedgerEntry.objects.restrict(user).filter(customer=customer)
        table = AccountEntryTable(running_balance(entries(ledger)))
        if request.GET.get("export") == "xlsx":
            title = _("Account %(account)s") % {"account": customer.account_no}
            return export_table(request, table, f"account-{customer.account_no}", title)
        per_page = per_page_of(request)
        try:
            table.highlight = int(request.GET.get("entry", ""))
        except ValueError:
            table.highlight = None
        paginate(request, table, per_page, page=self.entry_page(ledger, table.highlight, per_page))
        bills = open_bills(customer.pk, queryset=Bill.objects.restrict(user)).select_related(
            "meter"
        )
        bills = list(bills)
        for bill in bills:
            with_money(bill).status_text = status_label(bill.status)
        balance = balance_of(customer.pk)
        deposit = deposit_of(customer.pk)
        others = []
        if balance < 0 and user.has_perm("billing.view_ledgerentry"):
            others = other_open_debits(customer.pk, {b.entry_id for b in bills})
        context = self.get_context_data(
            customer=customer,
            title=_("Account %(account)s") % {"account": customer.account_no},
            balance=balance,
            credit=balance if balance > 0 else ZERO,
            arrears=-balance if balance < 0 else ZERO,
            deposit=deposit,
            open_bills=bills,
            open_total=sum((b.open_amount for b in bills), ZERO),
            other_debits=others,
            other_total=sum((r["open"] for r in others), ZERO),
            customer_rows=detail_rows(customer, ACCOUNT_FIELDS),
            table=table,
            today=timezone.localdate(),
            can_view_bills=user.has_perm("billing.view_bill"),
            bills_href=f"{reverse('billing:bill_list')}?q={customer.account_no}",
            entries_href=f"{reverse('billing:entry_list')}?q={customer.account_no}",
            unpaid=BillStatus.UNPAID,
        )
        return self.render_to_response(context)

"""Counter pages (issue 8; docs/counter.md): the keyboard-first counter screen (F3.8, F3.9,
F3.20), a payment and its reversal, printing its invoice, the payment list, the cashier's
day-end (F8.1), the waiver query (F7.8) and waiver limits per role.

Every page needs a named permission and reads through the restricted querysets; money
moves only through :mod:`.counter`, which checks again inside its transaction.
"""

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, DecimalField, F, Q, Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView, View

from watermis.billing.bill_tables import money
from watermis.billing.bill_views import TotalsListView
from watermis.billing.ledger import balance_of
from watermis.core.export import xlsx_response
from watermis.core.journal import history
from watermis.core.views import (
    ObjectEditView,
    ObjectListView,
    PermissionMixin,
    ScopedViewMixin,
    add_service_errors,
)
from watermis.customers.filtersets import search_customers
from watermis.customers.models import Meter
from watermis.documents.fonts import FontMissing
from watermis.documents.pdf import DocumentRenderError
from watermis.invoices import numbering
from watermis.org.models import Operator

from . import counter, queries
from .filtersets import CounterPaymentFilterSet, LateFeeWaiverFilterSet
from .forms import CounterForm, DayEndForm, ReverseForm, WaiverLimitForm
from .models import CounterMethod, CounterPayment, LateFeeWaiver, WaiverLimit
from .tables import CounterPaymentTable, LateFeeWaiverTable, WaiverLimitTable

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=16, decimal_places=2)
PRINT_ERRORS = (DocumentRenderError, FontMissing)
MATCH_LIMIT = 20

# The counter screen's keys, shown on the page and in docs/counter.md.
KEYS = [
    ("F2", gettext_lazy("account / search")),
    ("↑ ↓ Space", gettext_lazy("move through the bills, tick or untick one")),
    ("F3", gettext_lazy("tick all bills / none")),
    ("F4", gettext_lazy("late fee to waive")),
    ("F6", gettext_lazy("amount to pay (partial payment)")),
    ("F8", gettext_lazy("amount tendered")),
    ("Enter, F9", gettext_lazy("take the payment")),
    ("Enter", gettext_lazy("print the invoice (after the payment)")),
    ("Esc", gettext_lazy("next customer")),
]


def is_htmx(request):
    return request.headers.get("HX-Request") == "true"


def default_kind(user):
    """The invoice kind the counter offers first: the first kind the cashier holds paper stock
    of, else the first electronic kind, else none."""
    form = CounterForm(user=user)
    kinds = form.fields["invoice_kind"].queryset
    paper = [k for k in kinds if k.uses_stock]
    return (paper or list(kinds) or [None])[0]


class CustomerScreen(PermissionMixin, TemplateView):
    """A counter screen serving one customer at a time (the counter, the deposit screen).

    GET ``account``: find the customer (account number, name, initials, address, phone);
    ``customer``: show one. Requests from htmx get the panel alone. A screen names the
    permission its customers are served under, its title and keys, and builds
    :meth:`panel_context`.
    """

    panel_template = ""
    serve_permission = "payments.take_payment"
    title = ""
    keys = ()

    def customers(self):
        return counter.counter_customers(self.request.user, self.serve_permission)

    def find(self, text):
        customers = self.customers()
        exact = customers.filter(account_no=text).first()
        if exact:
            return [exact]
        return list(
            search_customers(customers, text)
            .select_related("zone")
            .order_by("account_no")[:MATCH_LIMIT]
        )

    def panel_context(self, customer, form=None):
        raise NotImplementedError

    def render_panel(self, context, status=200):
        context = self.get_context_data(title=self.title, keys=self.keys, **context)
        if is_htmx(self.request):
            return self.response_class(
                request=self.request,
                template=[self.panel_template],
                context=context,
                using=self.template_engine,
                status=status,
            )
        return self.render_to_response(context, status=status)

    def get(self, request, *args, **kwargs):
        text = (request.GET.get("account") or "").strip()
        pk = request.GET.get("customer", "")
        if str(pk).isdigit():
            customer = get_object_or_404(self.customers(), pk=pk)
            return self.render_panel(self.panel_context(customer))
        if text:
            matches = self.find(text)
            if len(matches) == 1:
                return self.render_panel(self.panel_context(matches[0]))
            return self.render_panel({"matches": matches, "searched": text})
        return self.render_panel({})


class CounterView(CustomerScreen):
    """The counter (F3.8, F3.9, F3.20): account → bills with late fees as of today → tendered →
    change → Enter posts; the receipt panel prints the invoice; Esc for the next customer."""

    permission_required = "payments.take_payment"
    template_name = "payments/counter.html"
    panel_template = "payments/counter_panel.html"
    title = gettext_lazy("Counter")
    keys = KEYS

    def panel_context(self, customer, form=None, rules=None):
        user = self.request.user
        today = timezone.localdate()
        rules = rules or counter.CounterRules.from_params()
        due = counter.counter_arrears(customer, today, rules)
        lines = list(due.lines)
        choices = [(str(line.bill.pk), str(line.bill.pk)) for line in lines]
        kind = default_kind(user)
        invoice_elsewhere = not counter.sees_zone(user, customer.zone_id)
        if invoice_elsewhere:
            kind = None
        if form is None:
            form = CounterForm(
                user=user,
                bill_choices=choices,
                initial={
                    "customer": customer.pk,
                    "bills": [c for c, _label in choices],
                    "method": CounterMethod.CASH,
                    "invoice_kind": kind,
                },
            )
        checked = set(form.data.getlist("bills")) if form.is_bound else {c for c, _label in choices}
        meters = {m.pk: m for m in Meter.objects.filter(customer=customer).order_by("number")}
        rows = [
            {
                "line": line,
                "bill": line.bill,
                "meter": meters.get(line.bill.meter_id),
                "checked": str(line.bill.pk) in checked,
                "fee_total": line.fee_open + line.fee.amount,
            }
            for line in lines
        ]
        stock = {}
        for option in form.fields["invoice_kind"].queryset:
            if option.uses_stock:
                stocks = numbering.own_stocks(user, option)
                stock[option.pk] = (
                    sum(s.remaining for s in stocks),
                    f"{stocks[0].code} {stocks[0].format(stocks[0].next)}".strip()
                    if stocks
                    else "",
                )
        limit = counter.waiver_limit_of(user, rules.waiver_limit)
        return {
            "customer": customer,
            "balance": balance_of(customer.pk),
            "meters": list(meters.values()),
            "rows": rows,
            "due": due,
            "form": form,
            "cross_zone": counter.is_cross_zone(user, customer),
            "invoice_elsewhere": counter.cross_zone_invoice_words() if invoice_elsewhere else "",
            "stock": stock,
            "kind_count": form.fields["invoice_kind"].queryset.count(),
            "waiver_limit": limit,
            "small_change_limit": rules.small_change_limit,
            "late_fee_first": rules.late_fee_first,
            "today": today,
        }

    def post(self, request, *args, **kwargs):
        user = request.user
        customer = get_object_or_404(self.customers(), pk=request.POST.get("customer") or 0)
        posted = [v for v in request.POST.getlist("bills") if str(v).isdigit()]
        form = CounterForm(request.POST, user=user, bill_choices=[(v, v) for v in posted])
        if form.is_valid():
            data = form.cleaned_data
            tender = counter.Tender(
                customer_id=customer.pk,
                bills=tuple(int(v) for v in data["bills"]),
                seen={int(v): request.POST.get(f"seen-{v}", "") for v in data["bills"]},
                tendered=data["tendered"],
                method=data["method"],
                amount=data["amount"],
                keep_change=data["keep_change"],
                waiver=data["waiver"] or ZERO,
                waiver_reason=data["waiver_reason"],
                authoriser=data["authoriser"],
                invoice_kind=data["invoice_kind"],
                note=data["note"],
            )
            try:
                payment = counter.take_payment(user, tender)
            except ValidationError as exc:
                add_service_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                return self.render_panel(receipt_context(payment))
        return self.render_panel(self.panel_context(customer, form), status=200)


def receipt_context(payment):
    invoices = counter.live_invoices(payment)
    return {
        "payment": payment,
        "receipt_lines": queries.receipt_lines(payment),
        "invoice": invoices[0] if invoices else None,
        "balance": balance_of(payment.customer_id),
    }


# ------------------------------------------------------------------------- one payment


class PaymentMixin(ScopedViewMixin):
    model = CounterPayment

    def get_object(self):
        queryset = queries.payments_for(self.get_queryset()).select_related(
            "entry", "reversal_entry", "unit"
        )
        return get_object_or_404(queryset, pk=self.kwargs["pk"])


class PaymentDetailView(PaymentMixin, TemplateView):
    """One counter payment: the bills and where the money went, waivers, the invoice, the
    ledger entries, the reversal; buttons to print the invoice and to reverse."""

    template_name = "payments/payment_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        payment, user = self.get_object(), self.request.user
        problem = counter.reversal_problem(user, payment, timezone.localdate())
        invoices = list(payment.entry.invoices.select_related("operator", "kind").order_by("pk"))
        context.update(
            payment=payment,
            object=payment,
            title=_("Counter payment #%(pk)s") % {"pk": payment.pk},
            lines=queries.receipt_lines(payment),
            waivers=queries.payment_waivers(payment),
            invoices=invoices,
            live_invoice=next((i for i in invoices if i.is_live), None),
            can_reverse=problem is None,
            reverse_problem=problem,
            history=history(payment)[:50] if user.has_perm("core.view_auditentry") else None,
        )
        return context


class PaymentReverseView(PaymentMixin, TemplateView):
    """Reverse a payment with a reason (same day by its cashier; a supervisor afterwards)."""

    template_name = "payments/payment_reverse.html"

    def render_form(self, payment, form):
        invoices = counter.live_invoices(payment)
        return self.render_to_response(
            self.get_context_data(
                payment=payment,
                form=form,
                title=_("Reverse counter payment #%(pk)s") % {"pk": payment.pk},
                problem=counter.reversal_problem(self.request.user, payment, timezone.localdate()),
                invoices=invoices,
            )
        )

    def get(self, request, *args, **kwargs):
        return self.render_form(self.get_object(), ReverseForm())

    def post(self, request, *args, **kwargs):
        payment = self.get_object()
        form = ReverseForm(request.POST)
        if form.is_valid():
            try:
                counter.reverse_payment(request.user, payment, form.cleaned_data["reason"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Payment #%(pk)s is reversed.") % {"pk": payment.pk})
                return redirect(payment.get_absolute_url())
        return self.render_form(payment, form)


class PaymentPrintView(PaymentMixin, View):
    """The invoice printed at the payment, as a PDF (posted from the receipt panel or the
    payment's page); a second print is a copy."""

    def get(self, request, pk):
        return redirect(reverse("payments:payment_detail", args=[pk]))

    def post(self, request, pk):
        payment = self.get_object()
        try:
            data = counter.print_payment_invoices(request.user, payment)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        except PRINT_ERRORS as exc:
            messages.error(request, str(exc))
        else:
            response = HttpResponse(data, content_type="application/pdf")
            response["Content-Disposition"] = f'inline; filename="payment-{payment.pk}.pdf"'
            response["Cache-Control"] = "no-store"
            return response
        return redirect(payment.get_absolute_url())


# ------------------------------------------------------------------------- lists


class PaymentListView(TotalsListView):
    """Counter payments: every filter combines; totals over the filtered set; Excel."""

    model = CounterPayment
    table_class = CounterPaymentTable
    filterset_class = CounterPaymentFilterSet
    title = gettext_lazy("Counter payments")
    export_name = "counter-payments"

    def get_queryset(self):
        return queries.payments_for(super().get_queryset())

    def get_totals(self, queryset):
        totals = queryset.order_by().aggregate(
            n=Count("id"),
            credit=Sum(F("amount") + F("change_kept"), output_field=MONEY),
            reversed=Sum(
                F("amount") + F("change_kept"),
                filter=Q(reversal_entry__isnull=False),
                output_field=MONEY,
            ),
            waived=Sum("waived"),
        )
        credit, undone = money(totals["credit"] or ZERO), money(totals["reversed"] or ZERO)
        return totals["n"], [
            ("payment-count", _("Payments"), totals["n"]),
            ("payment-total", _("Taken"), credit),
            ("payment-reversed", _("Reversed"), undone),
            ("payment-net", _("Net"), credit - undone),
            ("payment-waived", _("Late fee waived"), money(totals["waived"] or ZERO)),
        ]


class WaiverListView(TotalsListView):
    """Late-fee waivers (F7.8): who waived how much on which bill, who authorised it."""

    model = LateFeeWaiver
    table_class = LateFeeWaiverTable
    filterset_class = LateFeeWaiverFilterSet
    title = gettext_lazy("Late-fee waivers")
    export_name = "late-fee-waivers"

    def get_queryset(self):
        return queries.waivers_for(super().get_queryset())

    def get_totals(self, queryset):
        totals = queries.waiver_totals(queryset)
        return totals["count"], [
            ("waiver-count", _("Waivers"), totals["count"]),
            ("waiver-total", _("Waived"), totals["amount"]),
            ("waiver-above", _("Above the limit (authorised)"), totals["above"]),
        ]


# ------------------------------------------------------------------------- day-end


class DayEndView(PermissionMixin, TemplateView):
    """The cashier's day-end (F8.1): per cashier and day the payments taken by method, the
    reversals, the waivers and the cash expected in the drawer; totals by zone (F1.2);
    printable, Excel."""

    permission_required = "payments.view_counterpayment"
    template_name = "payments/dayend.html"

    def cashiers(self):
        payments = CounterPayment.objects.restrict(self.request.user)
        return Operator.objects.filter(
            Q(pk__in=payments.values("cashier_id"))
            | Q(pk__in=payments.exclude(reversed_by=None).values("reversed_by_id"))
        ).order_by("username")

    def get(self, request, *args, **kwargs):
        user = request.user
        today = timezone.localdate()
        form = DayEndForm(request.GET or None, user=user, cashiers=self.cashiers())
        data = {"date_from": today, "date_to": today, "cashier": None, "zone": None}
        if form.is_bound and form.is_valid():
            cleaned = form.cleaned_data
            data.update(
                date_from=cleaned["date_from"] or today,
                date_to=cleaned["date_to"] or cleaned["date_from"] or today,
                cashier=cleaned["cashier"],
                zone=cleaned["zone"],
            )
        elif not form.is_bound:
            form = DayEndForm(
                initial={"date_from": today, "date_to": today},
                user=user,
                cashiers=self.cashiers(),
            )
        payments = queries.in_zone(CounterPayment.objects.restrict(user), data["zone"])
        waivers = LateFeeWaiver.objects.restrict(user)
        if data["zone"] is not None:
            waivers = waivers.filter(Q(zone=data["zone"]) | Q(payment__cashier_zone=data["zone"]))
        options = {
            "date_from": data["date_from"],
            "date_to": data["date_to"],
            "cashier": data["cashier"],
        }
        rows = queries.day_end(payments, waivers, **options)
        total = queries.day_end_totals(rows)
        zones = queries.zone_totals(payments, **options)
        if request.GET.get("export") == "xlsx":
            return self.export(rows, total)
        if request.GET.get("export") == "pdf":
            return self.pdf(rows, total, data)
        return self.render_to_response(
            self.get_context_data(
                title=_("Cashier day-end"),
                form=form,
                rows=rows,
                total=total,
                zones=zones,
                methods=CounterMethod.choices,
                date_from=data["date_from"],
                date_to=data["date_to"],
                printed_at=timezone.localtime(),
            )
        )

    def export(self, rows, total):
        header, data = self.sheet(rows, total)
        return xlsx_response("day-end", str(_("Cashier day-end")), header, data)

    def pdf(self, rows, total, chosen):
        """The day-end as a PDF of the document engine (F8.1, F8.7), one row per cashier and
        day, the total last."""
        from watermis.documents.report_pdf import render_table
        from watermis.documents.views import pdf_response
        from watermis.org.queries import company_name

        header, data = self.sheet(rows, total)
        texts = [
            [
                f"{v:,.2f}"
                if isinstance(v, Decimal)
                else (
                    v.strftime("%Y-%m-%d")
                    if hasattr(v, "strftime")
                    else ""
                    if v is None
                    else str(v)
                )
                for v in row
            ]
            for row in data
        ]
        span = f"{chosen['date_from']:%Y-%m-%d} – {chosen['date_to']:%Y-%m-%d}"
        if chosen["zone"] is not None:
            span += f" · {chosen['zone']}"
        user = self.request.user
        document = render_table(
            str(_("Cashier day-end")),
            span,
            [str(h) for h in header],
            texts[:-1],
            texts[-1],
            numeric=[False, False] + [True] * (len(header) - 2),
            company=company_name(),
            operator=getattr(user, "name", "") or user.get_username(),
        )
        return pdf_response(document, f"day-end-{chosen['date_from']:%Y%m%d}.pdf", inline=True)

    def sheet(self, rows, total):
        """The day-end's header and rows (the total last) as plain values."""
        methods = list(CounterMethod)
        header = [
            _("Business date"),
            _("Cashier"),
            _("Payments"),
            _("Taken"),
            _("Reversals"),
            _("Reversed"),
            *[m.label for m in methods],
            _("Net"),
            _("Cash expected in the drawer"),
            _("Waivers"),
            _("Waived"),
            _("Cross-zone payments"),
            _("Cross-zone amount"),
        ]

        def cells(row, day, name):
            return [
                day,
                name,
                row.count,
                row.taken,
                row.reversed_count,
                row.reversed,
                *[row.method_net(m.value) for m in methods],
                row.net,
                row.cash_expected,
                row.waiver_count,
                row.waived,
                row.cross_count,
                row.cross_amount,
            ]

        data = [cells(row, row.day, row.cashier) for row in rows]
        data.append(cells(total, None, _("Total")))
        return header, data


# ------------------------------------------------------------------------- waiver limits


class WaiverLimitListView(ObjectListView):
    model = WaiverLimit
    table_class = WaiverLimitTable
    create_url = "payments:waiverlimit_add"
    export_name = "waiver-limits"


class WaiverLimitEditView(ObjectEditView):
    model = WaiverLimit
    form_class = WaiverLimitForm
    create_service = staticmethod(counter.save_waiver_limit)
    update_service = staticmethod(
        lambda actor, obj, data: counter.save_waiver_limit(actor, data, obj)
    )
    success_url = reverse_lazy("payments:waiverlimit_list")

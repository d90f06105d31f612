"""Invoice pages: kinds and tax codes, stock (issue, return, spoiled forms), numbers used,
invoices (F7.6) with their detail, reprint, void and red invoices; issuing from a customer
(F3.8–F3.11, F3.15), batch reissue (F3.6, F3.7) and walking collection (F3.1).

Every page needs a named permission and reads through the restricted querysets;
every change goes through :mod:`.services`, :mod:`.numbering` or :mod:`.kinds`,
which check again inside their transaction. Issuing answers with the PDF.
"""

from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView, View

from watermis.billing.bill_tables import money
from watermis.billing.bill_views import TotalsListView
from watermis.billing.bills import filter_bill_status, status_label, with_status
from watermis.billing.corrections import to_fen
from watermis.billing.models import Bill, BillKind, BillState, BillStatus
from watermis.core.journal import history
from watermis.core.scoping import visible_zone_ids
from watermis.core.views import (
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    PermissionMixin,
    ScopedViewMixin,
    add_service_errors,
)
from watermis.customers.filtersets import search_customers
from watermis.customers.models import Customer, Meter
from watermis.documents.fonts import FontMissing
from watermis.documents.pdf import DocumentRenderError
from watermis.documents.sources import operator_name

from . import kinds, numbering, services
from .contents import bill_parts, rate_label
from .einvoice import Status
from .filtersets import (
    InvoiceFilterSet,
    InvoiceKindFilterSet,
    InvoiceStockFilterSet,
    ItemTaxCodeFilterSet,
    NumberUseFilterSet,
)
from .forms import (
    CollectionForm,
    InvoiceKindForm,
    InvoiceStockForm,
    IssueForm,
    ItemTaxCodeForm,
    ReasonForm,
    ReissueBatchForm,
)
from .models import (
    Invoice,
    InvoiceKind,
    InvoiceState,
    InvoiceStock,
    ItemTaxCode,
    Medium,
    NumberUse,
    Part,
    StockState,
)
from .printing import read_file
from .queries import live_rows, without_live_invoice
from .tables import (
    InvoiceKindTable,
    InvoiceStockTable,
    InvoiceTable,
    ItemTaxCodeTable,
    NumberUseTable,
    badge,
)

ZERO = Decimal("0.00")
PRINT_ERRORS = (DocumentRenderError, FontMissing)


def pdf_response(data, filename):
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def issued_response(request, issued, name):
    count = len(issued.invoices)
    numbers = ", ".join(i.display_number for i in issued.invoices[:5])
    messages.success(
        request,
        _("%(count)s invoices issued: %(numbers)s%(more)s")
        % {"count": count, "numbers": numbers, "more": " …" if count > 5 else ""},
    )
    return pdf_response(issued.pdf, f"{name}-{timezone.localdate():%Y%m%d}.pdf")


# ------------------------------------------------------------------------- kinds, tax codes


class KindListView(ObjectListView):
    model = InvoiceKind
    table_class = InvoiceKindTable
    filterset_class = InvoiceKindFilterSet
    create_url = "invoices:kind_add"
    export_name = "invoice-kinds"


class KindDetailView(ObjectDetailView):
    model = InvoiceKind
    edit_url = "invoices:kind_edit"


class KindEditView(ObjectEditView):
    model = InvoiceKind
    form_class = InvoiceKindForm
    create_service = kinds.create_kind
    update_service = kinds.update_kind


class TaxCodeListView(ObjectListView):
    model = ItemTaxCode
    table_class = ItemTaxCodeTable
    filterset_class = ItemTaxCodeFilterSet
    create_url = "invoices:taxcode_add"
    export_name = "tax-codes"

    def get_queryset(self):
        return super().get_queryset().select_related("item")


class TaxCodeEditView(ObjectEditView):
    model = ItemTaxCode
    form_class = ItemTaxCodeForm
    create_service = kinds.create_tax_code
    update_service = kinds.update_tax_code
    success_url = reverse_lazy("invoices:taxcode_list")


# ------------------------------------------------------------------------- stock


class QueryView(TotalsListView):
    """A list with totals, filters, Excel, and action buttons."""

    template_name = "invoices/query.html"
    actions = ()  # (label, url name, permission)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["actions"] = [
            (label, reverse(name)) for label, name, perm in self.actions if user.has_perm(perm)
        ]
        return context


class StockListView(QueryView):
    """Invoice stock issued to operators (F11.10): who holds which numbers, used and left."""

    model = InvoiceStock
    title = gettext_lazy("Invoice stock")
    table_class = InvoiceStockTable
    filterset_class = InvoiceStockFilterSet
    export_name = "invoice-stock"
    actions = ((gettext_lazy("Issue stock"), "invoices:stock_add", "invoices.add_invoicestock"),)

    def get_queryset(self):
        return super().get_queryset().select_related("kind", "operator", "zone", "issued_by")

    def get_totals(self, queryset):
        count = queryset.count()
        totals = numbering.stock_totals(queryset)
        return count, [
            ("stock-count", _("Stocks"), count),
            ("stock-issued", _("Numbers issued"), totals["issued"]),
            ("stock-used", _("Used"), totals["used"]),
            ("stock-left", _("Left"), totals["left"]),
        ]


class StockIssueView(ObjectEditView):
    model = InvoiceStock
    form_class = InvoiceStockForm
    create_service = numbering.issue_stock

    def render_form(self, form, obj):
        return self.render_to_response(
            self.get_context_data(form=form, object=obj, title=_("Issue invoice stock"))
        )


class StockDetailView(ObjectDetailView):
    model = InvoiceStock
    template_name = "invoices/stock_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("kind", "operator", "zone", "issued_by")

    def get_fields(self, stock):
        return [
            (_("Invoice kind"), stock.kind),
            (_("Invoice code"), stock.code or "—"),
            (_("Numbers"), f"{stock.format(stock.first)} – {stock.format(stock.last)}"),
            (
                _("Next number"),
                stock.format(stock.next) if stock.state == StockState.ISSUED else "—",
            ),
            (_("Used"), stock.used),
            (_("Left"), stock.remaining),
            (_("Operator"), stock.operator),
            (_("State"), stock.get_state_display()),
            (_("Zone"), stock.zone or "—"),
            (_("Issued by"), stock.issued_by or "—"),
            (_("Issued at"), timezone.localtime(stock.issued_at)),
            (_("Returned at"), stock.returned_at and timezone.localtime(stock.returned_at)),
            (_("Note"), stock.note),
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        stock, user = context["object"], self.request.user
        uses = NumberUse.objects.filter(stock=stock).select_related(
            "stock__kind", "invoice", "operator", "zone"
        )
        table = NumberUseTable(uses.order_by("-sequence")[:500], orderable=False)
        context.update(
            title=str(stock),
            uses=table,
            use_count=uses.count(),
            problems=numbering.stock_problems(stock),
            can_return=stock.state == StockState.ISSUED
            and user.has_perm("invoices.change_invoicestock"),
            can_spoil=stock.state == StockState.ISSUED and stock.operator_id == user.pk,
            usage_href=f"{reverse('invoices:usage_list')}?code={stock.code}&kind={stock.kind_id}",
        )
        return context


class StockActionView(PermissionMixin, TemplateView):
    """Return a stock (supervisor) or record a spoiled form (its holder)."""

    template_name = "invoices/reason_form.html"
    title = ""
    submit_label = ""
    help_text = ""

    def get_stock(self):
        stocks = InvoiceStock.objects.all().in_zones(visible_zone_ids(self.request.user))
        if not self.request.user.has_perm("invoices.view_invoicestock"):
            stocks = stocks.filter(operator=self.request.user)
        return get_object_or_404(stocks.select_related("kind", "operator"), pk=self.kwargs["pk"])

    def render_form(self, stock, form):
        return self.render_to_response(
            self.get_context_data(
                form=form,
                title=self.title % {"stock": stock},
                submit_label=self.submit_label,
                summary=[
                    (_("Operator"), stock.operator),
                    (_("Next number"), stock.format(stock.next)),
                    (_("Left"), stock.remaining),
                ],
                problem=self.problem(stock),
                cancel_url=self.back_url(stock),
            )
        )

    def back_url(self, stock):
        if self.request.user.has_perm("invoices.view_invoicestock"):
            return stock.get_absolute_url()
        return reverse("invoices:my_stock")

    def problem(self, stock):
        if stock.state != StockState.ISSUED:
            return _("This stock is %(state)s.") % {"state": stock.get_state_display().lower()}
        return None

    def get(self, request, *args, **kwargs):
        return self.render_form(self.get_stock(), ReasonForm(help_text=self.help_text))

    def post(self, request, *args, **kwargs):
        stock = self.get_stock()
        form = ReasonForm(request.POST, help_text=self.help_text)
        if form.is_valid():
            try:
                self.perform(stock, form.cleaned_data["reason"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return redirect(self.back_url(stock))
        return self.render_form(stock, form)


class StockReturnView(StockActionView):
    permission_required = "invoices.change_invoicestock"
    title = gettext_lazy("Return the stock %(stock)s")
    submit_label = gettext_lazy("Return the unused numbers")
    help_text = gettext_lazy("The numbers used stay with this stock; the rest can be issued again.")

    def perform(self, stock, reason):
        numbering.return_stock(self.request.user, stock, reason)
        messages.success(self.request, _("The stock is returned."))


class StockSpoilView(StockActionView):
    permission_required = "invoices.add_invoice"
    title = gettext_lazy("Spoiled form of %(stock)s")
    submit_label = gettext_lazy("Record the spoiled form")
    help_text = gettext_lazy(
        "The next number's form is spoiled (jammed, misprinted): its number is used up."
    )

    def problem(self, stock):
        if stock.operator_id != self.request.user.pk:
            return _("Only the operator holding a stock records its spoiled forms.")
        return super().problem(stock)

    def perform(self, stock, reason):
        use = numbering.spoil_number(self.request.user, stock, reason)
        messages.success(
            self.request, _("Number %(number)s is recorded as spoiled.") % {"number": use.number}
        )


class MyStockView(PermissionMixin, TemplateView):
    """The operator's own stock: what they print from, the next number, the numbers used."""

    permission_required = "invoices.add_invoice"
    template_name = "invoices/my_stock.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        stocks = (
            InvoiceStock.objects.filter(operator=user)
            .select_related("kind", "issued_by")
            .order_by("state", "kind__sort_order", "pk")
        )
        for stock in stocks:
            stock.first_text, stock.last_text = stock.format(stock.first), stock.format(stock.last)
            stock.next_text = stock.format(stock.next)
        uses = (
            NumberUse.objects.filter(operator=user)
            .select_related("stock__kind", "invoice", "operator", "zone")
            .order_by("-at", "-id")[:50]
        )
        context.update(
            title=_("My invoice stock"),
            stocks=stocks,
            uses=NumberUseTable(uses, orderable=False),
            issued=StockState.ISSUED,
        )
        return context


class NumberUseListView(QueryView):
    """Every number taken from stock (F11.10): the invoice printed on it, or the spoiled form."""

    model = NumberUse
    title = gettext_lazy("Invoice numbers used")
    table_class = NumberUseTable
    filterset_class = NumberUseFilterSet
    export_name = "invoice-numbers"

    def get_queryset(self):
        return super().get_queryset().select_related("stock__kind", "invoice", "operator", "zone")

    def get_totals(self, queryset):
        sums = queryset.order_by().aggregate(
            count=Count("pk"), spoiled=Count("pk", filter=Q(use="spoiled"))
        )
        return sums["count"], [
            ("use-count", _("Numbers"), sums["count"]),
            ("use-spoiled", _("Spoiled forms"), sums["spoiled"]),
        ]


# ------------------------------------------------------------------------- invoices


class InvoiceListView(QueryView):
    """Invoices and their states (F7.6)."""

    model = Invoice
    title = gettext_lazy("Invoices")
    table_class = InvoiceTable
    filterset_class = InvoiceFilterSet
    export_name = "invoices"
    actions = (
        (gettext_lazy("Issue invoices"), "invoices:issue", "invoices.add_invoice"),
        (gettext_lazy("My invoice stock"), "invoices:my_stock", "invoices.add_invoice"),
    )

    def get_queryset(self):
        return (
            super().get_queryset().select_related("kind", "customer", "operator", "zone", "red_of")
        )

    def get_totals(self, queryset):
        sums = queryset.order_by().aggregate(
            count=Count("pk"),
            amount=Sum("amount", filter=Q(state=InvoiceState.ISSUED)),
            tax=Sum("tax_amount", filter=Q(state=InvoiceState.ISSUED)),
            void=Count("pk", filter=~Q(state=InvoiceState.ISSUED)),
        )
        return sums["count"], [
            ("invoice-count", _("Invoices"), sums["count"]),
            ("invoice-amount", _("Amount of live invoices"), money(sums["amount"] or ZERO)),
            ("invoice-tax", _("Tax"), money(sums["tax"] or ZERO)),
            ("invoice-void", _("Void or offset"), sums["void"]),
        ]


def bill_href(bill_id):
    return reverse("billing:bill_detail", args=[bill_id])


class InvoiceDetailView(ScopedViewMixin, TemplateView):
    """One invoice: who, what, the bills and tax lines, red invoices, the number's record."""

    model = Invoice
    template_name = "invoices/invoice_detail.html"

    def get_object(self):
        queryset = self.get_queryset().select_related(
            "kind",
            "customer",
            "operator",
            "unit",
            "zone",
            "stock",
            "red_of",
            "voided_by",
            "payment",
        )
        return get_object_or_404(queryset, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        invoice, user = self.get_object(), self.request.user
        rows = invoice.bill_rows.select_related("bill", "bill__customer", "bill__meter").order_by(
            "bill__customer__account_no", "bill__month", "bill_id", "part"
        )
        lines = list(invoice.lines.order_by("position"))
        for line in lines:
            line.rate_text = rate_label(line.tax_treatment, line.tax_rate)
        reds = invoice.red_invoices.select_related("operator").order_by("issued_at")
        pending = []
        if invoice.state == InvoiceState.ISSUED and not invoice.red_of_id:
            pending = pending_red_bills(invoice)
        void_problem = services.void_problem(user, invoice)
        context.update(
            invoice=invoice,
            object=invoice,
            title=_("Invoice %(number)s") % {"number": invoice.display_number},
            state_badge=badge(invoice.state, invoice.get_state_display()),
            rows=rows,
            lines=lines,
            reds=reds,
            pending_reds=pending,
            number_use=NumberUse.objects.filter(invoice=invoice).first(),
            can_void=user.has_perm("invoices.void_invoice") and void_problem is None,
            can_reprint=invoice.state != InvoiceState.VOID,
            can_red=bool(pending) and user.has_perm("invoices.add_invoice"),
            provider_status=Status.label(invoice.provider_status)
            if invoice.provider_status
            else "",
            electronic=invoice.medium == Medium.ELECTRONIC,
            history=history(invoice)[:50] if user.has_perm("core.view_auditentry") else None,
        )
        return context


def pending_red_bills(invoice):
    """Red bills correcting this invoice's bills that no live invoice carries yet."""
    bill_ids = invoice.bill_rows.filter(live=True, part__in=(Part.OWN, Part.AGENCY)).values(
        "bill_id"
    )
    reds = Bill.objects.filter(
        corrects_id__in=bill_ids, kind=BillKind.RED, state=BillState.ISSUED
    ).order_by("month", "id")
    reds = without_live_invoice(reds, [Part.OWN, Part.AGENCY])
    return list(reds)


class InvoiceActionMixin(ScopedViewMixin):
    model = Invoice

    def get_object(self):
        return get_object_or_404(
            self.get_queryset().select_related("kind", "operator"), pk=self.kwargs["pk"]
        )


class InvoiceVoidView(InvoiceActionMixin, TemplateView):
    """Void an invoice (F3.16–F3.19): its issuer only, with a reason."""

    template_name = "invoices/reason_form.html"

    def get_permission_required(self):
        return "invoices.void_invoice"

    def render_form(self, invoice, form):
        electronic = invoice.medium == Medium.ELECTRONIC
        return self.render_to_response(
            self.get_context_data(
                form=form,
                title=_("Void invoice %(number)s") % {"number": invoice.display_number},
                submit_label=_("Offset with a red e-invoice") if electronic else _("Void"),
                summary=[
                    (_("Buyer"), invoice.buyer_name),
                    (_("Amount"), invoice.amount),
                    (_("Issued by"), operator_name(invoice.operator)),
                    (_("Business date"), invoice.business_date),
                ],
                note=_(
                    "An e-invoice cannot be voided: a red e-invoice offsets it in full, and its "
                    "bills can be invoiced again."
                )
                if electronic
                else _("The number stays used; the bills can be invoiced again."),
                problem=services.void_problem(self.request.user, invoice),
                cancel_url=invoice.get_absolute_url(),
            )
        )

    def get(self, request, *args, **kwargs):
        return self.render_form(self.get_object(), ReasonForm())

    def post(self, request, *args, **kwargs):
        invoice = self.get_object()
        form = ReasonForm(request.POST)
        if form.is_valid():
            try:
                result = services.void_invoice(request.user, invoice, form.cleaned_data["reason"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                if result.pk != invoice.pk:
                    messages.success(
                        request,
                        _("Invoice %(number)s is offset by red e-invoice %(red)s.")
                        % {"number": invoice.display_number, "red": result.display_number},
                    )
                else:
                    messages.success(
                        request,
                        _("Invoice %(number)s is void.") % {"number": invoice.display_number},
                    )
                return redirect(invoice.get_absolute_url())
        return self.render_form(invoice, form)


class InvoiceReprintView(InvoiceActionMixin, View):
    """Print the invoice again, marked as a copy (posted from the detail page)."""

    def get(self, request, pk):
        return redirect(reverse("invoices:invoice_detail", args=[pk]))

    def post(self, request, pk):
        invoice = self.get_object()
        try:
            data = services.reprint_invoice(request.user, invoice)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except PRINT_ERRORS as exc:
            messages.error(request, str(exc))
        else:
            return pdf_response(data, f"invoice-{invoice.number}-copy.pdf")
        return redirect(invoice.get_absolute_url())


class InvoiceFileView(InvoiceActionMixin, View):
    """An e-invoice's file as the provider returned it (PDF or XML)."""

    field = "pdf_file"
    content_type = "application/pdf"

    def get(self, request, pk):
        invoice = self.get_object()
        name = getattr(invoice, self.field)
        if not name:
            raise Http404(_("This invoice has no such file."))
        response = HttpResponse(read_file(name), content_type=self.content_type)
        extension = self.field.split("_")[0]
        response["Content-Disposition"] = f'inline; filename="{invoice.number}.{extension}"'
        return response


class InvoiceXmlView(InvoiceFileView):
    field = "xml_file"
    content_type = "application/xml"


class InvoiceStatusView(InvoiceActionMixin, View):
    """Ask the e-invoice provider for the invoice's status (posted from the detail page)."""

    def get(self, request, pk):
        return redirect(reverse("invoices:invoice_detail", args=[pk]))

    def post(self, request, pk):
        invoice = self.get_object()
        try:
            status = services.query_einvoice(request.user, invoice)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.info(
                request, _("The provider says: %(status)s") % {"status": Status.label(status)}
            )
        return redirect(invoice.get_absolute_url())


class InvoiceRedView(InvoiceActionMixin, TemplateView):
    """Red invoices for the red bills correcting this invoice's bills (F3.22)."""

    template_name = "invoices/red_form.html"

    def get_permission_required(self):
        return "invoices.add_invoice"

    def render_page(self, invoice, error=None):
        reds = pending_red_bills(invoice) if invoice.state == InvoiceState.ISSUED else []
        for red in reds:
            red.parts = bill_parts([red])[red.pk]
        return self.render_to_response(
            self.get_context_data(
                invoice=invoice,
                title=_("Red invoice against %(number)s") % {"number": invoice.display_number},
                reds=reds,
                error=error,
            )
        )

    def get(self, request, *args, **kwargs):
        return self.render_page(self.get_object())

    def post(self, request, *args, **kwargs):
        invoice = self.get_object()
        red_id = request.POST.get("red_bill", "")
        red = next((b for b in pending_red_bills(invoice) if str(b.pk) == red_id), None)
        if red is None:
            return self.render_page(invoice, _("Choose a red bill of this invoice's bills."))
        try:
            issued = services.issue_red_invoices(request.user, red, request.POST.get("reason"))
        except ValidationError as exc:
            return self.render_page(invoice, " ".join(exc.messages))
        except PRINT_ERRORS as exc:
            return self.render_page(invoice, str(exc))
        return issued_response(request, issued, f"red-invoice-{invoice.number}")


# ------------------------------------------------------------------------- issuing


class IssueView(PermissionMixin, TemplateView):
    """Issue invoices from a customer's page (F3.8–F3.11, F3.15): choose the paid bills
    without an invoice, preview the totals, issue and print. More accounts make a combined
    invoice; ``meter`` keeps one meter's bills."""

    permission_required = "invoices.add_invoice"
    template_name = "invoices/issue.html"

    def customers(self):
        visible = Customer.objects.restrict(self.request.user)
        ids = [pk for pk in self.params.getlist("customer") if str(pk).isdigit()]
        found = visible.filter(pk__in=ids).select_related("zone", "book")
        order = {int(pk): n for n, pk in enumerate(ids)}
        return sorted(found, key=lambda c: order[c.pk])

    def kind(self, form_kind=None):
        usable = IssueForm(user=self.request.user).fields["kind"].queryset
        pk = self.params.get("kind", "")
        if form_kind is not None:
            return form_kind
        if str(pk).isdigit():
            chosen = usable.filter(pk=pk).first()
            if chosen:
                return chosen
        return usable.first()

    def candidates(self, customers, kind):
        """The customers' paid bills with none of the kind's parts on a live invoice."""
        if not customers or kind is None:
            return []
        bills = Bill.objects.restrict(self.request.user).filter(
            customer__in=customers, kind=BillKind.REGULAR, state=BillState.ISSUED
        )
        meter = self.params.get("meter", "")
        if str(meter).isdigit():
            bills = bills.filter(meter_id=meter)
        bills = without_live_invoice(filter_bill_status(bills, BillStatus.PAID), kind.parts)
        bills = list(
            with_status(bills)
            .select_related("customer", "meter")
            .order_by("customer__account_no", "-month", "meter_id", "id")[:200]
        )
        parts = bill_parts(bills)
        for bill in bills:
            to_fen(bill)
            bill.own = parts[bill.pk].amount(Part.OWN)
            bill.agency = parts[bill.pk].amount(Part.AGENCY)
        return bills

    def others(self, customers, shown):
        """The customers' latest bills not offered (not paid, or invoiced already)."""
        if not customers:
            return []
        bills = (
            with_status(
                Bill.objects.restrict(self.request.user)
                .filter(customer__in=customers, kind=BillKind.REGULAR, state=BillState.ISSUED)
                .exclude(pk__in=[b.pk for b in shown])
            )
            .select_related("customer", "meter")
            .order_by("-month", "id")[:24]
        )
        bills = [to_fen(bill) for bill in bills]
        rows = live_rows([b.pk for b in bills])
        for bill in bills:
            bill.invoices = [row.invoice for key, row in rows.items() if key[0] == bill.pk]
            bill.status_text = status_label(bill.status)
        return bills

    def matches(self):
        text = (self.params.get("account") or "").strip()
        if not text:
            return []
        visible = Customer.objects.restrict(self.request.user)
        exact = visible.filter(account_no=text).first()
        if exact:
            return [exact]
        return list(search_customers(visible, text).order_by("account_no")[:20])

    def query(self, customers, **extra):
        values = [("customer", c.pk) for c in customers]
        values += [(key, value) for key, value in extra.items() if value not in (None, "")]
        return "?" + urlencode(values)

    def render_page(self, form=None, draft=None):
        customers = self.customers()
        kind = self.kind(
            form.cleaned_data.get("kind") if form and form.is_bound and form.is_valid() else None
        )
        bills = self.candidates(customers, kind)
        choices = [(b.pk, str(b.pk)) for b in bills]
        if form is None:
            form = IssueForm(
                user=self.request.user,
                bill_choices=choices,
                initial={"kind": kind, "bills": [b.pk for b in bills]},
            )
        if form.is_bound:
            checked = {int(v) for v in form.data.getlist("bills") if str(v).isdigit()}
        else:  # the latest month's bills; older ones are ticked by hand
            latest = max((b.month for b in bills), default=None)
            checked = {b.pk for b in bills if b.month == latest}
        for bill in bills:
            bill.checked = bill.pk in checked
        matches = self.matches()
        for match in matches:
            match.href = reverse("invoices:issue") + self.query([*customers, match])
        meters = Meter.objects.filter(customer__in=customers).order_by("number")
        next_number = None
        if kind is not None and kind.uses_stock:
            stocks = numbering.own_stocks(self.request.user, kind)
            if stocks:
                next_number = f"{stocks[0].code} {stocks[0].format(stocks[0].next)}".strip()
        return self.render_to_response(
            self.get_context_data(
                title=_("Issue invoices"),
                customers=customers,
                kind=kind,
                kinds=form.fields["kind"].queryset,
                bills=bills,
                others=self.others(customers, bills),
                form=form,
                draft=draft,
                matches=matches,
                meters=meters,
                meter=self.params.get("meter", ""),
                next_number=next_number,
                left=numbering.remaining_numbers(self.request.user, kind)
                if kind is not None and kind.uses_stock
                else None,
                combined=len(customers) > 1,
            )
        )

    def get(self, request, *args, **kwargs):
        self.params = request.GET
        matches = self.matches()
        if len(matches) == 1:
            customers = self.customers()
            if matches[0] not in customers:
                customers.append(matches[0])
            return redirect(
                reverse("invoices:issue") + self.query(customers, kind=request.GET.get("kind"))
            )
        return self.render_page()

    def post(self, request, *args, **kwargs):
        self.params = request.POST
        customers = self.customers()
        kind = self.kind()
        bills = self.candidates(customers, kind)
        form = IssueForm(
            request.POST, user=request.user, bill_choices=[(b.pk, str(b.pk)) for b in bills]
        )
        if not customers or not form.is_valid():
            return self.render_page(form)
        data = form.cleaned_data
        chosen = data["bills"]
        owners = {b.customer_id for b in bills if b.pk in set(chosen)}
        several = len(owners) > 1
        try:
            if request.POST.get("action") != "issue":
                draft = services.draft_invoice(
                    request.user, data["kind"], chosen, several_customers=several
                )
                return self.render_page(form, draft)
            buyer = services.Buyer(
                name=data["buyer_name"], tax_id=data["buyer_tax_id"], type=data["buyer_type"]
            )
            if several:
                issued = services.issue_combined(
                    request.user, data["kind"], chosen, buyer, remark=data["remark"]
                )
            else:
                owner = next(c for c in customers if c.pk in owners)
                issued = services.issue_for_customer(
                    request.user, data["kind"], owner, chosen, buyer=buyer, remark=data["remark"]
                )
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.render_page(form)
        except PRINT_ERRORS as exc:
            form.add_error(None, str(exc))
            return self.render_page(form)
        return issued_response(request, issued, "invoice")


class BatchView(PermissionMixin, TemplateView):
    """A form, a preview of what it would issue, then issuing and the one PDF."""

    permission_required = "invoices.add_invoice"
    template_name = "invoices/batch.html"
    form_class = None
    title = ""
    intro = ""

    def get_form(self, data=None):
        return self.form_class(data, user=self.request.user, initial=self.initial())

    def initial(self):
        return {}

    def render_form(self, form, preview=None):
        return self.render_to_response(
            self.get_context_data(form=form, title=self.title, intro=self.intro, preview=preview)
        )

    def get(self, request, *args, **kwargs):
        return self.render_form(self.get_form())

    def post(self, request, *args, **kwargs):
        form = self.get_form(request.POST)
        if not form.is_valid():
            return self.render_form(form)
        try:
            if request.POST.get("action") != "issue":
                return self.render_form(form, self.preview(form.cleaned_data))
            issued = self.issue(form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        except PRINT_ERRORS as exc:
            form.add_error(None, str(exc))
        else:
            return issued_response(request, issued, self.filename)
        return self.render_form(form)

    def summary(self, kind, groups):
        """{customers, bills, amount, numbers, left, rows} of [(customer, bills)]."""
        bills = [bill for _c, group in groups for bill in group]
        parts = bill_parts(bills)
        amount = sum((parts[b.pk].amount(p) for b in bills for p in kind.parts), ZERO)
        return {
            "kind": kind,
            "customers": len(groups),
            "bills": len(bills),
            "amount": amount,
            "left": numbering.remaining_numbers(self.request.user, kind)
            if kind.uses_stock
            else None,
            "rows": [
                (
                    customer,
                    group,
                    sum((parts[b.pk].amount(p) for b in group for p in kind.parts), ZERO),
                )
                for customer, group in groups[:100]
            ],
        }


class CollectionView(BatchView):
    """Walking-collection invoices for books before collection (F3.1), in walking order."""

    form_class = CollectionForm
    title = gettext_lazy("Walking-collection invoices")
    intro = gettext_lazy(
        "One invoice per customer for the unpaid bills of the chosen books, numbered and "
        "printed in walking order from your own stock. An invoice the customer does not pay "
        "is voided when the collector brings it back."
    )
    filename = "walking-collection"

    def initial(self):
        book = self.request.GET.get("book", "")
        if book.isdigit():
            from watermis.customers.models import Book

            return {"books": Book.objects.restrict(self.request.user).filter(pk=book)}
        return {}

    def preview(self, data):
        groups = services.collection_bills(self.request.user, data["kind"], data["books"])
        if not groups:
            raise ValidationError(
                _("The chosen books have no unpaid bill without an invoice of this kind.")
            )
        return self.summary(data["kind"], groups)

    def issue(self, data):
        return services.issue_collection_invoices(self.request.user, data["kind"], data["books"])


class ReissueBatchView(BatchView):
    """Batch reissue for bills paid without an invoice (F3.6, F3.7)."""

    form_class = ReissueBatchForm
    title = gettext_lazy("Reissue invoices in a batch")
    intro = gettext_lazy(
        "Bills paid by prepaid deduction, bank or mobile payment that have no invoice of the "
        "chosen kind get one, one invoice per customer. A bill is never invoiced twice."
    )
    filename = "reissue"

    def filters(self, data):
        return {
            "zone": data.get("zone"),
            "paid_from": data.get("paid_from"),
            "paid_to": data.get("paid_to"),
            "channel": data.get("channel") or "",
        }

    def preview(self, data):
        bills = services.reissue_candidates(
            self.request.user, data["kind"], **self.filters(data)
        ).order_by("customer__account_no", "month", "id")
        groups = {}
        for bill in bills[: services.BATCH_LIMIT * 5]:
            groups.setdefault(bill.customer_id, (bill.customer, []))[1].append(bill)
        if not groups:
            raise ValidationError(_("No paid bill without an invoice matches these filters."))
        return self.summary(data["kind"], list(groups.values()))

    def issue(self, data):
        return services.reissue_batch(self.request.user, data["kind"], **self.filters(data))

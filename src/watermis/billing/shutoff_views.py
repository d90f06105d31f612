"""Shutoff and restore pages (F6.4): the list of meters to shut off for arrears (filter,
sort, page, Excel, a printable list for installers), recording a shutoff from it; the
list of meters shut off whose customers have paid since, and recording a restore.

The lists need ``billing.view_bill``; recording needs ``customers.change_meter`` too
and goes through ``customers.services.record_shutoff`` (which journals it).
"""

from decimal import Decimal

import django_tables2 as tables
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.generic import TemplateView
from django_tables2 import RequestConfig

from watermis.core.export import export_table, table_rows, xlsx_response
from watermis.core.forms import ScopedFormMixin, style_filter_form
from watermis.core.money import FEN
from watermis.core.views import PermissionMixin, add_service_errors, page_table
from watermis.customers.forms import ShutoffForm
from watermis.customers.models import Area, Book, Customer, Meter, MeterKind
from watermis.customers.services import record_shutoff
from watermis.org.models import Zone

from . import shutoff
from .latefees import LateFeeRules, arrears, arrears_for

VIEW_PERMISSION = "billing.view_bill"
RECORD_PERMISSION = "customers.change_meter"
PRINT_LIMIT = 3000  # rows on one printed list; narrow it down by book or area beyond that
FEE_CHUNK = 500  # customers per late-fee query when exporting

NUMBER = {
    "th": {"class": "text-end", "style": "white-space: normal"},
    "td": {"class": "text-end text-nowrap"},
}
NOWRAP = {"td": {"class": "text-nowrap"}}
WIDE = {"td": {"style": "min-width: 11rem"}}
NAME = {"td": {"style": "min-width: 4rem"}}


def money(value):
    return Decimal(value or 0).quantize(FEN)


def month_text(value):
    return f"{value:%Y-%m}" if value else ""


# --- filters ---------------------------------------------------------------------------------


class PlaceFilterForm(ScopedFormMixin, forms.Form):
    on = forms.DateField(
        label=gettext_lazy("As of"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    zone = forms.ModelChoiceField(Zone.objects.all(), label=gettext_lazy("Zone"), required=False)
    area = forms.ModelChoiceField(
        Area.objects.all(), label=gettext_lazy("Reading area"), required=False
    )
    book = forms.ModelChoiceField(
        Book.objects.all(), label=gettext_lazy("Reading book"), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_filter_form(self)

    def places(self):
        data = self.cleaned_data
        return {"zone": data.get("zone"), "area": data.get("area"), "book": data.get("book")}

    def as_of(self):
        return (self.cleaned_data.get("on") if self.is_valid() else None) or timezone.localdate()


def bound(form_class, request, **kwargs):
    """The filter form bound to the query string, the date defaulting to today."""
    data = request.GET.copy()
    if not data.get("on"):
        data["on"] = timezone.localdate().isoformat()
    return form_class(data, user=request.user, **kwargs)


class ShutoffFilterForm(PlaceFilterForm):
    months = forms.IntegerField(
        label=gettext_lazy("Months overdue at least"), required=False, min_value=1, max_value=600
    )
    amount = forms.DecimalField(
        label=gettext_lazy("Or amount overdue at least"),
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
    )

    def __init__(self, *args, defaults=(None, None), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["months"].widget.attrs["placeholder"] = defaults[0]
        self.fields["amount"].widget.attrs["placeholder"] = defaults[1]


# --- tables ----------------------------------------------------------------------------------


def label(model, name):
    return capfirst(model._meta.get_field(name).verbose_name)


def late_fees_of(records, on, rules):
    """Customer id → late fees owed as of ``on`` (charged and unpaid + accrued), for the
    customers of these rows: three queries per FEE_CHUNK customers."""
    fees = {}
    ids = sorted({r["customer_id"] for r in records})
    for start in range(0, len(ids), FEE_CHUNK):
        found = arrears_for(ids[start : start + FEE_CHUNK], on, rules)
        fees.update({pk: a.late_fee for pk, a in found.items()})
    return fees


def link(href, text):
    return format_html('<a href="{}">{}</a>', href, text)


class ShutoffTable(tables.Table):
    """Meters to shut off: rows are dicts from ``shutoff.shutoff_candidates``.

    ``late_fees`` (customer id → amount) is filled for the rows shown (:meth:`add_late_fees`).
    """

    account_no = tables.Column(gettext_lazy("Account"), attrs=NOWRAP)
    name = tables.Column(gettext_lazy("Account name"), attrs=NAME)
    address = tables.Column(label(Customer, "address"), attrs=WIDE)
    book_code = tables.Column(gettext_lazy("Book"), attrs=NOWRAP)
    meter_number = tables.Column(gettext_lazy("Meter"), attrs=NOWRAP)
    months = tables.Column(gettext_lazy("Months overdue"), attrs=NUMBER)
    oldest = tables.Column(gettext_lazy("Oldest month"), attrs=NOWRAP)
    overdue = tables.Column(gettext_lazy("Amount overdue"), attrs=NUMBER)
    late_fee = tables.Column(
        gettext_lazy("Late fee"), empty_values=(), orderable=False, attrs=NUMBER
    )
    phone = tables.Column(label(Customer, "phone"), orderable=False, attrs=NOWRAP)
    actions = tables.Column("", empty_values=(), orderable=False, exclude_from_export=True)

    def __init__(self, *args, can_record=False, next_url="", **kwargs):
        super().__init__(*args, **kwargs)
        self.can_record, self.next_url, self.late_fees = can_record, next_url, {}
        if not can_record:
            self.columns.hide("actions")

    def add_late_fees(self, records, on, rules):
        self.late_fees.update(late_fees_of(records, on, rules))

    def render_account_no(self, record, value):
        return link(reverse("customers:customer_detail", args=[record["customer_id"]]), value)

    def value_account_no(self, value):
        return value

    def render_meter_number(self, record, value):
        return link(reverse("customers:meter_detail", args=[record["meter_pk"]]), value)

    def value_meter_number(self, value):
        return value

    def render_oldest(self, value):
        return month_text(value)

    def value_oldest(self, value):
        return month_text(value)

    def render_overdue(self, value):
        return money(value)

    def value_overdue(self, value):
        return money(value)

    def render_late_fee(self, record):
        return money(self.late_fees.get(record["customer_id"]))

    def value_late_fee(self, record):
        return money(self.late_fees.get(record["customer_id"]))

    def render_actions(self, record):
        href = reverse("billing:shutoff_record", args=[record["meter_pk"]])
        if self.next_url:
            href += "?" + self.next_url
        return format_html(
            '<a class="btn btn-sm btn-outline-danger py-0 text-nowrap" href="{}">{}</a>',
            href,
            _("Shut off"),
        )


class RestoreTable(tables.Table):
    account_no = tables.Column(
        gettext_lazy("Account"), accessor="customer__account_no", attrs=NOWRAP
    )
    name = tables.Column(gettext_lazy("Account name"), accessor="customer__name", attrs=NAME)
    address = tables.Column(label(Customer, "address"), accessor="customer__address", attrs=WIDE)
    book_code = tables.Column(gettext_lazy("Book"), accessor="customer__book__code", attrs=NOWRAP)
    number = tables.Column(gettext_lazy("Meter"), attrs=NOWRAP)
    shut_on = tables.DateColumn(
        format="Y-m-d", verbose_name=gettext_lazy("Shut off on"), attrs=NOWRAP
    )
    shut_reason = tables.Column(gettext_lazy("Shutoff reason"), orderable=False)
    paid_on = tables.DateColumn(format="Y-m-d", verbose_name=gettext_lazy("Paid on"), attrs=NOWRAP)
    phone = tables.Column(
        label(Customer, "phone"), accessor="customer__phone", orderable=False, attrs=NOWRAP
    )
    actions = tables.Column("", empty_values=(), orderable=False, exclude_from_export=True)

    def __init__(self, *args, can_record=False, next_url="", **kwargs):
        super().__init__(*args, **kwargs)
        self.can_record, self.next_url = can_record, next_url
        if not can_record:
            self.columns.hide("actions")

    def render_account_no(self, record, value):
        return link(reverse("customers:customer_detail", args=[record.customer_id]), value)

    def value_account_no(self, value):
        return value

    def render_number(self, record, value):
        return link(reverse("customers:meter_detail", args=[record.pk]), value)

    def value_number(self, value):
        return value

    def render_actions(self, record):
        href = reverse("billing:restore_record", args=[record.pk])
        if self.next_url:
            href += "?" + self.next_url
        return format_html(
            '<a class="btn btn-sm btn-outline-success py-0 text-nowrap" href="{}">{}</a>',
            href,
            _("Restore"),
        )


def paginate(request, table):
    page_table(request, table)
    return [row.record for row in table.page.object_list]


def next_query(request, on):
    """``on=<the list's date>&next=<this page with its filters>`` for the record links."""
    query = QueryDict(mutable=True)
    query["on"] = on.isoformat()
    query["next"] = request.get_full_path()
    return query.urlencode()


# --- the shutoff list ------------------------------------------------------------------------


class ShutoffListView(PermissionMixin, TemplateView):
    """Meters to shut off for arrears (F6.4); ``?export=xlsx`` for Excel, ``?print=1`` for
    the installers' list in book and route order."""

    permission_required = VIEW_PERMISSION
    template_name = "billing/shutoff_list.html"

    def get(self, request, *args, **kwargs):
        defaults = shutoff.shutoff_thresholds()
        form = bound(ShutoffFilterForm, request, defaults=defaults)
        valid = form.is_valid()
        on = form.as_of()
        data = form.cleaned_data if valid else {}
        months = data.get("months") or defaults[0]
        amount = data["amount"] if data.get("amount") is not None else defaults[1]
        rows = []
        if valid:
            # one query for the whole list: counting, totals, sorting and paging it in
            # SQL would run the arrears query three times
            rows = list(
                shutoff.shutoff_candidates(
                    request.user, on, months=months, amount=amount, **form.places()
                )
            )
            for row in rows:
                row["overdue"] = money(row["overdue"])
        rules = LateFeeRules.from_params()
        title = _("Shutoff list")
        table = ShutoffTable(
            rows,
            request=request,
            can_record=request.user.has_perm(RECORD_PERMISSION),
            next_url=next_query(request, on),
        )
        if request.GET.get("export") == "xlsx":
            RequestConfig(request, paginate=False).configure(table)
            table.add_late_fees(rows, on, rules)
            header, values = table_rows(table)
            return xlsx_response("shutoff-list", title, header, values)
        context = {
            "form": form,
            "title": title,
            "on": on,
            "months": months,
            "amount": money(amount),
        }
        if request.GET.get("print"):
            return self.print_list(rows, on, rules, context)
        table.add_late_fees(paginate(request, table), on, rules)
        return self.render_to_response(
            self.get_context_data(
                table=table,
                meters=len(rows),
                overdue=sum((row["overdue"] for row in rows), Decimal("0.00")),
                **context,
            )
        )

    def print_list(self, rows, on, rules, context):
        walk = ("book_code", "route_order", "account_no", "meter_number")
        records = sorted(rows, key=lambda r: tuple(r[k] for k in walk))
        cut = len(records) > PRINT_LIMIT
        records = records[:PRINT_LIMIT]
        fees = late_fees_of(records, on, rules)
        for number, record in enumerate(records, start=1):
            record["number"] = number
            record["oldest_text"] = month_text(record["oldest"])
            record["late_fee"] = money(fees.get(record["customer_id"]))
        form = context["form"]
        places = form.places() if form.is_valid() else {}
        return self.response_class(
            request=self.request,
            template="billing/shutoff_print.html",
            context={
                **context,
                "records": records,
                "cut": cut,
                "limit": PRINT_LIMIT,
                "places": [str(v) for v in places.values() if v is not None],
                "printed_at": timezone.localtime(),
                "address_label": label(Customer, "address"),
                "phone_label": label(Customer, "phone"),
                "total": sum((r["overdue"] for r in records), Decimal("0.00")),
            },
        )


# --- the restore list ------------------------------------------------------------------------


class RestoreListView(PermissionMixin, TemplateView):
    """Meters shut off whose customers have nothing overdue any more: to restore (F6.4)."""

    permission_required = VIEW_PERMISSION
    template_name = "billing/shutoff_restore_list.html"

    def get(self, request, *args, **kwargs):
        form = bound(PlaceFilterForm, request)
        on = form.as_of()
        if form.is_valid():
            rows = shutoff.restore_candidates(request.user, on, **form.places())
        else:
            rows = Meter.objects.none()
        title = _("Restore list")
        table = RestoreTable(
            rows,
            request=request,
            can_record=request.user.has_perm(RECORD_PERMISSION),
            next_url=next_query(request, on),
        )
        if request.GET.get("export") == "xlsx":
            return export_table(request, table, "restore-list", title)
        paginate(request, table)
        return self.render_to_response(
            self.get_context_data(form=form, table=table, title=title, on=on)
        )


# --- recording -------------------------------------------------------------------------------


class RecordView(TemplateView):
    """Record a shutoff (or, ``restore``, a restore) of one meter from the lists."""

    template_name = "billing/shutoff_form.html"
    restore = False

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perms((VIEW_PERMISSION, RECORD_PERMISSION)):
            raise PermissionDenied(_("You do not have permission to open this page."))
        return super().dispatch(request, *args, **kwargs)

    def get_object(self):
        meters = Meter.objects.restrict(self.request.user, "change").filter(kind=MeterKind.CUSTOMER)
        return get_object_or_404(meters.select_related("customer__book"), pk=self.kwargs["pk"])

    def list_url(self):
        return reverse("billing:restore_list" if self.restore else "billing:shutoff_list")

    def next_url(self):
        wanted = self.request.POST.get("next") or self.request.GET.get("next") or ""
        if wanted and url_has_allowed_host_and_scheme(
            wanted, allowed_hosts={self.request.get_host()}
        ):
            return wanted
        return self.list_url()

    def default_reason(self, figures):
        if self.restore:
            return _("Arrears paid")
        return ngettext(
            "Arrears: %(months)s month overdue, %(amount)s yuan",
            "Arrears: %(months)s months overdue, %(amount)s yuan",
            figures["months"],
        ) % {"months": figures["months"], "amount": money(figures["overdue"])}

    def render(self, meter, form, on):
        customer = meter.customer
        owed = arrears(customer.pk, on)
        figures = shutoff.customer_overdue(customer.pk, on)
        title = _("Restore supply") if self.restore else _("Shut off supply")
        summary = [
            (_("Meter number"), meter.number),
            (_("Valve"), meter.get_valve_state_display()),
            (_("Customer"), f"{customer.account_no} {customer.name}"),
            (label(Customer, "address"), customer.address),
            (label(Customer, "phone"), customer.phone or "—"),
            (_("Reading book"), customer.book),
            (_("Months overdue"), figures["months"]),
            (_("Oldest month"), month_text(figures["oldest"]) or "—"),
            (_("Amount overdue"), money(figures["overdue"])),
            (_("Late fee"), money(owed.late_fee)),
        ]
        return self.render_to_response(
            self.get_context_data(
                title=f"{title} · {meter.number}",
                submit_label=title,
                object=meter,
                summary=summary,
                arrears=owed,
                form=form,
                next=self.next_url(),
                restore=self.restore,
            )
        )

    def as_of(self):
        """The date the figures are shown for: the list's (``on``), else today."""
        field = forms.DateField(required=False)
        raw = self.request.POST.get("on") or self.request.GET.get("on")
        try:
            return field.clean(raw) or timezone.localdate()
        except ValidationError:
            return timezone.localdate()

    def get(self, request, *args, **kwargs):
        meter = self.get_object()
        on = self.as_of()
        figures = shutoff.customer_overdue(meter.customer_id, on)
        initial = {"reason": self.default_reason(figures)}
        if request.GET.get("on"):
            initial["on"] = on
        form = ShutoffForm(initial=initial, user=request.user)
        return self.render(meter, form, on)

    def post(self, request, *args, **kwargs):
        meter = self.get_object()
        form = ShutoffForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                record_shutoff(
                    request.user,
                    meter,
                    data["on"],
                    data["installer"],
                    data["reason"],
                    restore=self.restore,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                message = (
                    _("Supply restored: %(meter)s")
                    if self.restore
                    else _("Supply shut off: %(meter)s")
                )
                messages.success(request, message % {"meter": meter.number})
                return redirect(self.next_url())
        return self.render(meter, form, self.as_of())

"""Walking-collection pages (F3.2–F3.5): a collector's outstanding invoices with the
registration of what came back (paid, returned, transferred to inspection), manual
tickets, remittances and collector statistics. Every change goes through
:mod:`.collection`, which checks the permission, the zone and the rules again."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from watermis.core.export import xlsx_response
from watermis.core.views import (
    ObjectDetailView,
    ObjectListView,
    PermissionMixin,
    add_service_errors,
)

from . import collection
from .collection_forms import (
    CollectorChoiceForm,
    PeriodForm,
    RegisterForm,
    RemittanceFilterSet,
    TicketForm,
)
from .collection_tables import RemittanceTable
from .models import Remittance

PERMISSION = collection.PERMISSION


class CollectionView(PermissionMixin, TemplateView):
    """A collector's live walking-collection invoices; tick those that came back and say
    what happened to them."""

    permission_required = PERMISSION
    template_name = "payments/collection.html"

    def collector(self):
        form = CollectorChoiceForm(self.request.GET or None, user=self.request.user)
        return form, (form.cleaned_data["collector"] if form.is_bound and form.is_valid() else None)

    def render_page(self, register_form=None, chosen=()):
        choice, collector = self.collector()
        rows = collection.outstanding(collector) if collector else []
        return self.render_to_response(
            self.get_context_data(
                title=_("Walking collection: register what came back"),
                choice_form=choice,
                collector=collector,
                rows=rows,
                total=sum((amount for _i, amount in rows), collection.ZERO),
                form=register_form or RegisterForm(),
                chosen={int(pk) for pk in chosen if str(pk).isdigit()},
            )
        )

    def get(self, request, *args, **kwargs):
        return self.render_page()

    def post(self, request, *args, **kwargs):
        _choice, collector = self.collector()
        if collector is None:
            return redirect("payments:collection")
        form = RegisterForm(request.POST)
        chosen = request.POST.getlist("invoice")
        if form.is_valid():
            data = form.cleaned_data
            ids = [int(pk) for pk in chosen if pk.isdigit()]
            try:
                if data["action"] == RegisterForm.PAID:
                    remittance = collection.register_remittance(
                        request.user,
                        collector,
                        invoice_ids=ids,
                        business_date=data["business_date"],
                        note=data["reason"],
                    )
                    messages.success(
                        request,
                        _("Registered %(count)s payments, %(amount)s in all.")
                        % {"count": remittance.count, "amount": remittance.amount},
                    )
                    return redirect(remittance)
                if data["action"] == RegisterForm.RETURNED:
                    voided = collection.register_returned(
                        request.user, collector, ids, data["reason"]
                    )
                    messages.success(
                        request, _("%(count)s invoices voided.") % {"count": len(voided)}
                    )
                else:
                    moved = collection.register_inspection(
                        request.user, collector, ids, data["reason"]
                    )
                    messages.success(
                        request,
                        _("%(count)s bills transferred to inspection-collection.")
                        % {"count": len(moved)},
                    )
                return redirect(f"{reverse('payments:collection')}?collector={collector.pk}")
            except ValidationError as exc:
                add_service_errors(form, exc)
        return self.render_page(form, chosen)


class TicketView(PermissionMixin, TemplateView):
    """F3.5: money a collector took on a handwritten ticket."""

    permission_required = PERMISSION
    template_name = "core/object_form.html"

    def render_form(self, form):
        return self.render_to_response(
            self.get_context_data(
                form=form,
                title=_("Register a manual ticket"),
                cancel_url=reverse("payments:collection"),
            )
        )

    def get(self, request, *args, **kwargs):
        initial = {}
        if request.GET.get("collector", "").isdigit():
            initial["collector"] = request.GET["collector"]
        return self.render_form(TicketForm(initial=initial, user=request.user))

    def post(self, request, *args, **kwargs):
        form = TicketForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                remittance = collection.register_remittance(
                    request.user,
                    data["collector"],
                    tickets=[
                        collection.ManualTicket(form.customer, data["ticket"], data["amount"])
                    ],
                    business_date=data["business_date"],
                    note=data["note"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The manual ticket is registered as paid."))
                return redirect(remittance)
        return self.render_form(form)


class RemittanceListView(ObjectListView):
    model = Remittance
    table_class = RemittanceTable
    filterset_class = RemittanceFilterSet
    export_name = "remittances"

    def get_queryset(self):
        return super().get_queryset().select_related("collector", "zone", "registered_by")


class RemittanceDetailView(ObjectDetailView):
    model = Remittance
    template_name = "payments/remittance_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["lines"] = (
            context["object"].lines.select_related("customer", "invoice", "entry").order_by("pk")
        )
        return context


class CollectorStatisticsView(PermissionMixin, TemplateView):
    """F3.2: per collector, what was issued, paid, returned, transferred; outstanding now."""

    permission_required = "payments.view_remittance"
    template_name = "payments/collection_statistics.html"
    COLUMNS = [
        ("issued", "issued_amount", _("Invoices issued")),
        ("paid", "paid_amount", _("Paid (remitted)")),
        ("tickets", "ticket_amount", _("Manual tickets")),
        ("returned", "returned_amount", _("Returned (voided)")),
        ("transferred", "transferred_amount", _("To inspection")),
        ("outstanding", "outstanding_amount", _("Outstanding now")),
    ]

    def get(self, request, *args, **kwargs):
        today = timezone.localdate()
        data = {"date_from": today.replace(day=1), "date_to": today}
        data.update({k: v for k, v in request.GET.items() if k in data and v})
        form = PeriodForm(data)
        rows = []
        if form.is_valid():
            rows = collection.collector_statistics(
                collection.collectors(request.user),
                form.cleaned_data["date_from"],
                form.cleaned_data["date_to"],
            )
        columns = [(n, a, str(label)) for n, a, label in self.COLUMNS]
        if rows and request.GET.get("export") == "xlsx":
            header = [_("Collector")]
            for _n, _a, label in columns:
                header += [f"{label}", f"{label} ({_('amount')})"]
            data = [
                [str(row["collector"].name)] + [v for n, a, _l in columns for v in (row[n], row[a])]
                for row in rows
            ]
            return xlsx_response("collectors", _("Collector statistics"), header, data)
        return self.render_to_response(
            self.get_context_data(
                title=_("Collector statistics"),
                form=form,
                columns=columns,
                rows=[
                    (row["collector"], [(row[n], row[a]) for n, a, _l in columns]) for row in rows
                ],
            )
        )

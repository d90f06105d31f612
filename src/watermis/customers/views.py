"""Customer and meter pages (M5, M6, F11.6, F11.7): reading areas and books, customers
with their meters, the business-hall actions (open an account, add, replace, transfer,
shut off and restore a meter), the route-order, book-move and batch-update wizards,
and the queries. Data changes only through ``services``.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from watermis.core.forms import style_filter_form
from watermis.core.views import (
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    PermissionMixin,
    ScopedViewMixin,
)

from . import services
from .filtersets import (
    AreaFilterSet,
    BookFilterSet,
    ClosedCustomerFilterSet,
    CustomerFilterSet,
    MasterMeterFilterSet,
    MeterEventFilterSet,
    MeterFilterSet,
    NewCustomerFilterSet,
)
from .forms import (
    AreaForm,
    BatchUpdateForm,
    BookForm,
    CustomerForm,
    CustomerStatusForm,
    CustomerSurchargeForm,
    EndSurchargeForm,
    MasterMeterForm,
    MeterForm,
    MoveCustomersForm,
    NewCustomerForm,
    OpenCustomerForm,
    ReplaceMeterForm,
    ShutoffForm,
    TransferMeterForm,
)
from .models import (
    Area,
    Book,
    Customer,
    CustomerStatus,
    CustomerSurcharge,
    Meter,
    MeterEvent,
    MeterKind,
    MeterStatus,
    ValveState,
)
from .tables import (
    AreaTable,
    BookTable,
    ClosedCustomerTable,
    CustomerTable,
    MasterMeterTable,
    MeterEventTable,
    MeterTable,
)

WIZARD_LIMIT = 500  # accounts listed at once in the move and batch-update wizards


def distribute_errors(exc, forms, aliases=None):
    """Show a service's ValidationError beside the field it names, in whichever form has it."""
    aliases = aliases or {}
    if not hasattr(exc, "error_dict"):
        forms[0].add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        name = aliases.get(name, name)
        target = next((f for f in forms if name in f.fields), None)
        if target is None:
            forms[0].add_error(None, errors)
        else:
            target.add_error(name, errors)


def customer_events(user, customer):
    return (
        MeterEvent.objects.restrict(user)
        .filter(Q(meter__customer=customer) | Q(from_customer=customer) | Q(to_customer=customer))
        .select_related("meter", "new_meter", "from_customer", "to_customer", "installer")
        .distinct()
    )


# --- reading areas and books (F11.6, F11.7) -------------------------------------------------


class AreaListView(ObjectListView):
    model = Area
    table_class = AreaTable
    filterset_class = AreaFilterSet
    create_url = "customers:area_add"
    export_name = "reading-areas"

    def get_queryset(self):
        return super().get_queryset().select_related("zone").annotate(book_count=Count("books"))


class AreaDetailView(ObjectDetailView):
    model = Area
    edit_url = "customers:area_edit"
    template_name = "customers/area_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["books"] = (
            Book.objects.restrict(self.request.user)
            .filter(area=context["object"])
            .select_related("reader", "collector")
            .annotate(customer_count=Count("customers"))
        )
        context["can_add_book"] = self.request.user.has_perm("customers.add_book")
        return context


class AreaEditView(ObjectEditView):
    model = Area
    form_class = AreaForm
    create_service = services.create_area
    update_service = services.update_area


class BookListView(ObjectListView):
    model = Book
    table_class = BookTable
    filterset_class = BookFilterSet
    create_url = "customers:book_add"
    export_name = "reading-books"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("area__zone", "reader", "collector")
            .annotate(customer_count=Count("customers"))
        )


class BookDetailView(ObjectDetailView):
    """A book: reader, collector, cycle, reading day, and its accounts in walking order."""

    model = Book
    edit_url = "customers:book_edit"
    template_name = "customers/book_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["customers"] = (
            Customer.objects.restrict(user)
            .filter(book=context["object"])
            .select_related("category")
            .order_by("route_order", "account_no")
        )
        context["can_reorder"] = user.has_perm("customers.change_customer")
        return context


class BookEditView(ObjectEditView):
    model = Book
    form_class = BookForm
    create_service = services.create_book
    update_service = services.update_book

    def get_form(self, obj, data=None):
        initial = {}
        if obj is None and self.request.GET.get("area", "").isdigit():
            initial["area"] = self.request.GET["area"]
        return self.form_class(data, instance=obj, initial=initial, user=self.request.user)


# --- customers (F5.1, F5.6, F5.7) -----------------------------------------------------------


class CustomerListView(ObjectListView):
    model = Customer
    table_class = CustomerTable
    filterset_class = CustomerFilterSet
    create_url = "customers:customer_open"
    export_name = "customers"

    def get_queryset(self):
        return super().get_queryset().select_related("zone", "book", "category")


class NewCustomerListView(CustomerListView):
    filterset_class = NewCustomerFilterSet
    title = gettext_lazy("New customers")
    export_name = "new-customers"

    def get_queryset(self):
        return super().get_queryset().order_by("-opened_on", "account_no")


class ClosedCustomerListView(CustomerListView):
    filterset_class = ClosedCustomerFilterSet
    table_class = ClosedCustomerTable
    title = gettext_lazy("Closed customers")
    create_url = None
    export_name = "closed-customers"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .filter(status=CustomerStatus.CLOSED)
            .order_by("-closed_on", "account_no")
        )


CUSTOMER_DETAIL_FIELDS = [
    "account_no",
    "name",
    "phone",
    "phone2",
    "address",
    "id_number",
    "zone",
    "book",
    "route_order",
    "category",
    "household_size",
    "low_income",
    "payment_method",
    "bank_name",
    "bank_account",
    "mandate_no",
    "mandate_signed_on",
    "status",
    "opened_on",
    "suspended_on",
    "closed_on",
    "note",
]


def detail_rows(obj, names):
    rows = []
    for name in names:
        field = obj._meta.get_field(name)
        value = getattr(obj, f"get_{name}_display")() if field.choices else getattr(obj, name)
        rows.append((field.verbose_name, value))
    return rows


class CustomerDetailView(ObjectDetailView):
    """The account, its meters, their events, its history and the counter's actions."""

    model = Customer
    edit_url = "customers:customer_edit"
    template_name = "customers/customer_detail.html"

    def get_fields(self, obj):
        return detail_rows(obj, CUSTOMER_DETAIL_FIELDS)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        customer, user = context["object"], self.request.user
        context.update(
            meters=Meter.objects.restrict(user)
            .filter(customer=customer)
            .select_related("tariff", "master", "parent")
            .order_by("status", "number"),
            events=customer_events(user, customer)[:100],
            surcharges=CustomerSurcharge.objects.restrict(user)
            .filter(customer=customer)
            .select_related("item"),
            can_add_surcharge=user.has_perm("customers.add_customersurcharge")
            and customer.status != CustomerStatus.CLOSED,
            can_end_surcharge=user.has_perm("customers.change_customersurcharge"),
            can_add_meter=user.has_perm("customers.add_meter")
            and customer.status != CustomerStatus.CLOSED,
            can_change_status=context["can_change"] and customer.status != CustomerStatus.CLOSED,
        )
        return context


class CustomerEditView(ObjectEditView):
    model = Customer
    form_class = CustomerForm
    update_service = services.update_customer


class OpenCustomerView(ScopedViewMixin, TemplateView):
    """Open an account (F5.1): the customer and the first meter in one form."""

    model = Customer
    action = "add"
    template_name = "customers/open_form.html"

    def forms(self, data=None):
        user = self.request.user
        return (
            OpenCustomerForm(data, user=user),
            MeterForm(data, prefix="meter", user=user),
        )

    def render(self, customer_form, meter_form):
        return self.render_to_response(
            self.get_context_data(
                form=customer_form, meter_form=meter_form, title=_("Open an account")
            )
        )

    def get(self, request, *args, **kwargs):
        return self.render(*self.forms())

    def post(self, request, *args, **kwargs):
        customer_form, meter_form = self.forms(request.POST)
        if customer_form.is_valid() & meter_form.is_valid():
            try:
                customer = services.open_customer(
                    request.user, customer_form.cleaned_data, meter_form.cleaned_data
                )
            except ValidationError as exc:
                distribute_errors(exc, [customer_form, meter_form])
            except PermissionDenied as exc:
                customer_form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("Account opened: account number %(account)s, meter %(meter)s.")
                    % {
                        "account": customer.account_no,
                        "meter": customer.meters.first(),
                    },
                )
                return redirect(customer.get_absolute_url())
        return self.render(customer_form, meter_form)


class ObjectActionView(ScopedViewMixin, TemplateView):
    """One business action on one record: a form, then a service call.

    Subclasses set ``model``, ``form_class``, ``title`` and implement
    ``perform(obj, form)`` returning the object to show afterwards.
    """

    action = "change"
    template_name = "customers/action_form.html"
    form_class = None
    title = None
    submit_label = gettext_lazy("Save")
    error_aliases = {}

    def get_object(self):
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def get_form(self, obj, data=None):
        return self.form_class(data, user=self.request.user)

    def extra_forms(self, obj, data=None):
        return []

    def summary(self, obj):
        return []

    def render(self, obj, form, extra):
        return self.render_to_response(
            self.get_context_data(
                object=obj,
                form=form,
                extra_forms=extra,
                title=f"{self.title} · {obj}",
                summary=self.summary(obj),
                submit_label=self.submit_label,
            )
        )

    def get(self, request, *args, **kwargs):
        obj = self.get_object()
        return self.render(obj, self.get_form(obj), self.extra_forms(obj))

    def forms_valid(self, form, extra):
        return form.is_valid()

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        form = self.get_form(obj, request.POST)
        extra = self.extra_forms(obj, request.POST)
        if self.forms_valid(form, extra):
            try:
                shown = self.perform(obj, form, extra)
            except ValidationError as exc:
                distribute_errors(exc, [form, *extra], self.error_aliases)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                return redirect(shown.get_absolute_url())
        return self.render(obj, form, extra)


def customer_summary(customer):
    return [
        (_("Account number"), customer.account_no),
        (_("Account name"), customer.name),
        (_("Service address"), customer.address),
        (_("Status"), customer.get_status_display()),
    ]


def meter_summary(meter):
    return [
        (_("Meter number"), meter.number),
        (_("Customer"), meter.customer or "—"),
        (_("Caliber"), meter.get_caliber_display()),
        (_("Installed on"), meter.installed_on),
        (_("Initial reading"), meter.initial_reading),
        (_("Valve"), meter.get_valve_state_display()),
    ]


class CustomerStatusView(ObjectActionView):
    """Suspend, resume or close an account."""

    model = Customer
    form_class = CustomerStatusForm
    title = gettext_lazy("Change status")

    def get_form(self, obj, data=None):
        return self.form_class(data)

    def summary(self, obj):
        return customer_summary(obj)

    def perform(self, obj, form, extra):
        data = form.cleaned_data
        customer = services.set_customer_status(
            self.request.user, obj, data["status"], data["on"], data["reason"]
        )
        messages.success(
            self.request,
            _("%(customer)s is now: %(status)s")
            % {"customer": customer, "status": customer.get_status_display()},
        )
        return customer


class CustomerAddMeterView(ObjectActionView):
    """Another meter for a customer (F5.2)."""

    model = Customer
    permission_required = "customers.add_meter"
    title = gettext_lazy("Add a meter")

    def get_form(self, obj, data=None):
        return MeterForm(data, user=self.request.user)

    def summary(self, obj):
        return customer_summary(obj)

    def perform(self, obj, form, extra):
        meter = services.add_meter(self.request.user, obj, form.cleaned_data)
        messages.success(self.request, _("Meter %(meter)s added.") % {"meter": meter})
        return obj


class CustomerSurchargeAddView(ObjectActionView):
    """Charge one customer an extra fee (F11.5)."""

    model = Customer
    permission_required = "customers.add_customersurcharge"
    title = gettext_lazy("Add a surcharge")

    def get_form(self, obj, data=None):
        return CustomerSurchargeForm(
            data, user=self.request.user, initial={"starts_on": timezone.localdate()}
        )

    def summary(self, obj):
        return customer_summary(obj)

    def perform(self, obj, form, extra):
        surcharge = services.add_customer_surcharge(self.request.user, obj, form.cleaned_data)
        messages.success(self.request, _("Surcharge added: %(s)s") % {"s": surcharge})
        return obj


class SurchargeEndView(ObjectActionView):
    """End a customer's surcharge from a date (it is never deleted)."""

    model = CustomerSurcharge
    title = gettext_lazy("End a surcharge")

    def get_form(self, obj, data=None):
        return EndSurchargeForm(data)

    def summary(self, obj):
        return [
            *customer_summary(obj.customer),
            (_("Price item"), obj.item),
            (_("Amount"), f"{obj.amount} ({obj.get_kind_display()})"),
            (_("From"), obj.starts_on),
        ]

    def perform(self, obj, form, extra):
        data = form.cleaned_data
        surcharge = services.end_customer_surcharge(
            self.request.user, obj, data["ends_on"], data["reason"]
        )
        messages.success(self.request, _("Surcharge ended: %(s)s") % {"s": surcharge})
        return surcharge


# --- meters (F5.2, F6.1–F6.5, F6.7) ---------------------------------------------------------


class MeterListView(ObjectListView):
    model = Meter
    table_class = MeterTable
    filterset_class = MeterFilterSet
    export_name = "meters"

    def get_queryset(self):
        return super().get_queryset().select_related("customer", "zone", "tariff", "master")


class MasterMeterListView(ObjectListView):
    model = Meter
    table_class = MasterMeterTable
    filterset_class = MasterMeterFilterSet
    title = gettext_lazy("Master meters")
    create_url = "customers:master_add"
    export_name = "master-meters"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .exclude(kind=MeterKind.CUSTOMER)
            .select_related("zone")
            .annotate(behind_count=Count("behind"))
        )


def _create_master_meter(actor, data):
    return services.create_master_meter(actor, data, data["zone"], data["kind"])


class MasterMeterAddView(ObjectEditView):
    model = Meter
    form_class = MasterMeterForm
    create_service = _create_master_meter

    def render_form(self, form, obj):
        return self.render_to_response(
            self.get_context_data(form=form, object=obj, title=_("New master meter"))
        )


METER_DETAIL_FIELDS = [
    "number",
    "kind",
    "customer",
    "zone",
    "caliber",
    "brand",
    "model",
    "digits",
    "installed_on",
    "initial_reading",
    "tariff",
    "location",
    "remote_read",
    "remote_valve",
    "device_address",
    "parent",
    "master",
    "status",
    "removed_on",
    "final_reading",
    "valve_state",
]


class MeterDetailView(ObjectDetailView):
    model = Meter
    edit_url = "customers:meter_edit"
    template_name = "customers/meter_detail.html"

    def get_fields(self, obj):
        return detail_rows(obj, METER_DETAIL_FIELDS)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        meter, user = context["object"], self.request.user
        active = meter.status == MeterStatus.ACTIVE and context["can_change"]
        context.update(
            events=MeterEvent.objects.restrict(user)
            .filter(Q(meter=meter) | Q(new_meter=meter))
            .select_related("meter", "new_meter", "from_customer", "to_customer", "installer"),
            can_replace=active and meter.kind == MeterKind.CUSTOMER,
            can_transfer=active and meter.kind == MeterKind.CUSTOMER,
            can_shutoff=active and meter.valve_state != ValveState.CLOSED,
            can_restore=active and meter.valve_state == ValveState.CLOSED,
            can_change=active,
            subs=Meter.objects.restrict(user).filter(parent=meter),
            behind=Meter.objects.restrict(user)
            .filter(master=meter)
            .select_related("customer")[:200]
            if meter.kind != MeterKind.CUSTOMER
            else None,
        )
        return context


class MeterEditView(ObjectEditView):
    model = Meter
    update_service = services.update_meter

    def get_form(self, obj, data=None):
        form_class = MeterForm if obj.kind == MeterKind.CUSTOMER else MasterMeterForm
        return form_class(data, instance=obj, user=self.request.user)


class MeterReplaceView(ObjectActionView):
    """Replace a meter (F6.3)."""

    model = Meter
    form_class = ReplaceMeterForm
    title = gettext_lazy("Replace the meter")
    submit_label = gettext_lazy("Replace")

    def get_form(self, obj, data=None):
        initial = {"brand": obj.brand, "model": obj.model, "digits": obj.digits}
        return self.form_class(data, initial=initial, user=self.request.user)

    def summary(self, obj):
        return meter_summary(obj)

    def perform(self, obj, form, extra):
        data = form.cleaned_data
        new = services.replace_meter(
            self.request.user,
            obj,
            form.meter_data(),
            data["old_final_reading"],
            data["on"],
            installer=data["installer"],
            reason=data["reason"],
        )
        messages.success(
            self.request,
            _("Meter %(old)s replaced by %(new)s.") % {"old": obj.number, "new": new.number},
        )
        return new


class MeterTransferView(ObjectActionView):
    """Transfer a meter to an existing or a new account (F6.5)."""

    model = Meter
    form_class = TransferMeterForm
    title = gettext_lazy("Transfer the meter")
    submit_label = gettext_lazy("Transfer")
    template_name = "customers/transfer_form.html"
    error_aliases = {"to_customer": "to_account"}

    def extra_forms(self, obj, data=None):
        return [NewCustomerForm(data, prefix="new", user=self.request.user)]

    def forms_valid(self, form, extra):
        valid = form.is_valid()
        if form.cleaned_data.get("target") == TransferMeterForm.NEW:
            valid = extra[0].is_valid() and valid
        return valid

    def summary(self, obj):
        return meter_summary(obj)

    def perform(self, obj, form, extra):
        data = form.cleaned_data
        new_customer = None
        if data["target"] == TransferMeterForm.NEW:
            new_customer = extra[0].cleaned_data
        meter = services.transfer_meter(
            self.request.user,
            obj,
            to_customer=form.to_customer,
            new_customer=new_customer,
            on=data["on"],
            reason=data["reason"],
        )
        meter.refresh_from_db()
        messages.success(
            self.request,
            _("Meter %(meter)s transferred to %(customer)s.")
            % {"meter": meter, "customer": meter.customer},
        )
        return meter


class MeterShutoffView(ObjectActionView):
    """Record a shutoff, or a restore, of a meter's supply (F6.4)."""

    model = Meter
    form_class = ShutoffForm
    restore = False

    @property
    def title(self):
        return _("Restore supply") if self.restore else _("Shut off supply")

    @property
    def submit_label(self):
        return self.title

    def summary(self, obj):
        return meter_summary(obj)

    def perform(self, obj, form, extra):
        data = form.cleaned_data
        services.record_shutoff(
            self.request.user,
            obj,
            data["on"],
            data["installer"],
            data["reason"],
            restore=self.restore,
        )
        messages.success(
            self.request,
            (_("Supply restored: %(meter)s") if self.restore else _("Supply shut off: %(meter)s"))
            % {"meter": obj},
        )
        return obj


class MeterEventListView(ObjectListView):
    """Meter events: installations, replacements (F6.7), transfers, shutoffs, restores."""

    model = MeterEvent
    table_class = MeterEventTable
    filterset_class = MeterEventFilterSet
    title = gettext_lazy("Meter events and replacement history")
    export_name = "meter-events"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related(
                "meter",
                "zone",
                "new_meter",
                "from_customer",
                "to_customer",
                "installer",
                "recorded_by",
            )
        )


# --- wizards: route order, book move, batch update (F5.3–F5.5) ---------------------------


class RouteOrderView(PermissionMixin, TemplateView):
    """Put a book's accounts in the reader's walking order (F5.3).

    Each row carries its position; the up/down buttons renumber the rows, and a
    typed number moves a row there. Saving sorts by position (ties keep their order).
    """

    permission_required = "customers.change_customer"
    template_name = "customers/route_order.html"

    def books(self):
        return Book.objects.restrict(self.request.user, "change").select_related("area")

    def get_book(self, value):
        if not str(value or "").isdigit():
            return None
        return get_object_or_404(self.books(), pk=int(value))

    def render(self, book, error=None, positions=None):
        customers = []
        if book is not None:
            customers = list(
                Customer.objects.restrict(self.request.user)
                .filter(book=book)
                .order_by("route_order", "account_no")
            )
            for n, customer in enumerate(customers, start=1):
                customer.position = (positions or {}).get(customer.pk, n)
        return self.render_to_response(
            self.get_context_data(
                title=_("Route order"),
                books=self.books(),
                book=book,
                customers=customers,
                error=error,
            )
        )

    def get(self, request, *args, **kwargs):
        return self.render(self.get_book(request.GET.get("book")))

    def post(self, request, *args, **kwargs):
        book = self.get_book(request.POST.get("book"))
        if book is None:
            return self.render(None, _("Choose the reading book."))
        ids = [int(v) for v in request.POST.getlist("customer") if v.isdigit()]
        positions, error = {}, None
        for index, pk in enumerate(ids):
            raw = request.POST.get(f"pos_{pk}", "").strip()
            try:
                positions[pk] = (float(raw), index)
            except ValueError:
                error = _("Positions are numbers: check the row of position %(value)s.") % {
                    "value": raw or "—"
                }
        if error:
            return self.render(book, error)
        order = sorted(ids, key=lambda pk: positions[pk])
        try:
            changed = services.set_route_order(request.user, book, order)
        except ValidationError as exc:
            return self.render(book, " ".join(exc.messages))
        except PermissionDenied as exc:
            return self.render(book, str(exc))
        messages.success(
            request,
            _("Route order of %(book)s saved: %(count)s accounts moved.")
            % {"book": book, "count": changed},
        )
        return redirect(f"{reverse('customers:route_order')}?book={book.pk}")


class CustomerPickerMixin(PermissionMixin):
    """Filter accounts (the customer filters), tick some, then act on them."""

    permission_required = "customers.change_customer"

    def picker(self):
        queryset = Customer.objects.restrict(self.request.user, "change").select_related(
            "book", "category", "zone"
        )
        filterset = CustomerFilterSet(self.request.GET or None, queryset, request=self.request)
        style_filter_form(filterset.form)
        if filterset.is_bound and filterset.is_valid():
            queryset = filterset.qs
        queryset = queryset.order_by("book__code", "route_order", "account_no")
        total = queryset.count() if filterset.is_bound else 0
        customers = list(queryset[:WIZARD_LIMIT]) if filterset.is_bound else []
        return filterset, customers, total

    def selected_ids(self):
        return [int(v) for v in self.request.POST.getlist("customer") if v.isdigit()]

    def picker_context(self, **kwargs):
        filterset, customers, total = self.picker()
        checked = set(self.selected_ids()) if self.request.method == "POST" else None
        for customer in customers:
            customer.checked = checked is None or customer.pk in checked
        return self.get_context_data(
            filterset=filterset,
            customers=customers,
            total=total,
            limit=WIZARD_LIMIT,
            **kwargs,
        )


class MoveCustomersView(CustomerPickerMixin, TemplateView):
    """Move accounts between books (F5.4): filter, tick, choose the target book, give a reason."""

    template_name = "customers/move_customers.html"

    def render(self, form):
        return self.render_to_response(
            self.picker_context(form=form, title=_("Move accounts between books"))
        )

    def get(self, request, *args, **kwargs):
        return self.render(MoveCustomersForm(user=request.user))

    def post(self, request, *args, **kwargs):
        form = MoveCustomersForm(request.POST, user=request.user)
        ids = self.selected_ids()
        if form.is_valid():
            if not ids:
                form.add_error(None, _("Tick at least one account."))
            else:
                try:
                    count = services.move_customers(
                        request.user, ids, form.cleaned_data["to_book"], form.cleaned_data["reason"]
                    )
                except ValidationError as exc:
                    distribute_errors(exc, [form], {"book": "to_book"})
                except PermissionDenied as exc:
                    form.add_error(None, str(exc))
                else:
                    book = form.cleaned_data["to_book"]
                    messages.success(
                        request,
                        _("%(count)s accounts moved to %(book)s.") % {"count": count, "book": book},
                    )
                    return redirect(book.get_absolute_url())
        return self.render(form)


def _display(customer, name, value):
    field = Customer._meta.get_field(name)
    if value is None or value == "":
        return "—"
    if value is True:
        return _("Yes")
    if value is False:
        return _("No")
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


class BatchUpdateView(CustomerPickerMixin, TemplateView):
    """Batch update (F5.5): filter and tick accounts, choose fields and values, preview, apply."""

    template_name = "customers/batch_update.html"

    def render(self, form, preview=None):
        return self.render_to_response(
            self.picker_context(form=form, preview=preview, title=_("Batch update"))
        )

    def get(self, request, *args, **kwargs):
        return self.render(BatchUpdateForm(user=request.user))

    def post(self, request, *args, **kwargs):
        form = BatchUpdateForm(request.POST, user=request.user)
        ids = self.selected_ids()
        if not form.is_valid():
            return self.render(form)
        if not ids:
            form.add_error(None, _("Tick at least one account."))
            return self.render(form)
        if request.POST.get("step") == "apply":
            try:
                count = services.batch_update(
                    request.user, ids, form.changes, form.cleaned_data["reason"]
                )
            except ValidationError as exc:
                distribute_errors(exc, [form])
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("%(count)s accounts changed.") % {"count": count})
                return redirect(request.get_full_path())
            return self.render(form)
        customers = Customer.objects.restrict(request.user, "change").filter(pk__in=ids)
        rows = []
        for customer, diff in services.batch_preview(
            customers.order_by("account_no"), form.changes
        ):
            for name, (before, after) in diff.items():
                rows.append(
                    {
                        "customer": customer,
                        "field": Customer._meta.get_field(name).verbose_name,
                        "before": _display(customer, name, before),
                        "after": _display(customer, name, after),
                    }
                )
        preview = {
            "rows": rows,
            "customers": len({row["customer"].pk for row in rows}),
            "selected": len(ids),
        }
        return self.render(form, preview)

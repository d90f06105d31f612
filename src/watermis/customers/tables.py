import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from .models import Area, Book, Customer, Meter, MeterEvent

NUMBER = {"th": {"class": "text-end"}, "td": {"class": "text-end"}}


class AreaTable(tables.Table):
    code = tables.Column(linkify=True)
    name = tables.Column(linkify=True)
    book_count = tables.Column(_("Books"), attrs=NUMBER)

    class Meta:
        model = Area
        fields = ("code", "name", "zone", "book_count", "active")


class BookTable(tables.Table):
    code = tables.Column(linkify=True)
    name = tables.Column(linkify=True)
    customer_count = tables.Column(_("Accounts"), attrs=NUMBER)

    class Meta:
        model = Book
        fields = (
            "code",
            "name",
            "area",
            "area__zone",
            "reader",
            "collector",
            "cycle",
            "reading_day",
            "customer_count",
            "active",
        )


class CustomerTable(tables.Table):
    account_no = tables.Column(linkify=True, attrs={"td": {"class": "text-nowrap"}})
    name = tables.Column(linkify=True)

    class Meta:
        model = Customer
        fields = (
            "account_no",
            "name",
            "address",
            "phone",
            "zone",
            "book",
            "route_order",
            "category",
            "household_size",
            "payment_method",
            "status",
            "opened_on",
            "closed_on",
        )


class ClosedCustomerTable(CustomerTable):
    class Meta(CustomerTable.Meta):
        sequence = ("account_no", "name", "address", "phone", "zone", "book", "closed_on", "...")
        exclude = ("route_order", "household_size", "payment_method", "status")


class MeterTable(tables.Table):
    number = tables.Column(linkify=True)
    customer = tables.Column(linkify=True)

    class Meta:
        model = Meter
        fields = (
            "number",
            "kind",
            "customer",
            "zone",
            "caliber",
            "brand",
            "model",
            "tariff",
            "installed_on",
            "remote_read",
            "master",
            "status",
            "valve_state",
            "location",
        )


class MasterMeterTable(MeterTable):
    behind_count = tables.Column(_("Meters behind"), attrs=NUMBER)

    class Meta(MeterTable.Meta):
        exclude = ("customer", "tariff", "master")
        sequence = ("number", "kind", "zone", "location", "behind_count", "...")


class MeterEventTable(tables.Table):
    meter = tables.Column(linkify=True)
    new_meter = tables.Column(linkify=True)
    from_customer = tables.Column(linkify=True)
    to_customer = tables.Column(linkify=True)

    class Meta:
        model = MeterEvent
        fields = (
            "on",
            "kind",
            "meter",
            "zone",
            "old_final_reading",
            "new_meter",
            "new_initial_reading",
            "from_customer",
            "to_customer",
            "installer",
            "reason",
            "recorded_by",
            "recorded_at",
        )

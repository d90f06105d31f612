"""Bulk import and export of customers with their meters (.xlsx), for migrating from old systems.

One row per meter: a customer with two meters is two rows with the same 户号
(legacy account number) or, when the old system has no numbers to keep, the
same 客户键 (any key that groups the rows of one customer). The first row of a
customer gives the customer's columns; later rows of the same customer may
leave them empty, and if they fill them in, the values must agree.

Column layout (row 1 holds these headers, in any order; unknown columns are
ignored; * marks a required column):

======== ========================= =======================================================
header   field                     rule
======== ========================= =======================================================
户号     account number            optional; kept if given and not used yet, otherwise the
                                   next number of the book's zone sequence is assigned
客户键   customer key              optional; groups the rows of one customer without 户号
用户名称 * customer name            up to 100 characters
证件号码 ID or credit code         15 to 18 digits and capital letters
电话     telephone                 5 to 20 digits, spaces, '+', '-', brackets
地址     * address                  up to 200 characters
抄表册编号 * reading book code      must exist and be in the importing operator's zones
抄表顺序 route order               whole number ≥ 0 (default 0)
用水类别编号 * water-use category    category code, must exist
人口数   household size            whole number 0–99 (default 0)
低保户   low-income household      是 / 否 (default 否)
缴费方式 payment method            柜台缴费 / 走收 / 银行代扣 / 预存 (or counter, collector,
                                   bank, prepaid; default 柜台缴费)
开户日期 opened on                 date (YYYY-MM-DD or an Excel date; default today)
表号     * meter number             unique in the file and in the database
口径     caliber                   DN15 … DN300 (default DN15)
水表品牌 brand
表位数   dial digits               3–10 (default 5)
装表日期 installed on              date (default: the opening date)
初始读数 initial reading           number ≥ 0 with up to 2 decimals, below 10^digits
水价编号 * tariff code              must exist
表位置   location
远传     remote reading            是 / 否
远程阀控 remote valve              是 / 否
设备地址 device address            required for a remote-read or remote-valve meter
======== ========================= =======================================================

The file is checked completely first: every error is listed with its row,
column and rule. If any row is wrong nothing is written; the operator
downloads an error report (the original rows plus an error column). If every
row is right, customers, meters and their installation events are written in
one transaction with ``bulk_create``, and every created row is journaled with
``journal.record_many``.

:func:`export_rows` writes the same layout, so an export re-imports cleanly
(customer meters in service; sub-meter links, master meters and shared-meter
ratios are not part of the layout and are set on the meter pages).
"""

import datetime
import decimal
import io
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import load_workbook

from watermis.core import journal
from watermis.core.export import write_xlsx
from watermis.core.models import AuditAction
from watermis.core.scoping import visible_zone_ids
from watermis.tariffs.models import Caliber, Tariff, WaterCategory

from .models import (
    AccountSequence,
    Book,
    Customer,
    CustomerStatus,
    Meter,
    MeterEvent,
    MeterEventKind,
    MeterKind,
    MeterStatus,
    PaymentMethod,
)
from .services import name_initials


@dataclass(frozen=True)
class Column:
    header: str  # the header in the file (fixed: the layout is a data format)
    key: str
    required: bool
    description: object  # lazy translation shown on the import page


COLUMNS = [
    Column("户号", "account_no", False, gettext_lazy("Kept if given and unused; else assigned")),
    Column("客户键", "customer_key", False, gettext_lazy("Groups the rows of one customer")),
    Column("用户名称", "name", True, gettext_lazy("Customer name")),
    Column("证件号码", "id_number", False, gettext_lazy("ID card or credit code")),
    Column("电话", "phone", False, gettext_lazy("Telephone")),
    Column("地址", "address", True, gettext_lazy("Address")),
    Column("抄表册编号", "book", True, gettext_lazy("Reading book code, in your zones")),
    Column("抄表顺序", "route_order", False, gettext_lazy("Whole number, default 0")),
    Column("用水类别编号", "category", True, gettext_lazy("Water-use category code")),
    Column("人口数", "household_size", False, gettext_lazy("0 to 99, default 0")),
    Column("低保户", "low_income", False, gettext_lazy("是 or 否")),
    Column("缴费方式", "payment_method", False, gettext_lazy("柜台缴费, 走收, 银行代扣 or 预存")),
    Column("开户日期", "opened_on", False, gettext_lazy("Date, default today")),
    Column("表号", "number", True, gettext_lazy("Meter number, unique")),
    Column("口径", "caliber", False, gettext_lazy("DN15 to DN300, default DN15")),
    Column("水表品牌", "brand", False, gettext_lazy("Brand")),
    Column("表位数", "digits", False, gettext_lazy("3 to 10, default 5")),
    Column("装表日期", "installed_on", False, gettext_lazy("Date, default the opening date")),
    Column("初始读数", "initial_reading", False, gettext_lazy("Below 10^digits, default 0")),
    Column("水价编号", "tariff", True, gettext_lazy("Tariff code")),
    Column("表位置", "location", False, gettext_lazy("Where the meter is")),
    Column("远传", "remote_read", False, gettext_lazy("是 or 否")),
    Column("远程阀控", "remote_valve", False, gettext_lazy("是 or 否")),
    Column("设备地址", "device_address", False, gettext_lazy("Required for remote meters")),
]
HEADERS = [c.header for c in COLUMNS]
HEADER_OF = {c.key: c.header for c in COLUMNS}
CUSTOMER_KEYS = [
    "name",
    "id_number",
    "phone",
    "address",
    "book",
    "route_order",
    "category",
    "household_size",
    "low_income",
    "payment_method",
    "opened_on",
]
PAYMENT_NAMES = {
    PaymentMethod.COUNTER: "柜台缴费",
    PaymentMethod.COLLECTOR: "走收",
    PaymentMethod.BANK: "银行代扣",
    PaymentMethod.PREPAID: "预存",
}
PAYMENT_BY_NAME = {
    **{name: code for code, name in PAYMENT_NAMES.items()},
    **{code.value: code for code in PaymentMethod},
}
YES, NO = "是", "否"
BOOLEANS = {YES: True, NO: False, "": False, "Y": True, "N": False, "1": True, "0": False}
TWO_PLACES = decimal.Decimal("0.01")
BATCH = 2000


class ImportFileError(Exception):
    """The file cannot be read as an import file at all (not .xlsx, no header row...)."""


@dataclass
class RowError:
    row: int  # the row number in the sheet (the header is row 1)
    column: str  # the header, or "" for the whole row
    message: str


@dataclass
class ImportResult:
    rows: int = 0
    customers: int = 0
    meters: int = 0
    errors: list = field(default_factory=list)
    header: list = field(default_factory=list)
    raw_rows: list = field(default_factory=list)  # (row number, values) as read, for the report

    @property
    def ok(self):
        return not self.errors


# --- reading ----------------------------------------------------------------------------


def _text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


def read_rows(fileobj):
    """(header, [(row number, raw values)]) of the first sheet; empty rows are skipped."""
    try:
        wb = load_workbook(fileobj, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not xlsx
        raise ImportFileError(_("The file is not an Excel (.xlsx) workbook.")) from exc
    try:
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = [_text(v) for v in next(rows, ())]
        body = []
        for number, values in enumerate(rows, start=2):
            if any(v not in (None, "") for v in values):
                body.append((number, list(values)))
    finally:
        wb.close()
    missing = [c.header for c in COLUMNS if c.required and c.header not in header]
    if missing:
        raise ImportFileError(
            _("The header row lacks these columns: %(cols)s") % {"cols": "、".join(missing)}
        )
    return header, body


# --- checking -----------------------------------------------------------------------------


class _RowChecker:
    """Turns one raw row into clean values, collecting errors with their column."""

    def __init__(self, number, values, errors):
        self.number, self.values, self.errors = number, values, errors
        self.ok = True

    def error(self, key, message):
        self.ok = False
        self.errors.append(RowError(self.number, HEADER_OF.get(key, ""), str(message)))

    def text(self, key, max_length=None, required=False):
        value = _text(self.values.get(key))
        if required and not value:
            self.error(key, _("Required."))
        elif max_length and len(value) > max_length:
            self.error(
                key,
                _("At most %(n)d characters (this has %(m)d).")
                % {"n": max_length, "m": len(value)},
            )
        return value

    def model_text(self, model, key, required=False):
        """A text checked by the model field's own validators (length, format)."""
        model_field = model._meta.get_field(key)
        value = self.text(key, model_field.max_length, required)
        if value:
            try:
                model_field.run_validators(value)
            except ValidationError as exc:
                self.error(key, " ".join(exc.messages))
        return value

    def integer(self, key, default, low, high):
        raw = self.values.get(key)
        if raw in (None, ""):
            return default
        try:
            if isinstance(raw, float) and not raw.is_integer():
                raise ValueError
            value = int(decimal.Decimal(_text(raw)))
            if decimal.Decimal(_text(raw)) != value:
                raise ValueError
        except (ValueError, decimal.InvalidOperation):
            self.error(key, _("Enter a whole number."))
            return default
        if not low <= value <= high:
            self.error(key, _("Must be between %(low)d and %(high)d.") % {"low": low, "high": high})
        return value

    def boolean(self, key):
        value = _text(self.values.get(key)).upper()
        if value not in BOOLEANS:
            self.error(key, _("Write 是 or 否."))
            return False
        return BOOLEANS[value]

    def date(self, key, default):
        raw = self.values.get(key)
        if raw in (None, ""):
            return default
        if isinstance(raw, datetime.datetime):
            return raw.date()
        if isinstance(raw, datetime.date):
            return raw
        text = _text(raw).replace("/", "-").replace(".", "-")
        try:
            return datetime.date.fromisoformat(text)
        except ValueError:
            try:
                return datetime.datetime.strptime(text, "%Y-%m-%d").date()
            except ValueError:
                self.error(key, _("Enter a date as YYYY-MM-DD."))
                return default

    def amount(self, key):
        raw = self.values.get(key)
        if raw in (None, ""):
            return decimal.Decimal("0.00")
        try:
            value = decimal.Decimal(_text(raw))
        except decimal.InvalidOperation:
            self.error(key, _("Enter a number."))
            return decimal.Decimal("0.00")
        if value < 0 or value != value.quantize(TWO_PLACES):
            self.error(key, _("Enter a number ≥ 0 with at most 2 decimal places."))
            return decimal.Decimal("0.00")
        return value.quantize(TWO_PLACES)


def _lookup(model, codes, **related):
    queryset = model.objects.filter(code__in=codes)
    if related:
        queryset = queryset.select_related(*related)
    return {obj.code: obj for obj in queryset}


def check_rows(actor, header, body, today):
    """Check every row; returns (clean rows, errors). Clean rows are dicts of model values."""
    index = {name: i for i, name in enumerate(header) if name}
    errors = []
    raw = []
    for number, values in body:
        raw.append(
            (
                number,
                {
                    c.key: values[index[c.header]]
                    if c.header in index and index[c.header] < len(values)
                    else None
                    for c in COLUMNS
                },
            )
        )
    wanted = {
        key: {_text(v[key]) for _n, v in raw} - {""} for key in ("book", "category", "tariff")
    }
    books = _lookup(Book, wanted["book"], area=True)
    categories = _lookup(WaterCategory, wanted["category"])
    tariffs = _lookup(Tariff, wanted["tariff"])
    zones = visible_zone_ids(actor) if actor is not None else None
    can_add = actor is None or actor.has_perm("customers.add_customer")

    numbers = [_text(v["number"]) for _n, v in raw]
    taken_meters = set(
        Meter.objects.filter(number__in=[n for n in numbers if n]).values_list("number", flat=True)
    )
    accounts = [_text(v["account_no"]) for _n, v in raw]
    taken_accounts = set(
        Customer.objects.filter(account_no__in=[a for a in accounts if a]).values_list(
            "account_no", flat=True
        )
    )
    first_row_of_meter = {}
    groups = {}  # customer key → (first row number, customer values)
    clean = []
    for number, values in raw:
        row = _RowChecker(number, values, errors)
        account = row.model_text(Customer, "account_no")
        key = row.text("customer_key", 100)
        group = ("account", account) if account else ("key", key) if key else ("row", number)
        more = group in groups  # a further meter of a customer met on an earlier row
        customer = {
            "account_no": account,
            "name": row.model_text(Customer, "name", required=not more),
            "id_number": row.model_text(Customer, "id_number"),
            "phone": row.model_text(Customer, "phone"),
            "address": row.model_text(Customer, "address", required=not more),
            "route_order": row.integer("route_order", 0, 0, 2_000_000_000),
            "household_size": row.integer("household_size", 0, 0, 99),
            "low_income": row.boolean("low_income"),
        }
        book_code = row.text("book", required=not more)
        customer["book"] = books.get(book_code)
        if book_code and customer["book"] is None:
            row.error("book", _("No reading book has the code %(code)s.") % {"code": book_code})
        elif customer["book"] is not None:
            zone_id = customer["book"].area.zone_id
            if not can_add or (zones is not None and zone_id not in zones):
                row.error(
                    "book",
                    _("The reading book %(code)s is outside your zones.") % {"code": book_code},
                )
        category_code = row.text("category", required=not more)
        customer["category"] = categories.get(category_code)
        if category_code and customer["category"] is None:
            row.error(
                "category",
                _("No water-use category has the code %(code)s.") % {"code": category_code},
            )
        payment = row.text("payment_method")
        customer["payment_method"] = PAYMENT_BY_NAME.get(payment or PaymentMethod.COUNTER.value)
        if customer["payment_method"] is None:
            row.error(
                "payment_method",
                _("Write one of: %(names)s.") % {"names": "、".join(PAYMENT_NAMES.values())},
            )
        customer["opened_on"] = row.date("opened_on", today)

        meter = {
            "number": row.model_text(Meter, "number", required=True),
            "caliber": row.text("caliber") or Caliber.DN15.value,
            "brand": row.model_text(Meter, "brand"),
            "digits": row.integer("digits", 5, 3, 10),
            "installed_on": row.date("installed_on", customer["opened_on"]),
            "initial_reading": row.amount("initial_reading"),
            "location": row.model_text(Meter, "location"),
            "remote_read": row.boolean("remote_read"),
            "remote_valve": row.boolean("remote_valve"),
            "device_address": row.model_text(Meter, "device_address"),
        }
        meter["caliber"] = meter["caliber"].upper()
        if meter["caliber"] not in Caliber.values:
            row.error(
                "caliber", _("Write one of: %(names)s.") % {"names": ", ".join(Caliber.values)}
            )
        if meter["initial_reading"] >= 10 ** meter["digits"]:
            row.error("initial_reading", _("The reading is larger than the dial can show."))
        if (meter["remote_read"] or meter["remote_valve"]) and not meter["device_address"]:
            row.error("device_address", _("A remote meter needs its device address."))
        tariff_code = row.text("tariff", required=True)
        meter["tariff"] = tariffs.get(tariff_code)
        if tariff_code and meter["tariff"] is None:
            row.error("tariff", _("No tariff has the code %(code)s.") % {"code": tariff_code})
        if meter["number"]:
            if meter["number"] in taken_meters:
                row.error(
                    "number", _("The meter number %(n)s exists already.") % {"n": meter["number"]}
                )
            elif meter["number"] in first_row_of_meter:
                row.error(
                    "number",
                    _("The meter number %(n)s is also on row %(row)d.")
                    % {"n": meter["number"], "row": first_row_of_meter[meter["number"]]},
                )
            else:
                first_row_of_meter[meter["number"]] = number

        if account and account in taken_accounts and not more:
            row.error("account_no", _("The account number %(n)s is taken.") % {"n": account})
        if more:
            first_number, first = groups[group]
            for name in CUSTOMER_KEYS:
                if values.get(name) not in (None, "") and customer[name] != first[name]:
                    row.error(
                        name,
                        _("Differs from row %(row)d of the same customer.") % {"row": first_number},
                    )
            customer = first
        elif row.ok:
            groups[group] = (number, customer)
        if row.ok:
            clean.append((number, group, customer, meter))
    return clean, errors


# --- writing -----------------------------------------------------------------------------


def _account_numbers(wanted, reserved):
    """Take ``wanted[zone]`` numbers from each zone's sequence (locked), skipping used ones.

    ``reserved``: numbers this import keeps as given. Sequences advance past what
    they hand out, so later accounts never reuse a number.
    """
    out = {}
    for zone in sorted(wanted, key=lambda z: z.pk):
        count = wanted[zone]
        AccountSequence.objects.get_or_create(zone=zone)
        sequence = AccountSequence.objects.select_for_update().get(zone=zone)
        numbers = []
        value = sequence.next_value
        while len(numbers) < count:
            candidates = {
                sequence.pattern.format(zone=zone.code, seq=v): v
                for v in range(value, value + count - len(numbers) + 16)
            }
            used = reserved | set(
                Customer.objects.filter(account_no__in=list(candidates)).values_list(
                    "account_no", flat=True
                )
            )
            for candidate, v in candidates.items():
                value = v + 1
                if candidate not in used:
                    numbers.append(candidate)
                    if len(numbers) == count:
                        break
        sequence.next_value = value
        sequence.save(update_fields=["next_value"])
        out[zone.pk] = iter(numbers)
    return out


def write_rows(actor, clean):
    """Write checked rows in one transaction; returns (customers, meters). Call inside atomic."""
    now = timezone.now()
    customers = {}
    meters = []
    zones = {}
    for _number, group, values, _meter in clean:
        if group in customers:
            continue
        book = values["book"]
        zone = book.area.zone
        zones[zone.pk] = zone
        customers[group] = Customer(
            account_no=values["account_no"],
            name=values["name"],
            name_initials=name_initials(values["name"]),
            id_number=values["id_number"],
            phone=values["phone"],
            address=values["address"],
            zone=zone,
            book=book,
            route_order=values["route_order"],
            category=values["category"],
            household_size=values["household_size"],
            low_income=values["low_income"],
            payment_method=values["payment_method"],
            status=CustomerStatus.ACTIVE,
            opened_on=values["opened_on"],
        )
    wanted = {}
    for customer in customers.values():
        if not customer.account_no:
            wanted[customer.zone] = wanted.get(customer.zone, 0) + 1
    reserved = {c.account_no for c in customers.values() if c.account_no}
    numbers = _account_numbers(wanted, reserved)
    for customer in customers.values():
        if not customer.account_no:
            customer.account_no = next(numbers[customer.zone_id])
    Customer.objects.bulk_create(list(customers.values()), batch_size=BATCH)
    for _number, group, _values, values in clean:
        customer = customers[group]
        meters.append(
            Meter(kind=MeterKind.CUSTOMER, customer=customer, zone=customer.zone, **values)
        )
    Meter.objects.bulk_create(meters, batch_size=BATCH)
    recorded_by = journal.saved_operator(actor)
    events = [
        MeterEvent(
            meter=meter,
            kind=MeterEventKind.INSTALL,
            on=meter.installed_on,
            zone=meter.zone,
            new_initial_reading=meter.initial_reading,
            to_customer=meter.customer,
            recorded_by=recorded_by,
            reason=_("Imported"),
        )
        for meter in meters
    ]
    MeterEvent.objects.bulk_create(events, batch_size=BATCH)
    journal.record_many(
        [
            journal.build_entry(
                obj,
                AuditAction.CREATE,
                None,
                journal.snapshot(obj, m2m=False),
                verb="import",
                at=now,
                actor=actor,
            )
            for obj in [*customers.values(), *meters, *events]
        ]
    )
    return len(customers), len(meters)


def import_file(actor, fileobj, today=None):
    """Check an .xlsx file and, if every row is right, write it all in one transaction.

    Returns an :class:`ImportResult`; raises :class:`ImportFileError` if the file
    cannot be read. ``actor`` None (commands) imports with full scope.
    """
    today = today or timezone.localdate()
    header, body = read_rows(fileobj)
    result = ImportResult(rows=len(body), header=header, raw_rows=body)
    if actor is not None and not actor.has_perm("customers.add_customer"):
        raise PermissionDenied(_("You do not have permission to do this."))
    if not body:
        result.errors.append(RowError(1, "", _("The file has no rows below the header.")))
        return result
    with transaction.atomic():
        clean, errors = check_rows(actor, header, body, today)
        if errors:
            result.errors = errors
            return result
        result.customers, result.meters = write_rows(actor, clean)
    return result


def error_report(result, fileobj):
    """The original rows with an error column (every error of the row), as .xlsx."""
    by_row = {}
    for error in result.errors:
        text = f"{error.column}: {error.message}" if error.column else error.message
        by_row.setdefault(error.row, []).append(text)
    header = [*result.header, _("Errors")]
    width = len(result.header)
    rows = (
        [*(values + [None] * width)[:width], "；".join(by_row.get(number, []))]
        for number, values in result.raw_rows
    )
    write_xlsx(fileobj, _("Errors"), header, rows)


# --- export -------------------------------------------------------------------------------


def export_rows(customers):
    """Rows in the import layout for these customers' meters in service (one row per meter)."""
    meters = (
        Meter.objects.filter(
            customer__in=customers, kind=MeterKind.CUSTOMER, status=MeterStatus.ACTIVE
        )
        .select_related("customer__book", "customer__category", "tariff")
        .order_by("customer__account_no", "number")
    )
    for meter in meters.iterator(chunk_size=2000):
        c = meter.customer
        yield [
            c.account_no,
            "",
            c.name,
            c.id_number,
            c.phone,
            c.address,
            c.book.code,
            c.route_order,
            c.category.code,
            c.household_size,
            YES if c.low_income else NO,
            PAYMENT_NAMES.get(c.payment_method, c.payment_method),
            c.opened_on,
            meter.number,
            meter.caliber,
            meter.brand,
            meter.digits,
            meter.installed_on,
            meter.initial_reading,
            meter.tariff.code if meter.tariff_id else "",
            meter.location,
            YES if meter.remote_read else NO,
            YES if meter.remote_valve else NO,
            meter.device_address,
        ]


def write_export(customers, fileobj):
    write_xlsx(fileobj, "customers", HEADERS, export_rows(customers))


def template_file():
    """An empty import file: the header row and one example row."""
    buffer = io.BytesIO()
    example = [
        "",
        "",
        "张三",
        "",
        "13800000000",
        "江城市东城区解放路1号",
        "B001",
        10,
        "RES",
        3,
        NO,
        PAYMENT_NAMES[PaymentMethod.COUNTER],
        datetime.date(2026, 1, 1),
        "M0000001",
        "DN15",
        "",
        5,
        datetime.date(2026, 1, 1),
        decimal.Decimal("0"),
        "RES",
        "",
        NO,
        NO,
        "",
    ]
    write_xlsx(buffer, "customers", HEADERS, [example])
    return buffer.getvalue()

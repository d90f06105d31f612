"""System parameters that change behaviour (F12.4).

Every parameter is declared here once, with its type, default, limits and
help. The database stores only the values an administrator has changed.
Services read a value with :func:`get_param`; nothing else reads the table.
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class ParamSpec:
    key: str
    label: str
    kind: str  # "decimal", "int", "bool", "choice", "text"
    default: object
    group: str
    help: str = ""
    unit: str = ""
    minimum: object = None
    maximum: object = None
    choices: tuple = field(default_factory=tuple)

    def parse(self, raw):
        """Turn a stored or typed string into the parameter's value, or raise ValidationError."""
        text = str(raw).strip()
        if self.kind == "bool":
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off", ""):
                return False
            raise ValidationError(_("Enter yes or no."), code="invalid")
        if self.kind == "text":
            return text
        if self.kind == "choice":
            allowed = [value for value, _label in self.choices]
            if text not in allowed:
                raise ValidationError(
                    _("Choose one of: %(choices)s."), params={"choices": ", ".join(allowed)}
                )
            return text
        try:
            value = int(text) if self.kind == "int" else Decimal(text)
        except (ValueError, InvalidOperation):
            message = _("Enter a whole number.") if self.kind == "int" else _("Enter a number.")
            raise ValidationError(message, code="invalid") from None
        if self.kind == "decimal" and not value.is_finite():
            raise ValidationError(_("Enter a number."), code="invalid")
        if self.minimum is not None and value < self.minimum:
            raise ValidationError(
                _("The smallest allowed value is %(min)s."), params={"min": self.minimum}
            )
        if self.maximum is not None and value > self.maximum:
            raise ValidationError(
                _("The largest allowed value is %(max)s."), params={"max": self.maximum}
            )
        return value

    def display(self, value):
        """The value as a person reads it (yes/no, a choice's label)."""
        if self.kind == "bool":
            return _("Yes") if value else _("No")
        if self.kind == "choice":
            return dict(self.choices).get(value, value)
        return value

    def format(self, value):
        if self.kind == "bool":
            return "1" if value else "0"
        return str(value)


GROUP_BILLING = _("Billing and late fees")
GROUP_COUNTER = _("Counter and collection")
GROUP_DEPOSIT = _("Prepaid deposits")
GROUP_READING = _("Meter reading")
GROUP_SECURITY = _("Security")

SPECS = [
    ParamSpec(
        "late_fee.daily_rate",
        _("Late fee daily rate"),
        "decimal",
        Decimal("0.003"),
        GROUP_BILLING,
        help=_("Share of the unpaid principal charged per overdue day, e.g. 0.003 = 3‰."),
        minimum=Decimal("0"),
        maximum=Decimal("0.05"),
    ),
    ParamSpec(
        "late_fee.grace_days",
        _("Late fee grace days"),
        "int",
        15,
        GROUP_BILLING,
        help=_("Days after the due date before late fees start."),
        unit=_("days"),
        minimum=0,
        maximum=365,
    ),
    ParamSpec(
        "late_fee.cap_principal",
        _("Cap late fee at the principal"),
        "bool",
        True,
        GROUP_BILLING,
        help=_("The late fees of a bill never add up to more than the bill's amount."),
    ),
    ParamSpec(
        "late_fee.rounding",
        _("Late fee rounding"),
        "choice",
        "truncate",
        GROUP_BILLING,
        choices=(
            ("truncate", _("Truncate to the fen")),
            ("half_up", _("Round half up to the fen")),
        ),
    ),
    ParamSpec(
        "billing.due_days",
        _("Days from bill to due date"),
        "int",
        30,
        GROUP_BILLING,
        unit=_("days"),
        minimum=0,
        maximum=120,
    ),
    ParamSpec(
        "shutoff.arrears_months",
        _("Shutoff: months in arrears"),
        "int",
        3,
        GROUP_BILLING,
        help=_(
            "A meter goes on the shutoff list when its customer has unpaid bills of this many months or more."
        ),
        unit=_("months"),
        minimum=1,
        maximum=60,
    ),
    ParamSpec(
        "shutoff.arrears_amount",
        _("Shutoff: arrears amount"),
        "decimal",
        Decimal("500.00"),
        GROUP_BILLING,
        help=_(
            "A meter also goes on the shutoff list when its customer owes at least this much overdue."
        ),
        unit=_("yuan"),
        minimum=Decimal("0"),
        maximum=Decimal("10000000"),
    ),
    ParamSpec(
        "reading.anomaly_band_percent",
        _("Reading anomaly band"),
        "decimal",
        Decimal("50"),
        GROUP_READING,
        help=_(
            "A consumption more than this percentage above or below the recent average needs a reason."
        ),
        unit="%",
        minimum=Decimal("1"),
        maximum=Decimal("1000"),
    ),
    ParamSpec(
        "reading.band_minimum",
        _("Reading anomaly band minimum"),
        "decimal",
        Decimal("5"),
        GROUP_READING,
        help=_(
            "A consumption within this many cubic metres of the recent average is never flagged, "
            "whatever the percentage."
        ),
        unit="m³",
        minimum=Decimal("0"),
        maximum=Decimal("10000"),
    ),
    ParamSpec(
        "reading.supervisor_multiple",
        _("Reading supervisor threshold"),
        "decimal",
        Decimal("3"),
        GROUP_READING,
        help=_(
            "A consumption at least this many times the recent average is held until a supervisor "
            "approves it."
        ),
        unit="×",
        minimum=Decimal("1.5"),
        maximum=Decimal("100"),
    ),
    ParamSpec(
        "counter.waiver_limit",
        _("Cashier late-fee waiver limit"),
        "decimal",
        Decimal("50.00"),
        GROUP_COUNTER,
        help=_(
            "The largest late fee an operator may waive on one payment without a supervisor, "
            "unless a waiver limit is set for one of their roles (Counter › Waiver limits)."
        ),
        unit=_("yuan"),
        minimum=Decimal("0"),
        maximum=Decimal("100000"),
    ),
    ParamSpec(
        "counter.small_change_limit",
        _("Small change carried forward"),
        "decimal",
        Decimal("1.00"),
        GROUP_COUNTER,
        help=_("Change below this amount may be kept as credit for the next bill."),
        unit=_("yuan"),
        minimum=Decimal("0"),
        maximum=Decimal("10"),
    ),
    ParamSpec(
        "counter.late_fee_first",
        _("Counter: late fee before principal"),
        "bool",
        True,
        GROUP_COUNTER,
        help=_(
            "Yes: a payment pays each bill's late fee, then its principal, oldest bill first. "
            "No: the principal of every chosen bill first (oldest first), then the late fees."
        ),
    ),
    ParamSpec(
        "deposits.partial_cover",
        _("Deposit transfer pays part of a bill"),
        "bool",
        False,
        GROUP_DEPOSIT,
        help=_(
            "No: a transfer pays a bill only when the deposit covers all that is open on it "
            "(oldest bill first, stopping at the first one it cannot cover). Yes: what is "
            "left of the deposit pays part of the next bill."
        ),
    ),
    ParamSpec(
        "deposits.overdraft_limit",
        _("Deposit overdraft allowed"),
        "decimal",
        Decimal("0.00"),
        GROUP_DEPOSIT,
        help=_(
            "How far below zero a customer's deposit may go when a transfer pays bills or a "
            "deposit is corrected; 0: a deposit never goes negative."
        ),
        unit=_("yuan"),
        minimum=Decimal("0"),
        maximum=Decimal("100000"),
    ),
    ParamSpec(
        "deposits.transfer_after_bill_run",
        _("Transfer deposits right after a bill run"),
        "bool",
        True,
        GROUP_DEPOSIT,
        help=_(
            "Yes: each book of a bill run pays its new bills from the customers' deposits "
            "in the same transaction. No: deposits pay bills only when a transfer is run."
        ),
    ),
    ParamSpec(
        "deposits.max_amount",
        _("Largest single deposit"),
        "decimal",
        Decimal("50000.00"),
        GROUP_DEPOSIT,
        help=_("A larger amount is refused as a likely typing mistake."),
        unit=_("yuan"),
        minimum=Decimal("1"),
        maximum=Decimal("10000000"),
    ),
    ParamSpec(
        "login.max_failures",
        _("Failed sign-ins before lock-out"),
        "int",
        5,
        GROUP_SECURITY,
        minimum=1,
        maximum=20,
    ),
    ParamSpec(
        "login.lockout_minutes",
        _("Lock-out duration"),
        "int",
        15,
        GROUP_SECURITY,
        unit=_("minutes"),
        minimum=1,
        maximum=1440,
    ),
]

REGISTRY = {spec.key: spec for spec in SPECS}


def spec_for(key):
    try:
        return REGISTRY[key]
    except KeyError:
        raise KeyError(f"unknown parameter {key!r}") from None


def get_param(key):
    """The current value of a parameter: the administrator's setting, or its default."""
    from .models import Parameter

    spec = spec_for(key)
    raw = Parameter.objects.filter(key=key).values_list("value", flat=True).first()
    if raw is None:
        return spec.default
    return spec.parse(raw)


def get_params(*keys):
    """The current values of several parameters in one query: {key: value}."""
    from .models import Parameter

    specs = [spec_for(key) for key in keys]
    stored = dict(Parameter.objects.filter(key__in=keys).values_list("key", "value"))
    return {
        spec.key: spec.parse(stored[spec.key]) if spec.key in stored else spec.default
        for spec in specs
    }

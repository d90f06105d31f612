"""The standard roles of a water company and the permissions each holds.

The administrator may change roles on the Roles page afterwards; these are
what a new installation (and the demo company) starts with. Each later
module adds its permissions to the roles that need them.
"""

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from watermis.core import journal

ADMIN = "系统管理员"
MANAGER = "营业经理"
CLERK = "核算员"
CASHIER = "收费员"
READER = "抄表员"
COLLECTOR = "走收员"

OWN_APPS = (
    "core",
    "org",
    "system",
    "tariffs",
    "customers",
    "readings",
    "billing",
    "documents",
    "invoices",
    "payments",
    "reports",
)

VIEW_ORG = ["org.view_company", "org.view_zone", "org.view_businessunit", "org.view_employee"]
VIEW_TARIFFS = [
    "tariffs.view_priceitem",
    "tariffs.view_watercategory",
    "tariffs.view_tariff",
    "tariffs.view_tariffversion",
    "tariffs.view_minimumvolume",
]

VIEW_CUSTOMERS = [
    "customers.view_customer",
    "customers.view_meter",
    "customers.view_area",
    "customers.view_book",
    "customers.view_meterevent",
    "customers.view_customersurcharge",
]
EDIT_CUSTOMERS = [
    "customers.add_customer",
    "customers.change_customer",
    "customers.add_meter",
    "customers.change_meter",
    "customers.add_area",
    "customers.change_area",
    "customers.add_book",
    "customers.change_book",
    "customers.add_customersurcharge",
    "customers.change_customersurcharge",
]

VIEW_READINGS = [
    "readings.view_readingperiod",
    "readings.view_reading",
    "readings.view_readingsplit",
    "readings.view_monitoredmeter",
]
ENTER_READINGS = ["readings.change_reading"]
EDIT_READINGS = [
    *ENTER_READINGS,
    "readings.add_readingperiod",
    "readings.change_readingperiod",
    "readings.add_readingsplit",
    "readings.add_monitoredmeter",
    "readings.change_monitoredmeter",
]

VIEW_BILLING = [
    "billing.view_account",
    "billing.view_ledgerentry",
    "billing.view_bill",
    "billing.view_latefeecharge",
]
WORK_BILLING = [
    *VIEW_BILLING,
    "billing.view_billrun",
    "billing.view_writeoff",
    "billing.view_monthend",
    "billing.run_billing",
    "billing.correct_bill",
    "billing.add_writeoff",
]

PRINT_CARDS = ["documents.print_meter_cards"]
PRINT_NOTICES = ["documents.print_notices"]

VIEW_INVOICES = ["invoices.view_invoice", "invoices.view_invoicekind", "invoices.view_itemtaxcode"]
ISSUE_INVOICES = [*VIEW_INVOICES, "invoices.add_invoice", "invoices.void_invoice"]
MANAGE_INVOICE_STOCK = [
    "invoices.view_invoicestock",
    "invoices.add_invoicestock",
    "invoices.change_invoicestock",
    "invoices.view_numberuse",
]

WALKING_COLLECTION = [
    "payments.view_remittance",
    "payments.register_remittance",
    "payments.view_inspectiontransfer",
]
VIEW_BANK_COLLECTION = ["payments.view_bank", "payments.view_bankbatch"]
WORK_BANK_COLLECTION = [
    *VIEW_BANK_COLLECTION,
    "payments.add_bankbatch",
    "payments.import_bankbatch",
    "payments.cancel_bankbatch",
]
MANAGE_BANKS = ["payments.add_bank", "payments.change_bank"]
VIEW_COUNTER = ["payments.view_counterpayment", "payments.view_latefeewaiver"]
TAKE_PAYMENTS = [*VIEW_COUNTER, "payments.take_payment"]
SUPERVISE_COUNTER = [
    *VIEW_COUNTER,
    "payments.reverse_any_payment",
    "payments.authorise_waiver",
    "payments.pay_other_zone",
    "payments.view_waiverlimit",
]
VIEW_DEPOSITS = [
    "payments.view_deposit",
    "payments.view_transferrun",
    "payments.view_deposittransfer",
]
TAKE_DEPOSITS = [*VIEW_DEPOSITS, "payments.take_deposit"]
WORK_DEPOSITS = [*VIEW_DEPOSITS, "payments.run_transfer", "payments.undo_transfer"]
VIEW_REPORTS = ["reports.view_reports"]

ROLE_PERMISSIONS = {
    ADMIN: "__all__",
    MANAGER: [
        *VIEW_ORG,
        "org.view_operator",
        "org.view_loginevent",
        "org.view_shared_data",
        "core.view_auditentry",
        "core.view_api_schema",
        "system.view_parameter",
        *VIEW_TARIFFS,
        *VIEW_CUSTOMERS,
        *VIEW_READINGS,
        *ENTER_READINGS,
        "readings.approve_reading",
        *WORK_BILLING,
        "billing.approve_correction",
        "billing.approve_writeoff",
        "billing.close_month",
        "readings.add_readingperiod",
        "readings.change_readingperiod",
        "documents.view_documentlayout",
        *PRINT_CARDS,
        *PRINT_NOTICES,
        *VIEW_INVOICES,
        *MANAGE_INVOICE_STOCK,
        *WALKING_COLLECTION,
        *WORK_BANK_COLLECTION,
        *MANAGE_BANKS,
        *SUPERVISE_COUNTER,
        *WORK_DEPOSITS,
        "payments.correct_any_deposit",
        *VIEW_REPORTS,
    ],
    CLERK: [
        *VIEW_ORG,
        "core.view_auditentry",
        "system.view_parameter",
        *VIEW_TARIFFS,
        *VIEW_CUSTOMERS,
        *EDIT_CUSTOMERS,
        *VIEW_READINGS,
        *EDIT_READINGS,
        *WORK_BILLING,
        *PRINT_CARDS,
        *PRINT_NOTICES,
        *VIEW_INVOICES,
        *WALKING_COLLECTION,
        *WORK_BANK_COLLECTION,
        *VIEW_COUNTER,
        *WORK_DEPOSITS,
        *VIEW_REPORTS,
    ],
    CASHIER: [
        "org.view_company",
        "org.view_zone",
        "org.view_businessunit",
        *VIEW_TARIFFS,
        *VIEW_CUSTOMERS,
        *VIEW_BILLING,
        *PRINT_NOTICES,
        *ISSUE_INVOICES,
        *TAKE_PAYMENTS,
        *TAKE_DEPOSITS,
    ],
    READER: [
        "org.view_company",
        "org.view_zone",
        *VIEW_CUSTOMERS,
        *VIEW_READINGS,
        *ENTER_READINGS,
        *PRINT_CARDS,
    ],
    COLLECTOR: [
        "org.view_company",
        "org.view_zone",
        *VIEW_CUSTOMERS,
        *VIEW_BILLING,
        *PRINT_NOTICES,
        *ISSUE_INVOICES,
    ],
}


def _permissions(names):
    if names == "__all__":
        return list(Permission.objects.filter(content_type__app_label__in=OWN_APPS))
    q = Q(pk__in=[])
    for name in names:
        app_label, codename = name.split(".")
        q |= Q(content_type__app_label=app_label, codename=codename)
    found = list(Permission.objects.filter(q))
    if len(found) != len(names):
        missing = set(names) - {f"{p.content_type.app_label}.{p.codename}" for p in found}
        raise LookupError(f"unknown permissions: {sorted(missing)}")
    return found


def ensure_standard_roles():
    """Create the standard roles that do not exist yet; add missing permissions to those that do.

    Permissions an administrator removed from an existing role stay removed
    only until a module adds them again; journaled like any role change.
    """
    roles = {}
    for name, perm_names in ROLE_PERMISSIONS.items():
        perms = _permissions(perm_names)
        role = Group.objects.filter(name=name).first()
        if role is None:
            role = journal.create_object(Group(name=name), m2m={"permissions": perms})
        else:
            have = set(role.permissions.values_list("pk", flat=True))
            if not {p.pk for p in perms} <= have:
                journal.update_object(
                    role, {}, m2m={"permissions": [*have, *(p.pk for p in perms)]}
                )
        roles[name] = role
    return roles

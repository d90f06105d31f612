"""The left menu: the modules of SPEC.md, each with the pages that exist.

A page shows only to operators holding its permission; a module with no
visible page is hidden. Later modules add their pages here.
"""

from django.utils.translation import gettext_lazy as _

MENU = [
    (
        _("Business zones"),
        "bi-geo-alt",
        [
            (_("Zones"), "org:zone_list", "org.view_zone"),
        ],
    ),
    (
        _("Customers"),
        "bi-person-vcard",
        [
            (_("Customer accounts"), "customers:customer_list", "customers.view_customer"),
            (_("Open an account"), "customers:customer_open", "customers.add_customer"),
            (_("Reading areas"), "customers:area_list", "customers.view_area"),
            (_("Reading books"), "customers:book_list", "customers.view_book"),
            (_("Route order"), "customers:route_order", "customers.change_customer"),
            (
                _("Move accounts between books"),
                "customers:move_customers",
                "customers.change_customer",
            ),
            (_("Batch update"), "customers:batch_update", "customers.change_customer"),
            (_("New customers"), "customers:new_customers", "customers.view_customer"),
            (_("Closed customers"), "customers:closed_customers", "customers.view_customer"),
            (_("Import from Excel"), "customers_import:upload", "customers.add_customer"),
            (_("Export to Excel"), "customers_import:export", "customers.view_customer"),
        ],
    ),
    (
        _("Meter reading"),
        "bi-clipboard-data",
        [
            (_("Reading periods"), "readings:period_list", "readings.view_readingperiod"),
            (_("Open reading periods"), "readings:period_open", "readings.add_readingperiod"),
            (_("Enter by account"), "readings:account_entry", "readings.view_reading"),
            (_("Handheld files"), "readings:file_download", "readings.view_reading"),
            (_("Upload a handheld file"), "readings:file_upload", "readings.change_reading"),
            (_("Reading progress"), "readings:progress", "readings.view_readingperiod"),
            (_("Monitored meters"), "readings:monitored_list", "readings.view_monitoredmeter"),
            (_("Loss rates of master meters"), "readings:loss_rates", "readings.view_reading"),
        ],
    ),
    (
        _("Billing"),
        "bi-receipt",
        [
            (_("Bills"), "billing:bill_list", "billing.view_bill"),
            (_("Paid bills"), "billing:paid_bills", "billing.view_bill"),
            (_("Arrears"), "billing:arrears", "billing.view_bill"),
            (_("Ledger entries"), "billing:entry_list", "billing.view_ledgerentry"),
            (_("Start a bill run"), "billing:run_start", "billing.run_billing"),
            (_("Bill runs"), "billing:run_list", "billing.view_billrun"),
            (_("Write-offs"), "billing:writeoff_list", "billing.view_writeoff"),
            (_("Write-offs to approve"), "billing:writeoff_approvals", "billing.approve_writeoff"),
            (_("Red bills"), "billing:redbill_list", "billing.view_bill"),
            (_("Month-end"), "billing:month_end", "billing.close_month"),
            (_("Closed months"), "billing:monthend_list", "billing.view_monthend"),
        ],
    ),
    (
        _("Counter"),
        "bi-cash-coin",
        [
            (_("Counter payment"), "payments:counter", "payments.take_payment"),
            (_("Counter payments"), "payments:payment_list", "payments.view_counterpayment"),
            (_("Cashier day-end"), "payments:day_end", "payments.view_counterpayment"),
            (_("Late-fee waivers"), "payments:waiver_list", "payments.view_latefeewaiver"),
            (_("Waiver limits"), "payments:waiverlimit_list", "payments.view_waiverlimit"),
        ],
    ),
    (
        _("Prepaid deposits"),
        "bi-piggy-bank",
        [
            (_("Deposit"), "payments:deposit", "payments.take_deposit"),
            (_("Deposits"), "payments:deposit_list", "payments.view_deposit"),
            (_("Balances"), "payments:deposit_balances", "payments.view_deposit"),
            (_("Transactions"), "payments:deposit_transactions", "payments.view_deposit"),
            (_("Transfers"), "payments:transfer_list", "payments.view_transferrun"),
        ],
    ),
    (
        _("Documents"),
        "bi-printer",
        [
            (_("Print meter cards"), "documents:meter_cards", "documents.print_meter_cards"),
            (_("Print notices"), "documents:notices", "documents.print_notices"),
            (_("Document layouts"), "documents:layout_list", "documents.view_documentlayout"),
        ],
    ),
    (
        _("Invoices"),
        "bi-receipt-cutoff",
        [
            (_("Issue invoices"), "invoices:issue", "invoices.add_invoice"),
            (_("Reissue in a batch"), "invoices:reissue_batch", "invoices.add_invoice"),
            (_("Walking-collection invoices"), "invoices:collection", "invoices.add_invoice"),
            (_("Invoices"), "invoices:invoice_list", "invoices.view_invoice"),
            (_("My invoice stock"), "invoices:my_stock", "invoices.add_invoice"),
            (_("Invoice stock"), "invoices:stock_list", "invoices.view_invoicestock"),
            (_("Numbers used"), "invoices:usage_list", "invoices.view_numberuse"),
            (_("Invoice kinds"), "invoices:kind_list", "invoices.view_invoicekind"),
            (_("Tax codes of price items"), "invoices:taxcode_list", "invoices.view_itemtaxcode"),
        ],
    ),
    (
        _("Walking collection"),
        "bi-person-walking",
        [
            (_("Register remittances"), "payments:collection", "payments.register_remittance"),
            (_("Manual tickets"), "payments:collection_ticket", "payments.register_remittance"),
            (_("Remittances"), "payments:remittance_list", "payments.view_remittance"),
            (
                _("Collector statistics"),
                "payments:collector_statistics",
                "payments.view_remittance",
            ),
        ],
    ),
    (
        _("Bank collection"),
        "bi-bank",
        [
            (_("Bank batches"), "payments:batch_list", "payments.view_bankbatch"),
            (_("Generate a bank batch"), "payments:batch_generate", "payments.add_bankbatch"),
            (_("Banks and file layouts"), "payments:bank_list", "payments.view_bank"),
        ],
    ),
    (
        _("Metering"),
        "bi-speedometer",
        [
            (_("Meters"), "customers:meter_list", "customers.view_meter"),
            (_("Master meters"), "customers:master_list", "customers.view_meter"),
            (
                _("Meter events / replacement history"),
                "customers:event_list",
                "customers.view_meterevent",
            ),
            (_("Shutoff list"), "billing:shutoff_list", "billing.view_bill"),
            (_("Restore list"), "billing:restore_list", "billing.view_bill"),
        ],
    ),
    (
        _("Statistical reports"),
        "bi-table",
        [
            (
                _("Billing and collection statistics"),
                "reports:statistics",
                "reports.view_reports",
            ),
            (_("Revenue by price item"), "reports:revenue_by_item", "reports.view_reports"),
            (_("Surcharges"), "reports:surcharges", "reports.view_reports"),
            (_("Late fees charged"), "reports:late_fees", "reports.view_reports"),
            (_("Late-fee waivers"), "reports:waivers", "reports.view_reports"),
            (_("Bad debts written off"), "reports:bad_debts", "reports.view_reports"),
            (_("Cashier day-end"), "payments:day_end", "payments.view_counterpayment"),
        ],
    ),
    (
        _("Analysis charts"),
        "bi-bar-chart-line",
        [
            (_("Same-period comparison"), "reports:comparison", "reports.view_reports"),
            (_("Historical trend"), "reports:trend", "reports.view_reports"),
            (_("Collection and arrears ageing"), "reports:collection", "reports.view_reports"),
            (_("Loss rate over time"), "readings:loss_trend", "readings.view_reading"),
        ],
    ),
    (
        _("Queries"),
        "bi-search",
        [  # the M7 queries (F7.1–F7.8), some also under their own module
            (_("Master meter history"), "readings:loss_rates", "readings.view_reading"),
            (_("Paid bills"), "billing:paid_bills", "billing.view_bill"),
            (_("Arrears"), "billing:arrears", "billing.view_bill"),
            (_("Historical bills"), "billing:bill_list", "billing.view_bill"),
            (_("Monitored reads"), "readings:monitored_reads", "readings.view_reading"),
            (_("Invoices"), "invoices:invoice_list", "invoices.view_invoice"),
            (_("Change journal"), "core:journal", "core.view_auditentry"),
            (_("Late-fee waivers"), "payments:waiver_list", "payments.view_latefeewaiver"),
            (_("Abnormal volumes"), "readings:abnormal", "readings.view_reading"),
            (_("Reading history"), "readings:reading_list", "readings.view_reading"),
        ],
    ),
    (
        _("Staff"),
        "bi-people",
        [
            (_("Business units"), "org:unit_list", "org.view_businessunit"),
            (_("Employees"), "org:employee_list", "org.view_employee"),
            (_("Meter readers"), "org:reader_list", "org.view_employee"),
            (_("Collectors"), "org:collector_list", "org.view_employee"),
            (_("Installers"), "org:installer_list", "org.view_employee"),
            (_("Inspectors"), "org:inspector_list", "org.view_employee"),
        ],
    ),
    (
        _("Basic settings"),
        "bi-sliders",
        [
            (_("Company information"), "org:company", "org.view_company"),
            (_("Price items"), "tariffs:item_list", "tariffs.view_priceitem"),
            (_("Water-use categories"), "tariffs:category_list", "tariffs.view_watercategory"),
            (_("Tariffs"), "tariffs:tariff_list", "tariffs.view_tariff"),
            (_("Minimum volumes"), "tariffs:minimum_list", "tariffs.view_minimumvolume"),
            (_("Tariff preview"), "tariffs:preview", "tariffs.view_tariff"),
        ],
    ),
    (
        _("System maintenance"),
        "bi-gear",
        [
            (_("Change password"), "org:password_change", None),
            (_("Switch operator"), "org:switch_operator", None),
            (_("Login history"), "org:login_history", "org.view_loginevent"),
            (_("Parameters"), "system:parameter_list", "system.view_parameter"),
            (_("Operators"), "org:operator_list", "org.view_operator"),
            (_("Roles and permissions"), "org:role_list", "org.manage_roles"),
        ],
    ),
]


def menu_for(user):
    """The menu groups and items this user may open."""
    groups = []
    for label, icon, items in MENU:
        visible = [(t, url, perm) for t, url, perm in items if perm is None or user.has_perm(perm)]
        if visible:
            groups.append({"label": label, "icon": icon, "items": visible})
    return groups

"""The REST API (OpenAPI 3 at /api/schema/, browsable docs at /api/docs/)."""

from rest_framework.routers import SimpleRouter

from watermis.billing.api import AccountViewSet, BillViewSet, LedgerEntryViewSet
from watermis.core.api import AuditEntryViewSet
from watermis.customers.api import AreaViewSet, BookViewSet, CustomerViewSet, MeterViewSet
from watermis.invoices.api import InvoiceViewSet
from watermis.org.api import BusinessUnitViewSet, EmployeeViewSet, OperatorViewSet, ZoneViewSet
from watermis.payments.api import (
    DepositBalanceViewSet,
    DepositTransferViewSet,
    DepositViewSet,
    TransferRunViewSet,
)
from watermis.readings.api import ReadingPeriodViewSet, ReadingViewSet
from watermis.tariffs.api import PriceItemViewSet, TariffViewSet, WaterCategoryViewSet

router = SimpleRouter()
router.register("zones", ZoneViewSet, basename="zone")
router.register("units", BusinessUnitViewSet, basename="unit")
router.register("employees", EmployeeViewSet, basename="employee")
router.register("operators", OperatorViewSet, basename="operator")
router.register("journal", AuditEntryViewSet, basename="journal")
router.register("price-items", PriceItemViewSet, basename="price-item")
router.register("categories", WaterCategoryViewSet, basename="category")
router.register("tariffs", TariffViewSet, basename="tariff")
router.register("areas", AreaViewSet, basename="area")
router.register("books", BookViewSet, basename="book")
router.register("customers", CustomerViewSet, basename="customer")
router.register("meters", MeterViewSet, basename="meter")
router.register("reading-periods", ReadingPeriodViewSet, basename="period")
router.register("readings", ReadingViewSet, basename="reading")
router.register("bills", BillViewSet, basename="bill")
router.register("ledger-entries", LedgerEntryViewSet, basename="ledger-entry")
router.register("accounts", AccountViewSet, basename="account")
router.register("invoices", InvoiceViewSet, basename="invoice")
router.register("deposits", DepositViewSet, basename="deposit")
router.register("deposit-balances", DepositBalanceViewSet, basename="deposit-balance")
router.register("deposit-transfer-runs", TransferRunViewSet, basename="deposit-transfer-run")
router.register("deposit-transfers", DepositTransferViewSet, basename="deposit-transfer")

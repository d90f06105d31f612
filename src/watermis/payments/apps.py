from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "watermis.payments"
    label = "payments"
    verbose_name = _("Payments and collection")

    def ready(self):
        from watermis.billing import hooks

        from .deposits import transfer_after_bills, transfer_run_of_bill_run

        hooks.register_run_started(transfer_run_of_bill_run)
        hooks.register_bills_written(transfer_after_bills)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "watermis.billing"
    label = "billing"
    verbose_name = _("Billing and the customer ledger")

    def ready(self):
        from watermis.readings import hooks

        from .rebill import guard_correction, rebill_after_correction

        hooks.register_correction_guard(guard_correction)
        hooks.register_after_correction(rebill_after_correction)

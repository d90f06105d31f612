from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SystemConfig(AppConfig):
    name = "watermis.system"
    label = "system"
    verbose_name = _("System maintenance")

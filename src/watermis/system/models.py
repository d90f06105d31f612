"""System tables: parameter values set by the administrator (F12.4)."""

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from watermis.core.scoping import ScopedManager


class Parameter(models.Model):
    """A changed parameter value; declarations and defaults live in :mod:`.params`."""

    key = models.CharField(_("parameter"), max_length=60, unique=True)
    value = models.CharField(_("value"), max_length=200)

    objects = ScopedManager()
    zone_scope = None

    class Meta:
        verbose_name = _("parameter")
        verbose_name_plural = _("parameters")
        ordering = ["key"]

    def __str__(self):
        return self.key

    def get_absolute_url(self):
        return reverse("system:parameter_list")

"""Field validators shared by every app."""

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

code_validator = RegexValidator(
    r"^[A-Za-z0-9_-]{1,20}$",
    _("Use 1 to 20 letters, digits, '-' or '_'."),
)
phone_validator = RegexValidator(
    r"^[0-9+\-() ]{5,20}$",
    _("Enter a telephone number: 5 to 20 digits, spaces, '+', '-' or brackets."),
)

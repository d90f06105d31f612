"""What billing tells meter reading about bills, without readings importing billing.

Arrows point one way (readings ← billing): billing registers here, in its
``AppConfig.ready``, a guard that refuses to change a read whose bill is paid
(F2.6) and a callback that recomputes the bill after a correction.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_correction_guards = []
_after_correction = []


def register_correction_guard(func):
    """``func(reading)`` raises ValidationError when a billed read must not change."""
    _correction_guards.append(func)
    return func


def register_after_correction(func):
    """``func(reading)`` runs in the correcting transaction once a billed read has changed."""
    _after_correction.append(func)
    return func


def check_correction(reading):
    """Refuse to change a billed read unless a registered guard allows it (raises)."""
    if not _correction_guards:
        raise ValidationError(_("This reading has been billed and cannot change."))
    for guard in _correction_guards:
        guard(reading)


def after_correction(reading):
    for func in _after_correction:
        func(reading)

"""Read access to organisation data for other apps."""

from .models import Company


def company_name():
    """The company's name as shown in the page header (empty before set-up)."""
    return Company.objects.values_list("name", flat=True).first() or ""


def get_company():
    return Company.objects.first()

import django_filters
from django.utils.translation import gettext_lazy as _

from watermis.core.filtersets import ScopedFilterSet
from watermis.customers.models import Book
from watermis.org.models import Zone

from .forms import MonthField
from .models import PeriodStatus, ReadingPeriod


class MonthFilter(django_filters.DateFilter):
    field_class = MonthField


class ReadingPeriodFilterSet(ScopedFilterSet):
    month = MonthFilter(label=_("Billing month"))
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    book = django_filters.ModelChoiceFilter(queryset=Book.objects.all(), label=_("Reading book"))
    status = django_filters.ChoiceFilter(choices=PeriodStatus.choices, label=_("Status"))

    class Meta:
        model = ReadingPeriod
        fields = ["month", "zone", "book", "status"]

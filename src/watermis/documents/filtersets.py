import django_filters
from django.utils.translation import gettext_lazy as _

from watermis.core.filtersets import ScopedFilterSet

from .models import DocumentKind, DocumentLayout


class DocumentLayoutFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Name or note"))
    kind = django_filters.ChoiceFilter(choices=DocumentKind.choices, label=_("Document"))
    active = django_filters.BooleanFilter(label=_("Active"))
    search_fields = ("name", "note")

    class Meta:
        model = DocumentLayout
        fields = ["q", "kind", "active"]

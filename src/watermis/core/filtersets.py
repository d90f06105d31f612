import django_filters
from django.apps import apps
from django.db.models import F, Q, TextField, Value
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import Cast, Coalesce
from django.utils.translation import gettext_lazy as _

from .models import AuditAction, AuditEntry
from .scoping import ScopedQuerySet


class ScopedFilterSet(django_filters.FilterSet):
    """A filter set whose choice lists show only what the operator may see.

    ``search_fields`` lists the fields the free-text box ``q`` looks in.
    """

    search_fields: tuple = ()

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        user = getattr(request, "user", None)
        for field in self.form.fields.values():
            qs = getattr(field, "queryset", None)
            if user is not None and isinstance(qs, ScopedQuerySet):
                field.queryset = qs.restrict(user, "view")

    def search(self, queryset, name, value):
        value = (value or "").strip()
        if not value or not self.search_fields:
            return queryset
        q = Q()
        for field in self.search_fields:
            q |= Q(**{f"{field}__icontains": value})
        return queryset.filter(q)


def zone_choices(request):
    """The zones, for the journal's zone filter (core sits below org, so it names the model
    by its label; ScopedFilterSet then limits them to the operator's)."""
    return apps.get_model("org", "Zone").objects.all()


class AuditEntryFilterSet(ScopedFilterSet):
    """The change journal query (F7.7): every filter combines with every other."""

    after = django_filters.DateFilter(field_name="at", lookup_expr="date__gte", label=_("From"))
    before = django_filters.DateFilter(field_name="at", lookup_expr="date__lte", label=_("To"))
    actor_name = django_filters.CharFilter(lookup_expr="icontains", label=_("Operator"))
    action = django_filters.ChoiceFilter(choices=AuditAction.choices, label=_("Action"))
    object_type = django_filters.ChoiceFilter(choices=[], label=_("Object type"))
    object_id = django_filters.CharFilter(label=_("Object id"))
    object_repr = django_filters.CharFilter(lookup_expr="icontains", label=_("Object"))
    request_id = django_filters.CharFilter(label=_("Request id"))
    source = django_filters.CharFilter(lookup_expr="startswith", label=_("Source"))
    text = django_filters.CharFilter(method="search_values", label=_("Value contains"))
    zone = django_filters.ModelChoiceFilter(
        queryset=zone_choices, method="filter_zone", label=_("Zone")
    )
    field = django_filters.CharFilter(method="filter_field", label=_("Field changed"))

    class Meta:
        model = AuditEntry
        fields = [
            "after",
            "before",
            "actor_name",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "request_id",
            "source",
            "text",
            "zone",
            "field",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = []
        for model in apps.get_models():
            choices.append((model._meta.label_lower, str(model._meta.verbose_name)))
        self.form.fields["object_type"].choices = [
            ("", "---------"),
            *sorted(choices, key=lambda c: c[1]),
        ]

    def filter_zone(self, queryset, name, value):
        return queryset.filter(zone_id=value.pk) if value is not None else queryset

    def filter_field(self, queryset, name, value):
        """Entries that changed the field (its name in the model, e.g. ``bank_account``): it is
        in the values before or after, and not the same in both."""
        value = (value or "").strip()
        if not value:
            return queryset

        def text(side):  # the value as text; a JSON null as a word of its own
            return Coalesce(
                Cast(KeyTransform(value, side), TextField()),
                Value("\u2400"),
                output_field=TextField(),
            )

        both = Q(before__has_key=value) & Q(after__has_key=value)
        return (
            queryset.filter(Q(before__has_key=value) | Q(after__has_key=value))
            .alias(field_before=text("before"), field_after=text("after"))
            .exclude(both & Q(field_before=F("field_after")))
        )

    def search_values(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        texts = queryset.annotate(
            before_text=Cast("before", TextField()), after_text=Cast("after", TextField())
        )
        return texts.filter(
            Q(before_text__icontains=value)
            | Q(after_text__icontains=value)
            | Q(reason__icontains=value)
        )

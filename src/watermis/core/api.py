"""API building blocks: every endpoint needs a named permission and reads scoped rows."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Manager
from rest_framework import exceptions, mixins, serializers, viewsets

from .filtersets import AuditEntryFilterSet
from .models import AuditEntry
from .permissions import ACTION_BY_METHOD
from .scoping import ScopedQuerySet
from .serializers import AuditEntrySerializer


class ScopedModelSerializer(serializers.ModelSerializer):
    """Related-object choices limited to what the requesting operator may see."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is None:
            return
        for field in self.fields.values():
            queryset = getattr(field, "queryset", None)
            if isinstance(queryset, Manager):
                queryset = queryset.all()
            if isinstance(queryset, ScopedQuerySet):
                field.queryset = queryset.restrict(request.user)


class ScopedViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Read endpoints over the restricted queryset; writes call the app's services.

    Subclasses set ``model`` and, for writes, ``create_service(actor, data)``
    and ``update_service(actor, obj, data)``.
    """

    model = None
    create_service = None
    update_service = None

    def get_queryset(self):
        action = ACTION_BY_METHOD.get(self.request.method, "view")
        return self.model.objects.restrict(self.request.user, action).order_by("pk")

    def _call(self, service, *args, **kwargs):
        """``service(user, ...)`` with its Django errors as the API's (400 by field, 403)."""
        try:
            return service(self.request.user, *args, **kwargs)
        except DjangoValidationError as exc:
            detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
            raise exceptions.ValidationError(detail) from exc
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc


class ScopedWriteViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, ScopedViewSet):
    """Create and update through the app's services (never ``serializer.save()``)."""

    def perform_create(self, serializer):
        serializer.instance = self._call(type(self).create_service, serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = self._call(
            type(self).update_service, serializer.instance, serializer.validated_data
        )


class AuditEntryViewSet(ScopedViewSet):
    """The change journal, read-only."""

    model = AuditEntry
    serializer_class = AuditEntrySerializer
    filterset_class = AuditEntryFilterSet

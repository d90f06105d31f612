from rest_framework import serializers

from .models import AuditEntry


class AuditEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "at",
            "actor",
            "actor_name",
            "source",
            "request_id",
            "ip",
            "action",
            "verb",
            "object_type",
            "object_id",
            "object_repr",
            "zone_id",
            "before",
            "after",
            "reason",
        ]

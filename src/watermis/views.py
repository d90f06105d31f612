"""Project-level pages: the landing page and health."""

from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.generic import TemplateView

from watermis import dashboard
from watermis.core.scoping import visible_zone_ids
from watermis.org.models import BusinessUnit, Employee, LoginEvent, Zone


class HomeView(TemplateView):
    """The landing page after sign-in: the dashboard of the operator's zones (``dashboard``),
    who you are, what you may see."""

    template_name = "home.html"

    def today(self):
        """The business day the dashboard's figures are of."""
        return timezone.localdate()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        zones = visible_zone_ids(user)
        zone_list = list(Zone.objects.in_zones(zones))
        context.update(
            board=dashboard.build(user, zone_list, self.today()),
            zones=[zone for zone in zone_list if zone.active],
            all_zones=zones is None,
            unit_count=BusinessUnit.objects.in_zones(zones).count(),
            employee_count=Employee.objects.in_zones(zones).filter(active=True).count(),
            roles=user.groups.order_by("name"),
            last_logins=LoginEvent.objects.filter(operator=user).order_by("-at")[:5],
            now=timezone.now(),
        )
        return context


def health(request):
    """Liveness for the load balancer: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})

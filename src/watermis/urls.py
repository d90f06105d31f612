from django.urls import include, path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from watermis.org import views as org_views

from . import views
from .api_urls import router

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("login/", org_views.LoginView.as_view(), name="login"),
    path("logout/", org_views.logout_view, name="logout"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("health/", views.health, name="health"),
    path("org/", include("watermis.org.urls")),
    path("system/", include("watermis.system.urls")),
    path("core/", include("watermis.core.urls")),
    path("tariffs/", include("watermis.tariffs.urls")),
    path("customers/import/", include("watermis.customers.import_urls")),
    path("customers/", include("watermis.customers.urls")),
    path("readings/", include("watermis.readings.urls")),
    path("billing/", include("watermis.billing.urls")),
    path("documents/", include("watermis.documents.urls")),
    path("invoices/", include("watermis.invoices.urls")),
    path("payments/", include("watermis.payments.urls")),
    path("reports/", include("watermis.reports.urls")),
    path("api/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

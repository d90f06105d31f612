from django.urls import path

from . import views

app_name = "tariffs"

urlpatterns = [
    path("items/", views.PriceItemListView.as_view(), name="item_list"),
    path("items/add/", views.PriceItemEditView.as_view(), name="item_add"),
    path("items/<int:pk>/", views.PriceItemDetailView.as_view(), name="item_detail"),
    path("items/<int:pk>/edit/", views.PriceItemEditView.as_view(), name="item_edit"),
    path("categories/", views.WaterCategoryListView.as_view(), name="category_list"),
    path("categories/add/", views.WaterCategoryEditView.as_view(), name="category_add"),
    path("categories/<int:pk>/", views.WaterCategoryDetailView.as_view(), name="category_detail"),
    path("categories/<int:pk>/edit/", views.WaterCategoryEditView.as_view(), name="category_edit"),
    path("minimums/", views.MinimumVolumeListView.as_view(), name="minimum_list"),
    path("minimums/add/", views.MinimumVolumeEditView.as_view(), name="minimum_add"),
    path("minimums/<int:pk>/edit/", views.MinimumVolumeEditView.as_view(), name="minimum_edit"),
    path("tariffs/", views.TariffListView.as_view(), name="tariff_list"),
    path("tariffs/add/", views.TariffEditView.as_view(), name="tariff_add"),
    path("tariffs/<int:pk>/", views.TariffDetailView.as_view(), name="tariff_detail"),
    path("tariffs/<int:pk>/edit/", views.TariffEditView.as_view(), name="tariff_edit"),
    path("tariffs/<int:pk>/compare/", views.TariffCompareView.as_view(), name="tariff_compare"),
    path(
        "tariffs/<int:tariff_pk>/versions/add/",
        views.TariffVersionEditView.as_view(),
        name="version_add",
    ),
    path("versions/<int:pk>/", views.TariffVersionDetailView.as_view(), name="version_detail"),
    path("versions/<int:pk>/edit/", views.TariffVersionEditView.as_view(), name="version_edit"),
    path("preview/", views.TariffPreviewView.as_view(), name="preview"),
]

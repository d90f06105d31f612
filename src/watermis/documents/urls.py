from django.urls import path

from . import views

app_name = "documents"

urlpatterns = [
    path("layouts/", views.LayoutListView.as_view(), name="layout_list"),
    path("layouts/add/", views.LayoutEditView.as_view(), name="layout_add"),
    path("layouts/preview/", views.LayoutPreviewView.as_view(), name="layout_preview"),
    path("layouts/draft.pdf", views.LayoutDraftPdfView.as_view(), name="layout_draft_pdf"),
    path("layouts/<int:pk>/", views.LayoutDetailView.as_view(), name="layout_detail"),
    path("layouts/<int:pk>/edit/", views.LayoutEditView.as_view(), name="layout_edit"),
    path("layouts/<int:pk>/activate/", views.LayoutActivateView.as_view(), name="layout_activate"),
    path("layouts/<int:pk>/sample.png", views.LayoutPngView.as_view(), name="layout_png"),
    path("layouts/<int:pk>/sample.pdf", views.LayoutPdfView.as_view(), name="layout_pdf"),
    path("meter-cards/", views.MeterCardPrintView.as_view(), name="meter_cards"),
    path("notices/", views.NoticePrintView.as_view(), name="notices"),
]

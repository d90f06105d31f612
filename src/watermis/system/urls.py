from django.urls import path

from . import views

app_name = "system"

urlpatterns = [
    path("parameters/", views.ParameterListView.as_view(), name="parameter_list"),
    path("parameters/<str:key>/", views.ParameterEditView.as_view(), name="parameter_edit"),
]

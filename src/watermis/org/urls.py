from django.urls import path

from . import views
from .models import EmployeeRole

app_name = "org"

urlpatterns = [
    path("switch/", views.SwitchOperatorView.as_view(), name="switch_operator"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("logins/", views.LoginHistoryView.as_view(), name="login_history"),
    path("company/", views.CompanyView.as_view(), name="company"),
    path("company/edit/", views.CompanyEditView.as_view(), name="company_edit"),
    path("zones/", views.ZoneListView.as_view(), name="zone_list"),
    path("zones/add/", views.ZoneEditView.as_view(), name="zone_add"),
    path("zones/<int:pk>/", views.ZoneDetailView.as_view(), name="zone_detail"),
    path("zones/<int:pk>/edit/", views.ZoneEditView.as_view(), name="zone_edit"),
    path("units/", views.UnitListView.as_view(), name="unit_list"),
    path("units/add/", views.UnitEditView.as_view(), name="unit_add"),
    path("units/<int:pk>/", views.UnitDetailView.as_view(), name="unit_detail"),
    path("units/<int:pk>/edit/", views.UnitEditView.as_view(), name="unit_edit"),
    path("employees/", views.EmployeeListView.as_view(), name="employee_list"),
    path("employees/add/", views.EmployeeEditView.as_view(), name="employee_add"),
    path("employees/<int:pk>/", views.EmployeeDetailView.as_view(), name="employee_detail"),
    path("employees/<int:pk>/edit/", views.EmployeeEditView.as_view(), name="employee_edit"),
    path("readers/", views.EmployeeListView.as_view(role=EmployeeRole.READER), name="reader_list"),
    path(
        "collectors/",
        views.EmployeeListView.as_view(role=EmployeeRole.COLLECTOR),
        name="collector_list",
    ),
    path(
        "installers/",
        views.EmployeeListView.as_view(role=EmployeeRole.INSTALLER),
        name="installer_list",
    ),
    path(
        "inspectors/",
        views.EmployeeListView.as_view(role=EmployeeRole.INSPECTOR),
        name="inspector_list",
    ),
    path("operators/", views.OperatorListView.as_view(), name="operator_list"),
    path("operators/add/", views.OperatorEditView.as_view(), name="operator_add"),
    path("operators/<int:pk>/", views.OperatorDetailView.as_view(), name="operator_detail"),
    path("operators/<int:pk>/edit/", views.OperatorEditView.as_view(), name="operator_edit"),
    path(
        "operators/<int:pk>/password/",
        views.OperatorPasswordResetView.as_view(),
        name="operator_password",
    ),
    path("operators/<int:pk>/unlock/", views.OperatorUnlockView.as_view(), name="operator_unlock"),
    path("roles/", views.RoleListView.as_view(), name="role_list"),
    path("roles/add/", views.RoleEditView.as_view(), name="role_add"),
    path("roles/<int:pk>/", views.RoleEditView.as_view(), name="role_edit"),
]

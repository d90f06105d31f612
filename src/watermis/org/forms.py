from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from watermis.core.forms import BootstrapMixin, ScopedFormMixin

from . import services
from .models import BusinessUnit, Company, Employee, Operator, Zone


class CompanyForm(ScopedFormMixin, forms.ModelForm):
    website = forms.URLField(label=_("website"), required=False, assume_scheme="https")

    class Meta:
        model = Company
        fields = services.COMPANY_FIELDS


class ZoneForm(ScopedFormMixin, forms.ModelForm):
    class Meta:
        model = Zone
        fields = services.ZONE_FIELDS


class BusinessUnitForm(ScopedFormMixin, forms.ModelForm):
    class Meta:
        model = BusinessUnit
        fields = services.UNIT_FIELDS


class EmployeeForm(ScopedFormMixin, forms.ModelForm):
    class Meta:
        model = Employee
        fields = services.EMPLOYEE_FIELDS
        widgets = {"hired_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}


class OperatorForm(ScopedFormMixin, forms.ModelForm):
    groups = forms.ModelMultipleChoiceField(
        Group.objects.order_by("name"),
        label=_("Roles"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    password = forms.CharField(
        label=_("Initial password"),
        widget=forms.PasswordInput(render_value=False),
        help_text=password_validation.password_validators_help_text_html(),
    )

    class Meta:
        model = Operator
        fields = [
            "username",
            "name",
            "email",
            "employee",
            "unit",
            "groups",
            "zones",
            "all_zones",
            "is_active",
        ]
        widgets = {"zones": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["password"]


class RoleForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Role name"), max_length=150)


class LoginForm(BootstrapMixin, forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput)


class PasswordChangeForm(BootstrapMixin, forms.Form):
    old_password = forms.CharField(label=_("Old password"), widget=forms.PasswordInput)
    new_password1 = forms.CharField(
        label=_("New password"),
        widget=forms.PasswordInput,
        help_text=password_validation.password_validators_help_text_html(),
    )
    new_password2 = forms.CharField(label=_("New password again"), widget=forms.PasswordInput)

    def clean(self):
        data = super().clean()
        if data.get("new_password1") and data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", _("The two new passwords differ."))
        return data


class PasswordResetForm(BootstrapMixin, forms.Form):
    new_password1 = forms.CharField(
        label=_("New password"),
        widget=forms.PasswordInput,
        help_text=password_validation.password_validators_help_text_html(),
    )
    new_password2 = forms.CharField(label=_("New password again"), widget=forms.PasswordInput)
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def clean(self):
        data = super().clean()
        if data.get("new_password1") and data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", _("The two new passwords differ."))
        return data

from django.conf import settings

from watermis.menu import menu_for


def layout(request):
    """What the layout needs on every page: the menu, the company name and the version."""
    user = getattr(request, "user", None)
    context = {"watermis_version": settings.VERSION}
    if user is not None and user.is_authenticated:
        from watermis.org.queries import company_name

        context["menu"] = menu_for(user)
        context["company_name"] = company_name()
    return context

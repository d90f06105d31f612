import os

from django.core.asgi import get_asgi_application

from watermis.core.startup import settle_heap

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "watermis.settings")
application = get_asgi_application()
settle_heap()

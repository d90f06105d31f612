import os

from django.core.wsgi import get_wsgi_application

from watermis.core.startup import settle_heap

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "watermis.settings")
application = get_wsgi_application()
settle_heap()

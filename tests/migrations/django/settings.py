import os
from urllib.parse import urlparse

_url = urlparse(os.environ["DATABASE_URL"])
SECRET_KEY = "zeropg-tests"
INSTALLED_APPS = ["django.contrib.postgres", "accounts"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _url.path.lstrip("/") or "postgres",
        "USER": _url.username or "postgres",
        "HOST": _url.hostname,
        "PORT": _url.port,
    }
}
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

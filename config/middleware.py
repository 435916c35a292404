"""Django's session, language, authentication and message middleware, for the admin and the site only.

The API under /api/ is JSON for other systems, authenticated by a token on every request (accounts.api.auth): it has
no session, no logged-in Django user and no flash messages, and its messages are Chinese whatever the client's
Accept-Language (api.md: `message` is Chinese text). Each class below is the Django middleware of the same name (a
subclass, so Django's and the admin's checks still find it); on an API request it hands the request straight on.
That is about 0.3 M fewer Python instructions per API request, 5-6 % of a trivial authenticated GET and of a
settlement (docs/benchmarks.md, "Sync workers"). Django's CSRF middleware stays for every request: `check --deploy`
asks for it by name, and the API's views are CSRF-exempt (DRF, token authentication), which it checks cheaply.
"""

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.utils import translation

API_PREFIX = "/api/"


def is_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


class SiteOnly:
    """Runs the middleware it is mixed into except on API requests."""

    def __call__(self, request):
        if is_api(request):
            return self.get_response(request)
        return super().__call__(request)


class SessionMiddleware(SiteOnly, DjangoSessionMiddleware):
    pass


class AuthenticationMiddleware(SiteOnly, DjangoAuthenticationMiddleware):
    pass


class MessageMiddleware(SiteOnly, DjangoMessageMiddleware):
    pass


class LocaleMiddleware(DjangoLocaleMiddleware):
    """Site pages negotiate the language as Django does; API requests are answered in LANGUAGE_CODE (Simplified
    Chinese), also where a worker thread last served a page in another language."""

    def __call__(self, request):
        if is_api(request):
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = settings.LANGUAGE_CODE
            return self.get_response(request)
        return super().__call__(request)

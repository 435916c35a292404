"""The address of the person at the other end of a request, for records such as the document access log (R14).

Behind the buffering reverse proxy the README asks for, REMOTE_ADDR is the proxy's own address. With
TRUSTED_PROXY_COUNT = N proxies of our own in front, the client is the address the outermost of them saw: the N-th
entry from the right of X-Forwarded-For (each proxy appends the address it received the request from). Entries
further left are whatever the client sent and are never trusted.
"""

import ipaddress

from django.conf import settings


def client_address(request) -> str | None:
    remote = request.META.get("REMOTE_ADDR") or None
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < count:
        return remote
    candidate = forwarded[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote

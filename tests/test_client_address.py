"""The client's address behind our own reverse proxies (accounts.client_address), for the document access log."""

import pytest
from django.test import RequestFactory

from accounts.client_address import client_address

FORWARDED = "203.0.113.9, 10.0.0.7"  # what the client claimed, then the address our outer proxy saw


@pytest.mark.parametrize(
    "count,forwarded,expected",
    [
        (0, FORWARDED, "127.0.0.1"),  # no proxy trusted: the header is the client's to forge
        (1, FORWARDED, "10.0.0.7"),  # one proxy: the entry it appended
        (2, FORWARDED, "203.0.113.9"),  # two proxies: the address the outer one saw
        (3, FORWARDED, "127.0.0.1"),  # fewer entries than proxies: not behind them
        (1, "", "127.0.0.1"),
        (1, "10.0.0.7, not-an-address", "127.0.0.1"),
    ],
)
def test_client_address_behind_trusted_proxies(settings, count, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected

import hashlib
import secrets

from django.db import connections
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.db import ModelColumns, prepared_cursor
from accounts.models import ApiClient
from settlements.models import Institution


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_generate() -> str:
    return secrets.token_hex(20)


# Performance: every API request runs this look-up. Hand-written SQL (`ModelColumns` maps the row to the same
# instances `ApiClient.objects.select_related("institution").filter(token_hash=...).first()` returns) costs ~0.1 ms
# of Python instead of ~0.55 ms for building and compiling the QuerySet (docs/benchmarks.md, "Settlements").
_CLIENT, _INSTITUTION = ModelColumns(ApiClient, "c"), ModelColumns(Institution, "i")
_CLIENT_SQL = f"""
    SELECT {_CLIENT.sql}, {_INSTITUTION.sql}
      FROM "{ApiClient._meta.db_table}" c
      LEFT OUTER JOIN "{Institution._meta.db_table}" i ON i."id" = c."institution_id"
     WHERE c."token_hash" = %s"""  # noqa: S608 - identifiers from model meta, the hash is a parameter


def client_by_token_hash(hashed: str) -> ApiClient | None:
    """The API client with this token hash (unique), its institution loaded (None for staff and channel clients)."""
    connection = connections[ApiClient.objects.db]
    with prepared_cursor(ApiClient.objects.db) as cursor:
        cursor.execute(_CLIENT_SQL, [hashed])
        row = cursor.fetchone()
    if row is None:
        return None
    client = _CLIENT.load(row, 0, connection)
    ApiClient.institution.field.set_cached_value(client, _INSTITUTION.load(row, _CLIENT.width, connection))
    return client


class ApiClientTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <key>`; only the key's SHA-256 is stored, so a leaked table leaks no key."""

    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("令牌格式错误。")
        try:
            token = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("令牌格式错误。") from None
        client = client_by_token_hash(token_hash(token))
        if client is None or not client.is_active:
            raise exceptions.AuthenticationFailed("令牌无效或已停用。")
        return client, None

    def authenticate_header(self, request):
        return self.keyword


class ApiClientTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.api.auth.ApiClientTokenAuthentication"
    name = "TokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization", "description": "Token <key>"}

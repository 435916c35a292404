import hashlib
import secrets

from django.utils import translation
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.models import ApiClient


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_generate() -> str:
    return secrets.token_hex(20)


class ApiClientTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <key>`; only the key's SHA-256 is stored, so a leaked table leaks no key."""

    keyword = "Token"

    def authenticate(self, request):
        # The API answers in Chinese whatever the client's Accept-Language (api.md: Chinese messages).
        translation.activate("zh-hans")
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("令牌格式错误。")
        try:
            token = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("令牌格式错误。") from None
        client = ApiClient.objects.select_related("institution").filter(token_hash=token_hash(token)).first()
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

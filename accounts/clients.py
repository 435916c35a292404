"""API clients (api.md "Clients and roles"): created by `create_api_client`, identified by a token whose
SHA-256 alone is stored."""

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.api.auth import token_generate, token_hash
from accounts.models import ApiClient, ApiRole


@transaction.atomic
def api_client_create(*, name: str, role: str, institution_code: str | None = None) -> tuple[ApiClient, str]:
    """Create a client and return it with its token; the token is shown once and never stored."""
    from settlements.models import Institution  # settlements owns institutions

    name = (name or "").strip()
    if not name:
        raise ValidationError("客户端名称不能为空。")
    if role not in ApiRole.values:
        raise ValidationError(f"未知角色「{role}」，可选：{'、'.join(ApiRole.values)}。")
    institution = None
    if role == ApiRole.INSTITUTION:
        if not institution_code:
            raise ValidationError("机构客户端须用 --institution 指定定点医药机构编码。")
        institution = Institution.objects.filter(code=institution_code.strip()).first()
        if institution is None:
            raise ValidationError(f"机构编码「{institution_code}」不存在。")
    elif institution_code:
        raise ValidationError("只有 institution 角色的客户端可以指定机构。")
    token = token_generate()
    client = ApiClient.objects.create(
        name=name, role=role, institution=institution, token_hash=token_hash(token), token_prefix=token[:8]
    )
    return client, token

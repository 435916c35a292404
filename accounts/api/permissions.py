from rest_framework.permissions import BasePermission

from accounts.models import ApiClient, ApiRole


class IsApiClient(BasePermission):
    message = "需要有效的 API 令牌。"

    def has_permission(self, request, view):
        if not isinstance(request.user, ApiClient):
            return False
        allowed = getattr(view, "allowed_roles", None)
        if allowed is None:
            return True
        if request.user.role not in allowed:
            self.message = "该客户端角色无权调用此接口。"
            return False
        return True


ALL_ROLES = (ApiRole.INSTITUTION, ApiRole.CHANNEL, ApiRole.STAFF)

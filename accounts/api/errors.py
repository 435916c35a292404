"""The API's one error shape: {"code", "message", "reasons": [{"code", "message"}]} (api.md)."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.reasons import BusinessRuleError

STATUS_CODES = {
    400: ("INVALID_INPUT", "请求数据不合法。"),
    401: ("NOT_AUTHENTICATED", "未提供有效的身份凭证。"),
    403: ("PERMISSION_DENIED", "无权执行此操作。"),
    404: ("NOT_FOUND", "未找到请求的资源。"),
    405: ("METHOD_NOT_ALLOWED", "不支持该请求方法。"),
    406: ("NOT_ACCEPTABLE", "无法提供请求的格式。"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "请求内容类型不受支持，请使用 JSON。"),
    429: ("THROTTLED", "请求过于频繁。"),
}


class ApiError(exceptions.APIException):
    """An error with a stable code, raised by views (409 IDEMPOTENCY_CONFLICT, ALREADY_REVERSED ...)."""

    def __init__(self, status_code: int, code: str, message: str, reasons=None):
        self.status_code = status_code
        self.code = code
        self.message = message
        self.reasons = reasons or []
        super().__init__(detail=message, code=code)


# Texts of DRF's that its translations do not cover: the API's messages are Chinese whatever the client (docs/api.md).
UNTRANSLATED = {"No data provided": "请求体为空：须为一个 JSON 对象。"}


def error_body(code: str, message: str, reasons=None) -> dict:
    return {"code": code, "message": message, "reasons": reasons or []}


def _flatten_validation(detail, prefix="") -> list[dict]:
    reasons = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):  # a list's errors, by the index of each bad element (DRF's ListSerializer)
                reasons += _flatten_validation(value, f"{prefix}[{key}]")
                continue
            name = key if key != "non_field_errors" else ""
            reasons += _flatten_validation(value, f"{prefix}.{name}" if prefix and name else (name or prefix))
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                reasons += _flatten_validation(value, f"{prefix}[{index}]")
            else:
                reasons += _flatten_validation(value, prefix)
    else:
        code = getattr(detail, "code", "invalid") or "invalid"
        detail = UNTRANSLATED.get(str(detail), detail)
        reasons.append(
            {"code": str(code).upper(), "message": f"{prefix}：{detail}" if prefix else str(detail), "field": prefix}
        )
    return reasons


def business_rule_response(error: BusinessRuleError, status_code: int = 422) -> Response:
    reasons = [r.as_dict() for r in error.reasons]
    return Response(error_body(error.code, error.message, reasons), status=status_code)


def exception_handler(exc, context):
    if isinstance(exc, BusinessRuleError):
        return business_rule_response(exc)
    if isinstance(exc, ApiError):
        return Response(error_body(exc.code, exc.message, exc.reasons), status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code, message = STATUS_CODES.get(response.status_code, ("ERROR", "请求失败。"))
    reasons = []
    if isinstance(exc, exceptions.ValidationError):
        reasons = _flatten_validation(exc.detail)
        if reasons:
            message = "请求数据不合法：" + "；".join(r["message"] for r in reasons)
    elif isinstance(exc, exceptions.AuthenticationFailed | exceptions.PermissionDenied) and exc.detail:
        message = (
            str(exc.detail) if not str(exc.detail).startswith(("You ", "Authentication", "Incorrect")) else message
        )
    elif isinstance(exc, exceptions.ParseError):
        message = "请求体不是合法的 JSON。"
    response.data = error_body(code, message, reasons)
    return response

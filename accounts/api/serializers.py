from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from accounts.api.fields import StringField
from accounts.id_numbers import mask_id_number, mask_name, normalize_id_number, parse_id_number
from accounts.models import ApiClient, ApiRole, InsuranceType, LedgerEntry, Person
from accounts.selectors import person_balance

INSURANCE_TYPE_API = {InsuranceType.EMPLOYEE: "employee", InsuranceType.RESIDENT: "resident"}


def sees_in_full(client) -> bool:
    """Only the internal `staff` role reads names and ID numbers in full (api.md)."""
    return isinstance(client, ApiClient) and client.role == ApiRole.STAFF


def person_summary(person: Person | None, client) -> dict | None:
    if person is None:
        return None
    full = sees_in_full(client)
    balance = person_balance(person)
    return {
        "person_no": person.person_no,
        "name": person.name if full else mask_name(person.name),
        "id_number": person.id_number if full else mask_id_number(person.id_number),
        "insurance_type": INSURANCE_TYPE_API.get(person.insurance_type, person.insurance_type),
        "insurance_status": person.insurance_status,
        "region": person.region_id,
        "has_account": balance is not None,
        "balance": f"{balance:.2f}" if balance is not None else None,
    }


class PersonSummarySerializer(serializers.Serializer):
    """Documents the summary's shape for the schema; `person_summary` builds it."""

    person_no = serializers.CharField()
    name = serializers.CharField()
    id_number = serializers.CharField()
    insurance_type = serializers.ChoiceField(choices=["employee", "resident"])
    insurance_status = serializers.ChoiceField(choices=["normal", "suspended", "terminated", "uninsured"])
    region = serializers.CharField()
    has_account = serializers.BooleanField()
    balance = serializers.CharField(allow_null=True)


class PersonLookupSerializer(serializers.Serializer):
    id_number = StringField(max_length=18, min_length=18)

    def validate_id_number(self, value):
        """A number that fails GB 11643 (shape, birth date, check character) is malformed input: 400."""
        value = normalize_id_number(value)
        try:
            parse_id_number(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(str(error.messages[0]), code=error.code or "invalid") from None
        return value


class LedgerEntrySerializer(serializers.ModelSerializer):
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    balance_after = serializers.DecimalField(max_digits=14, decimal_places=2)
    counterparty = serializers.SerializerMethodField()

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "occurred_at",
            "kind",
            "amount",
            "balance_after",
            "settlement_id",
            "reference",
            "counterparty",
            "reverses_id",
        ]

    def get_counterparty(self, entry) -> dict | None:
        client = self.context.get("client")
        member = entry.member
        institution = entry.institution
        if member is None and institution is None:
            return None
        return {
            "member": None
            if member is None
            else {
                "person_no": member.person_no,
                "name": member.name if sees_in_full(client) else mask_name(member.name),
            },
            "institution": None if institution is None else {"code": institution.code, "name": institution.name},
        }


class ReasonSerializer(serializers.Serializer):
    """One reason a request was refused or only partly paid (api.md "Reason codes"). Shared by every app so the
    OpenAPI schema has one `Reason` component."""

    code = serializers.CharField()
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """The error shape of every endpoint: {code, message, reasons}."""

    code = serializers.CharField()
    message = serializers.CharField()
    reasons = ReasonSerializer(many=True)


def error_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


# The errors every token-authenticated endpoint may answer, for the schema (api.md "Conventions": 400 malformed input,
# 401/403 auth, 404 not found). Views list the ones that apply to them.
E400 = error_response("请求数据不合法（INVALID_INPUT）")
E401 = error_response("未提供有效的令牌（NOT_AUTHENTICATED）")
E403 = error_response("该客户端角色无权调用此接口（PERMISSION_DENIED）")
E404 = error_response("未找到资源（PERSON_NOT_FOUND / NOT_FOUND）")

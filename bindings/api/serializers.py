"""Request and response shapes of the bindings API (api.md "Endpoints"). Views call services and selectors only."""

import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.fields import DateTimeField
from accounts.api.serializers import PersonSummarySerializer, ReasonSerializer, person_summary
from accounts.id_numbers import normalize_id_number, parse_id_number
from bindings.models import Authorization, AuthorizationStatus, Channel, Kinship
from bindings.rules import effective_status
from settlements.models import SettlementCategory

API_CHANNELS = [(Channel.APP.value, Channel.APP.label), (Channel.ONLINE_HALL.value, Channel.ONLINE_HALL.label)]


class IdNumberField(serializers.CharField):
    """An 18-character resident ID number checked by GB 11643 (shape, birth date, check character): else 400."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 18)
        kwargs.setdefault("min_length", 18)
        kwargs.setdefault("help_text", "18 位居民身份证号码（GB 11643 校验）")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError("身份证号码必须是字符串。", code="invalid")
        value = normalize_id_number(super().to_internal_value(data))
        try:
            parse_id_number(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(str(error.messages[0]), code=error.code or "invalid") from None
        return value




class AuthorizationStartField(DateTimeField):
    """R9's start. A date alone means that day from 00:00 Asia/Shanghai, except today's date, which means from now:
    a start earlier than now is refused (R9), and a caller sending today's date means "starting today"."""

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                day = datetime.date.fromisoformat(value.strip())
            except ValueError:
                day = None
            if day is not None and len(value.strip()) == 10 and day == timezone.localdate():
                return None  # the service's default start: now
        return super().to_internal_value(value)


class AuthorizationCreateSerializer(serializers.Serializer):
    grantor_id_number = IdNumberField()
    member_id_number = IdNumberField()
    kinship = serializers.ChoiceField(
        choices=Kinship.choices, help_text="从授权人角度陈述：parent 表示使用人是授权人的父母"
    )
    valid_from = AuthorizationStartField(
        required=False,
        allow_null=True,
        help_text=(
            "ISO 8601；不带时区按 Asia/Shanghai；缺省为当前时间（R9）；只给日期时自该日 0 时起，当天日期即自当前时间起"
        ),
    )
    valid_to = DateTimeField(required=False, allow_null=True, help_text="缺省为长期有效（R9）")
    promise_accepted = serializers.BooleanField(
        required=False,
        default=False,
        help_text="已在线签署个人承诺书（R10）；false 或缺省时以 422 PROMISE_REQUIRED 拒绝",
    )
    channel = serializers.ChoiceField(choices=API_CHANNELS, required=False, default=Channel.APP)


class ConfirmSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[("accept", "同意"), ("decline", "拒绝")])
    channel = serializers.ChoiceField(
        choices=API_CHANNELS, required=False, help_text="答复所经渠道，缺省为建立授权时的线上渠道（否则 app）"
    )
    member_id_number = IdNumberField(
        required=False, help_text="可选：渠道已核验的操作人身份证号；给出时必须是被绑定的配偶本人（否则 403）"
    )


class RevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, help_text="解除原因，必填")
    channel = serializers.ChoiceField(
        choices=API_CHANNELS, required=False, help_text="解除所经渠道，缺省为建立授权时的线上渠道（否则 app）"
    )


class ChangePeriodSerializer(serializers.Serializer):
    valid_to = DateTimeField(
        allow_null=True, help_text="新的终止时间（ISO 8601，不带时区按 Asia/Shanghai）；null 为长期有效（R9、R12）"
    )
    channel = serializers.ChoiceField(
        choices=API_CHANNELS, required=False, help_text="修改所经渠道，缺省为建立授权时的线上渠道（否则 app）"
    )


class EligibilitySerializer(serializers.Serializer):
    member_id_number = IdNumberField()
    grantor_id_number = IdNumberField(required=False, allow_null=True)
    kinship = serializers.ChoiceField(choices=Kinship.choices, required=False, allow_null=True)
    category = serializers.ChoiceField(choices=SettlementCategory.choices, required=False, allow_null=True)


class AuthorizationSerializer(serializers.ModelSerializer):
    """授权记录. `status` is the effective status: a live authorization past its `valid_to` is `expired`."""

    grantor = serializers.SerializerMethodField()
    member = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()
    kinship_display = serializers.CharField(source="get_kinship_display", read_only=True)
    channel_display = serializers.CharField(source="get_channel_display", read_only=True)

    class Meta:
        model = Authorization
        fields = [
            "id",
            "grantor",
            "member",
            "kinship",
            "kinship_display",
            "status",
            "valid_from",
            "valid_to",
            "channel",
            "channel_display",
            "created_at",
            "confirmed_at",
            "ended_at",
            "end_reason",
        ]
        read_only_fields = fields

    @extend_schema_field(PersonSummarySerializer)
    def get_grantor(self, obj):
        return person_summary(obj.grantor, self.context.get("client"))

    @extend_schema_field(PersonSummarySerializer)
    def get_member(self, obj):
        return person_summary(obj.member, self.context.get("client"))

    @extend_schema_field(serializers.ChoiceField(choices=AuthorizationStatus.choices))
    def get_status(self, obj):
        return effective_status(obj, self.context.get("at"))


class EligibilityResultSerializer(serializers.Serializer):
    eligible = serializers.BooleanField()
    grantor = PersonSummarySerializer(allow_null=True)
    authorization_id = serializers.IntegerField(allow_null=True, help_text="据以判断的共济授权（如有）")
    reasons = ReasonSerializer(many=True)

"""Bindings API (api.md): authorizations, their records per person, and eligibility.

Views validate the body, look people up and call bindings.services / bindings.selectors; no rule is
re-implemented here. A refusal by the rules engine is a 422 listing every reason (accounts.api.errors).

People named by ID number in a body who do not exist are a business refusal, not a missing resource:
422 with code `PERSON_NOT_FOUND` (as api.md says for settlements), together with every other reason that
can be told without them (R9 period, R10 promise). A person addressed in the URL by `person_no`, or an
authorization id that does not exist, is a 404.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.errors import ApiError
from accounts.api.permissions import ALL_ROLES
from accounts.api.serializers import E401, E403, E404, error_response, person_summary
from accounts.models import ApiRole, Person
from accounts.reasons import BusinessRuleError, Reason
from accounts.selectors import person_get_by_id_number, person_get_by_no
from bindings.api.serializers import (
    AuthorizationCreateSerializer,
    AuthorizationSerializer,
    ChangePeriodSerializer,
    ConfirmSerializer,
    EligibilityResultSerializer,
    EligibilitySerializer,
    RevokeSerializer,
)
from bindings.models import Authorization, Channel
from bindings.rules import (
    ONLINE_CHANNELS,
    Proposal,
    check_r5_kinship,
    check_r9_period,
    check_r10_promise,
    grantor_alone_reasons,
    member_status_reasons,
)
from bindings.selectors import authorizations_for_person, eligibility
from bindings.services import (
    authorization_change_period,
    authorization_confirm,
    authorization_create,
    authorization_revoke,
)
from settlements.selectors import eligibility_at_institution

TAG = "共济授权"


# The shared 401/403/404 (accounts.api.serializers); these views' own 400, 409 and 422 say more.
E400 = error_response("请求数据不合法（身份证号校验位错误、未知亲属关系、时间格式错误等）")
E409 = error_response("状态冲突：授权当前状态不允许此操作（INVALID_TRANSITION）")
E422 = error_response("业务规则不允许：reasons 列出全部原因；身份证号对应的参保人不存在时 code 为 PERSON_NOT_FOUND")

REFUSAL_EXAMPLE = OpenApiExample(
    "422 列出全部原因",
    status_codes=["422"],
    response_only=True,
    value={
        "code": "RULES_NOT_MET",
        "message": "该亲属关系不在现行政策允许范围内。；须签署个人承诺书",
        "reasons": [
            {"code": "RELATION_NOT_ALLOWED", "message": "该亲属关系不在现行政策允许范围内。（其他）"},
            {"code": "PROMISE_REQUIRED", "message": "须签署个人承诺书"},
        ],
    },
)


def _authorization_or_404(pk) -> Authorization:
    authorization = Authorization.objects.select_related("grantor", "member").filter(pk=pk).first()
    if authorization is None:
        raise ApiError(404, "AUTHORIZATION_NOT_FOUND", "未找到该共济授权。")
    return authorization


# How a refusal of an action on an existing authorization is answered: a state that forbids it (already ended,
# not waiting for confirmation) is a 409, someone other than the spouse answering is a 403, any other rule a 422.
ACTION_REFUSAL_STATUS = {"INVALID_TRANSITION": 409, "NOT_CONFIRMING_MEMBER": 403}


def _authorization_action(request, pk, serializer_class, action) -> Response:
    """confirm / revoke / change: validate the body, call the service (`action(authorization, data, channel)`),
    answer with the authorization or the refusal in the error shape."""
    authorization = _authorization_or_404(pk)
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    try:
        authorization = action(authorization, data, _channel(data, authorization))
    except BusinessRuleError as error:
        status_code = ACTION_REFUSAL_STATUS.get(error.code, 422)
        raise ApiError(status_code, error.code, error.message, [r.as_dict() for r in error.reasons]) from None
    except DjangoValidationError as error:
        raise ApiError(400, "INVALID_INPUT", "；".join(error.messages)) from None
    return Response(_data(authorization, request))


def _channel(validated: dict, authorization: Authorization) -> str:
    """The channel of the audit event (R14): as stated, else the online channel the authorization came through."""
    if validated.get("channel"):
        return validated["channel"]
    return authorization.channel if authorization.channel in ONLINE_CHANNELS else Channel.APP


def _data(authorization: Authorization, request) -> dict:
    return AuthorizationSerializer(authorization, context={"client": request.user}).data


class AuthorizationCreateView(APIView):
    allowed_roles = (ApiRole.CHANNEL,)

    @extend_schema(
        tags=[TAG],
        summary="建立共济授权（绑定）",
        description=(
            "渠道（APP / 网上服务大厅）代已核验身份的授权人提交。规则引擎 R1–R10 全部通过后返回 201，"
            "status 为 active，或在政策要求配偶确认时为 pending_confirmation（R11）。"
            "不通过时 422，reasons 列出每一条原因。授权人或使用人不存在：422，code 为 PERSON_NOT_FOUND，"
            "并附带可判断的其他原因（如 PROMISE_REQUIRED）。"
        ),
        request=AuthorizationCreateSerializer,
        responses={201: AuthorizationSerializer, 400: E400, 401: E401, 403: E403, 422: E422},
        examples=[REFUSAL_EXAMPLE],
    )
    def post(self, request):
        serializer = AuthorizationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        grantor = person_get_by_id_number(data["grantor_id_number"])
        member = person_get_by_id_number(data["member_id_number"])
        if grantor is None or member is None:
            self._refuse_missing_people(data, grantor, member)
        authorization = authorization_create(
            grantor=grantor,
            member=member,
            kinship=data["kinship"],
            channel=data["channel"],
            valid_from=data.get("valid_from"),
            valid_to=data.get("valid_to"),
            promise_accepted=data["promise_accepted"],
            api_client=request.user,
        )
        return Response(_data(authorization, request), status=status.HTTP_201_CREATED)

    @staticmethod
    def _refuse_missing_people(data, grantor: Person | None, member: Person | None):
        reasons = []
        if grantor is None:
            reasons.append(Reason.of("PERSON_NOT_FOUND", "授权人"))
        if member is None:
            reasons.append(Reason.of("PERSON_NOT_FOUND", "共济使用人"))
        # What can still be told without the people (R9, R10): the checks read only the proposal's own fields.
        proposal = Proposal(
            grantor=grantor,
            member=member,
            kinship=data["kinship"],
            channel=data["channel"],
            valid_from=data.get("valid_from"),
            valid_to=data.get("valid_to"),
            promise_accepted=data["promise_accepted"],
        )
        reasons += check_r9_period(proposal, None) + check_r10_promise(proposal, None)
        # And what the one known person and the kinship tell alone ("every applicable reason"): R1-R4, and R5 for a
        # kinship refused under every policy (`other`).
        if grantor is not None:
            reasons += grantor_alone_reasons(grantor)
        if member is not None:
            reasons += member_status_reasons(member)
        reasons += check_r5_kinship(proposal, None)
        raise BusinessRuleError(reasons, code="PERSON_NOT_FOUND", message="未找到该参保人员。")


class AuthorizationConfirmView(APIView):
    allowed_roles = (ApiRole.CHANNEL,)

    @extend_schema(
        tags=[TAG],
        summary="配偶确认或拒绝授权（R11）",
        description=(
            "被绑定的配偶通过渠道答复：accept → active，decline → declined。"
            "授权不在待确认状态（已生效、已解除、已过期等）时 409 INVALID_TRANSITION。"
        ),
        request=ConfirmSerializer,
        responses={200: AuthorizationSerializer, 400: E400, 401: E401, 403: E403, 404: E404, 409: E409},
    )
    def post(self, request, pk):
        return _authorization_action(
            request, pk, ConfirmSerializer,
            lambda authorization, data, channel: authorization_confirm(
                authorization=authorization,
                accept=data["decision"] == "accept",
                channel=channel,
                api_client=request.user,
                acting_id_number=data.get("member_id_number"),
            ),
        )


class AuthorizationRevokeView(APIView):
    allowed_roles = (ApiRole.CHANNEL,)

    @extend_schema(
        tags=[TAG],
        summary="解除共济授权（R12）",
        description="授权人可随时解除（status → revoked）。原因必填（缺失 400）；已结束的授权 409 INVALID_TRANSITION。",
        request=RevokeSerializer,
        responses={200: AuthorizationSerializer, 400: E400, 401: E401, 403: E403, 404: E404, 409: E409},
    )
    def post(self, request, pk):
        return _authorization_action(
            request, pk, RevokeSerializer,
            lambda authorization, data, channel: authorization_revoke(
                authorization=authorization, reason=data["reason"], channel=channel, api_client=request.user
            ),
        )


class AuthorizationChangePeriodView(APIView):
    allowed_roles = (ApiRole.CHANNEL,)

    @extend_schema(
        tags=[TAG],
        summary="修改共济授权有效期（R12）",
        description="授权人可随时变更授权：设定新的终止时间或改为长期有效。新的终止时间须晚于开始时间和当前时间，"
        "否则 422 INVALID_PERIOD；已结束的授权 409 INVALID_TRANSITION。记入审计（R14）。",
        request=ChangePeriodSerializer,
        responses={200: AuthorizationSerializer, 400: E400, 401: E401, 403: E403, 404: E404, 409: E409, 422: E422},
    )
    def post(self, request, pk):
        return _authorization_action(
            request, pk, ChangePeriodSerializer,
            lambda authorization, data, channel: authorization_change_period(
                authorization=authorization, valid_to=data["valid_to"], channel=channel, api_client=request.user
            ),
        )


class PersonAuthorizationsView(GenericAPIView):
    allowed_roles = (ApiRole.CHANNEL, ApiRole.STAFF)
    serializer_class = AuthorizationSerializer
    queryset = Authorization.objects.none()  # documents the model for the schema; get() reads the selector

    @extend_schema(
        tags=[TAG],
        summary="授权记录（作为授权人或使用人），新的在前",
        description="status 为实际状态：已过 valid_to 的授权显示 expired。姓名、证件号按客户端角色脱敏。分页。",
        responses={200: AuthorizationSerializer(many=True), 400: E400, 401: E401, 403: E403, 404: E404},
    )
    def get(self, request, person_no):
        person = person_get_by_no(person_no)
        if person is None:
            raise ApiError(404, "PERSON_NOT_FOUND", "未找到该参保人员。")
        page = self.paginate_queryset(authorizations_for_person(person))
        data = AuthorizationSerializer(page, many=True, context={"client": request.user}).data
        return self.get_paginated_response(data)


class EligibilityView(APIView):
    allowed_roles = ALL_ROLES

    @extend_schema(
        tags=[TAG],
        summary="共济支付资格查询",
        description=(
            "不给授权人时按使用人现有授权（按授权先后，S2）判断，没有时说明原因（NO_AUTHORIZATION / "
            "FAMILY_ACCOUNT_ONLY）。给出授权人时按二人之间的授权判断，没有授权时列出建立授权会遇到的全部原因。"
            "身份证号对应的参保人不存在：422 PERSON_NOT_FOUND。"
        ),
        request=EligibilitySerializer,
        responses={200: EligibilityResultSerializer, 400: E400, 401: E401, 403: E403, 422: E422},
    )
    def post(self, request):
        serializer = EligibilitySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        member = person_get_by_id_number(data["member_id_number"])
        grantor = None
        reasons = []
        if member is None:
            reasons.append(Reason.of("PERSON_NOT_FOUND", "共济使用人"))
        if data.get("grantor_id_number"):
            grantor = person_get_by_id_number(data["grantor_id_number"])
            if grantor is None:
                reasons.append(Reason.of("PERSON_NOT_FOUND", "授权人"))
        if reasons:
            raise BusinessRuleError(reasons, code="PERSON_NOT_FOUND", message="未找到该参保人员。")
        asked = {"member": member, "grantor": grantor, "kinship": data.get("kinship"), "category": data.get("category")}
        if request.user.role == ApiRole.INSTITUTION:
            # Judged for a settlement at the asking institution (designation, S6), as the engine will judge the bill.
            result = eligibility_at_institution(request.user.institution, **asked)
        else:
            result = eligibility(**asked)
        return Response(
            {
                "eligible": result.eligible,
                "grantor": person_summary(result.grantor, request.user),
                "authorization_id": result.authorization.pk if result.authorization else None,
                "reasons": [r.as_dict() for r in result.reasons],
            }
        )

"""Settlement endpoints (api.md): post and read settlements, reverse them, read a grantor's expenditure."""


from django.core.paginator import Paginator as DjangoPaginator
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.errors import ApiError
from accounts.api.fields import parse_range_bound
from accounts.api.pagination import StandardPagination
from accounts.api.serializers import E400, E401, E403, E404, ErrorSerializer
from accounts.api.views import RANGE_PARAMETERS, person_or_404
from accounts.models import ApiRole
from settlements.api.serializers import (
    ExpenditureLineSerializer,
    SettlementRequestSerializer,
    SettlementResponseSerializer,
    expenditure_line_body,
    in_declared_order,
    money_text,
    settlement_body,
    validated_settlement_request,
)
from settlements.selectors import expenditure_list, expenditure_totals, settlement_get
from settlements.services import AlreadyReversed, IdempotencyConflict, settlement_create, settlement_reverse

ERROR = ErrorSerializer


def _conflict(error) -> ApiError:
    return ApiError(409, error.code, error.message, [r.as_dict() for r in error.reasons])


class SettlementCreateView(APIView):
    allowed_roles = (ApiRole.INSTITUTION,)

    @extend_schema(
        request=SettlementRequestSerializer,
        responses={
            201: SettlementResponseSerializer,
            200: OpenApiResponse(SettlementResponseSerializer, description="重放：与首次相同的响应，未再扣款"),
            400: ERROR,
            401: E401,
            403: E403,
            409: OpenApiResponse(ERROR, description="IDEMPOTENCY_CONFLICT：相同 external_id、不同请求体"),
            422: OpenApiResponse(
                ERROR, description="整笔拒绝：CREDENTIAL_MISMATCH / PERSON_NOT_FOUND / INSTITUTION_NOT_DESIGNATED"
            ),
        },
        summary="结算（个人负担：本人账户 → 共济 → 现金）",
    )
    def post(self, request):
        payload = validated_settlement_request(request.data)
        client = request.user
        try:
            settlement, created = settlement_create(
                institution=client.institution,
                api_client=client,
                payload=payload,
                response_builder=lambda s: settlement_body(s, client),
            )
        except IdempotencyConflict as error:
            raise _conflict(error) from None
        if created:
            return Response(settlement.first_response(), status=201)
        if settlement.response:
            return Response(in_declared_order(settlement.first_response(), SettlementResponseSerializer()), status=200)
        return Response(settlement_body(settlement, client), status=200)


class SettlementDetailView(APIView):
    allowed_roles = (ApiRole.INSTITUTION, ApiRole.STAFF)

    @extend_schema(
        responses={200: SettlementResponseSerializer, 401: E401, 403: E403, 404: ERROR}, summary="查询一笔结算"
    )
    def get(self, request, pk):
        client = request.user
        institution = client.institution if client.role == ApiRole.INSTITUTION else None
        settlement = settlement_get(pk=pk, institution=institution)
        if settlement is None:
            raise ApiError(404, "NOT_FOUND", "未找到该结算。")
        return Response(settlement_body(settlement, client))


class SettlementReversalView(APIView):
    allowed_roles = (ApiRole.INSTITUTION,)

    @extend_schema(
        request=None,
        responses={
            200: SettlementResponseSerializer,
            401: E401,
            403: E403,
            404: ERROR,
            409: OpenApiResponse(ERROR, description="ALREADY_REVERSED"),
        },
        summary="全额冲正：原路退回各账户",
    )
    def post(self, request, pk):
        client = request.user
        settlement = settlement_get(pk=pk, institution=client.institution)
        if settlement is None:
            raise ApiError(404, "NOT_FOUND", "未找到该结算。")
        try:
            settlement = settlement_reverse(settlement=settlement, api_client=client)
        except AlreadyReversed as error:
            raise _conflict(error) from None
        return Response(settlement_body(settlement_get(pk=settlement.pk), client))


class ExpenditurePagination(StandardPagination):
    """Pages of expenditure lines whose total count is already known from `expenditure_totals` (the same filtered
    range, counted in the same aggregate as the sums): no second COUNT(*) over the range for the paginator."""

    known_count: int = 0

    def django_paginator_class(self, object_list, per_page):
        paginator = DjangoPaginator(object_list, per_page)
        paginator.count = self.known_count  # Paginator.count is a cached_property: set, it is never queried
        return paginator


class ExpenditureListView(APIView):
    allowed_roles = (ApiRole.CHANNEL, ApiRole.STAFF)

    @extend_schema(
        parameters=RANGE_PARAMETERS
        + [
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses={
            200: inline_serializer(
                "ExpenditurePage",
                {
                    "count": serializers.IntegerField(),
                    "total_amount": serializers.CharField(help_text="净支出（已扣除退款）"),
                    "next": serializers.URLField(allow_null=True),
                    "previous": serializers.URLField(allow_null=True),
                    "results": ExpenditureLineSerializer(many=True),
                },
            ),
            400: E400,
            401: E401,
            403: E403,
            404: E404,
        },
        summary="授权人账户共济支出明细（S8）",
    )
    def get(self, request, person_no):
        grantor = person_or_404(person_no)
        start = parse_range_bound(request.query_params.get("from"), "from", end=False)
        end = parse_range_bound(request.query_params.get("to"), "to", end=True)
        lines = expenditure_list(grantor=grantor, start=start, end=end)
        totals = expenditure_totals(grantor=grantor, start=start, end=end)
        paginator = ExpenditurePagination()
        paginator.known_count = totals.count
        page = paginator.paginate_queryset(lines, request, view=self)
        response = paginator.get_paginated_response([expenditure_line_body(line, request.user) for line in page])
        response.data["total_amount"] = money_text(totals.total_amount)
        response.data["count"] = totals.count
        return response

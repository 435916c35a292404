from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.errors import ApiError
from accounts.api.fields import parse_range_bound
from accounts.api.pagination import StandardPagination
from accounts.api.permissions import ALL_ROLES
from accounts.api.serializers import (
    E400,
    E401,
    E403,
    E404,
    LedgerEntrySerializer,
    PersonLookupSerializer,
    PersonSummarySerializer,
    person_summary,
)
from accounts.models import ApiRole, Person
from accounts.selectors import ledger_entries, person_get_by_id_number, person_get_by_no

RANGE_PARAMETERS = [
    OpenApiParameter("from", str, description="YYYY-MM-DD（含）或 ISO 8601 时间"),
    OpenApiParameter("to", str, description="YYYY-MM-DD（含）或 ISO 8601 时间"),
]
PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="页码，从 1 开始"),
    OpenApiParameter(
        "page_size",
        int,
        description=f"每页条数，默认 {StandardPagination.page_size}，最多 {StandardPagination.max_page_size}",
    ),
]


def person_or_404(person_no: str) -> Person:
    """The person of a `persons/{person_no}/...` path, or 404 PERSON_NOT_FOUND, the same on every such endpoint."""
    person = person_get_by_no(person_no)
    if person is None:
        raise ApiError(404, "PERSON_NOT_FOUND", "未找到该参保人员。")
    return person


class PersonLookupView(APIView):
    allowed_roles = ALL_ROLES

    @extend_schema(
        request=PersonLookupSerializer,
        responses={200: PersonSummarySerializer, 400: E400, 401: E401, 404: E404},
        summary="按身份证号查询参保人",
    )
    def post(self, request):
        serializer = PersonLookupSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        person = person_get_by_id_number(serializer.validated_data["id_number"])
        if person is None:
            raise ApiError(404, "PERSON_NOT_FOUND", "未找到该参保人员。")
        return Response(person_summary(person, request.user))


class PersonDetailView(APIView):
    allowed_roles = ALL_ROLES

    @extend_schema(responses={200: PersonSummarySerializer, 401: E401, 404: E404}, summary="参保人概要")
    def get(self, request, person_no):
        return Response(person_summary(person_or_404(person_no), request.user))


class PersonLedgerView(APIView):
    # An institution has no business reading a person's whole account history.
    allowed_roles = (ApiRole.CHANNEL, ApiRole.STAFF)

    pagination_class = StandardPagination  # lets the schema describe the paginated envelope

    @extend_schema(
        parameters=[*RANGE_PARAMETERS, *PAGE_PARAMETERS],
        responses={200: LedgerEntrySerializer(many=True), 400: E400, 401: E401, 403: E403, 404: E404},
        summary="个人账户收支明细（分页，新的在前）",
    )
    def get(self, request, person_no):
        person = person_or_404(person_no)
        start = parse_range_bound(request.query_params.get("from"), "from", end=False)
        end = parse_range_bound(request.query_params.get("to"), "to", end=True)
        entries = ledger_entries(person=person, start=start, end=end)
        paginator = StandardPagination()
        page = paginator.paginate_queryset(entries, request, view=self)
        data = LedgerEntrySerializer(page, many=True, context={"client": request.user}).data
        return paginator.get_paginated_response(data)


class ApiNotFoundView(APIView):
    """Any path under /api/v1/ that no endpoint matches: a 404 in the API's error shape (after the usual
    authentication, so an anonymous caller still gets 401), never Django's HTML page."""

    allowed_roles = ALL_ROLES
    schema = None  # not an endpoint of the OpenAPI schema

    def _not_found(self, request, *args, **kwargs):
        raise Http404

    get = post = put = patch = delete = _not_found

from rest_framework.pagination import PageNumberPagination

from accounts.api.errors import ApiError


def _positive_int(raw: str, name: str) -> int:
    """A query value that must be a positive whole number (ASCII digits): else malformed input, 400 (api.md)."""
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise ApiError(400, "INVALID_INPUT", f"参数 {name} 必须是正整数。")
    return int(raw)


class StandardPagination(PageNumberPagination):
    """`?page=` and `?page_size=` (at most 500, a larger size is cut to 500). A value that is not a positive whole
    number is a 400 (DRF would answer 404 for such a page and silently use the default for such a size); a page past
    the last one is a 404."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param, "").strip()
        if not raw:
            return self.page_size
        return min(_positive_int(raw, self.page_size_query_param), self.max_page_size)

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param, "").strip()
        if raw and raw not in self.last_page_strings:
            _positive_int(raw, self.page_query_param)
        return super().get_page_number(request, paginator)

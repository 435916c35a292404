from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.renderers import (
    OpenApiJsonRenderer,
    OpenApiJsonRenderer2,
    OpenApiYamlRenderer,
    OpenApiYamlRenderer2,
)
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.api.views import ApiNotFoundView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    # JSON unless YAML is asked for (Accept: application/vnd.oai.openapi or ?format=yaml): "JSON in and out".
    path(
        "api/v1/schema",
        SpectacularAPIView.as_view(
            renderer_classes=[OpenApiJsonRenderer, OpenApiJsonRenderer2, OpenApiYamlRenderer, OpenApiYamlRenderer2]
        ),
        name="api-schema",
    ),
    path("api/v1/docs", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("accounts.api.urls")),
    path("api/v1/", include("bindings.api.urls")),
    path("api/v1/", include("settlements.api.urls")),
    # Last: an unknown API path answers in the API's JSON error shape.
    re_path(r"^api/v1/", ApiNotFoundView.as_view(), name="api-not-found"),
]

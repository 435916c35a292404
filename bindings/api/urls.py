from django.urls import path

from bindings.api import views

urlpatterns = [
    path("authorizations", views.AuthorizationCreateView.as_view(), name="api-authorization-create"),
    path("authorizations/<int:pk>/confirm", views.AuthorizationConfirmView.as_view(), name="api-authorization-confirm"),
    path("authorizations/<int:pk>/revoke", views.AuthorizationRevokeView.as_view(), name="api-authorization-revoke"),
    path(
        "authorizations/<int:pk>/change",
        views.AuthorizationChangePeriodView.as_view(),
        name="api-authorization-change",
    ),
    path(
        "persons/<str:person_no>/authorizations",
        views.PersonAuthorizationsView.as_view(),
        name="api-person-authorizations",
    ),
    path("eligibility", views.EligibilityView.as_view(), name="api-eligibility"),
]

from django.urls import path

from accounts.api import views

urlpatterns = [
    path("persons/lookup", views.PersonLookupView.as_view(), name="api-person-lookup"),
    path("persons/<str:person_no>", views.PersonDetailView.as_view(), name="api-person-detail"),
    path("persons/<str:person_no>/ledger", views.PersonLedgerView.as_view(), name="api-person-ledger"),
]

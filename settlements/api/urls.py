from django.urls import path

from settlements.api import views

urlpatterns = [
    path("settlements", views.SettlementCreateView.as_view(), name="api-settlement-create"),
    path("settlements/<int:pk>", views.SettlementDetailView.as_view(), name="api-settlement-detail"),
    path("settlements/<int:pk>/reversal", views.SettlementReversalView.as_view(), name="api-settlement-reversal"),
    path("persons/<str:person_no>/expenditures", views.ExpenditureListView.as_view(), name="api-person-expenditures"),
]

"""Designated institutions, the pharmacy catalogue and settlements paid through personal accounts."""

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from django.utils.translation import gettext_lazy as _

from accounts.models import MONEY, Person, Region


class InstitutionKind(models.TextChoices):
    MEDICAL = "medical", _("Medical institution")
    PHARMACY = "pharmacy", _("Retail pharmacy")


class Institution(models.Model):
    """定点医药机构."""

    code = models.CharField(_("institution code"), max_length=30, unique=True)
    name = models.CharField(_("institution name"), max_length=200)
    kind = models.CharField(_("institution type"), max_length=10, choices=InstitutionKind.choices)
    region = models.ForeignKey(Region, models.PROTECT, related_name="+", verbose_name=_("region"))
    designated = models.BooleanField(_("designated"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("designated institution")
        verbose_name_plural = _("designated institutions")
        ordering = ["code"]

    def __str__(self):
        return f"{self.name}（{self.code}）"


class CatalogueItemKind(models.TextChoices):
    DEVICE = "device", _("Medical device")
    CONSUMABLE = "consumable", _("Medical consumable")


class CatalogueItem(models.Model):
    """S4.2: devices and consumables a pharmacy may sell against a personal account."""

    code = models.CharField(_("catalogue code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=CatalogueItemKind.choices)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("pharmacy catalogue item")
        verbose_name_plural = _("pharmacy catalogue items")
        ordering = ["code"]

    def __str__(self):
        return f"{self.name}（{self.code}）"


class SettlementCategory(models.TextChoices):
    MEDICAL = "medical", _("Medical care")
    MATERNITY = "maternity", _("Maternity")
    PHARMACY = "pharmacy", _("Pharmacy purchase")
    VACCINE = "vaccine", _("Non-programme vaccine")
    CONTRIBUTION = "contribution", _("Insurance contribution")
    COMMERCIAL_INSURANCE = "commercial_insurance", _("Guided commercial insurance")
    PUBLIC_HEALTH = "public_health", _("Public health")
    FITNESS = "fitness", _("Fitness")
    WELLNESS = "wellness", _("Wellness")


ELIGIBLE_CATEGORIES = {
    SettlementCategory.MEDICAL,
    SettlementCategory.MATERNITY,
    SettlementCategory.PHARMACY,
    SettlementCategory.VACCINE,
    SettlementCategory.CONTRIBUTION,
    SettlementCategory.COMMERCIAL_INSURANCE,
}


class CredentialType(models.TextChoices):
    E_VOUCHER = "e_voucher", _("Medical e-voucher")
    SOCIAL_SECURITY_CARD = "social_security_card", _("Social security card")
    ID_CARD = "id_card", _("ID card")


class SettlementChannel(models.TextChoices):
    DIRECT = "direct", _("Direct settlement")
    MANUAL_REIMBURSEMENT = "manual_reimbursement", _("Manual reimbursement")


class SettlementStatus(models.TextChoices):
    SETTLED = "settled", _("Settled")
    REVERSED = "reversed", _("Reversed")


class Settlement(models.Model):
    institution = models.ForeignKey(
        Institution, models.PROTECT, related_name="settlements", verbose_name=_("institution")
    )
    external_id = models.CharField(_("institution's settlement id"), max_length=64)
    request_hash = models.CharField(_("request fingerprint"), max_length=64, editable=False)
    patient = models.ForeignKey(Person, models.PROTECT, related_name="settlements", verbose_name=_("patient"))
    credential_type = models.CharField(_("credential"), max_length=24, choices=CredentialType.choices)
    category = models.CharField(_("category"), max_length=24, choices=SettlementCategory.choices)
    channel = models.CharField(_("settlement channel"), max_length=24, choices=SettlementChannel.choices)
    total_amount = models.DecimalField(_("total amount"), **MONEY)
    fund_paid = models.DecimalField(_("pooled fund paid"), **MONEY)
    personal_burden = models.DecimalField(_("personal burden"), **MONEY)
    own_account_paid = models.DecimalField(_("paid from own account"), **MONEY)
    mutual_aid_paid = models.DecimalField(_("paid by mutual aid"), **MONEY)
    cash_paid = models.DecimalField(_("paid in cash"), **MONEY)
    grantor = models.ForeignKey(
        Person, models.PROTECT, null=True, blank=True, related_name="settlements_paid", verbose_name=_("grantor")
    )
    authorization = models.ForeignKey(
        "bindings.Authorization",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="settlements",
        verbose_name=_("authorization used"),
    )
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=SettlementStatus.choices, default=SettlementStatus.SETTLED
    )
    occurred_at = models.DateTimeField(_("occurred at"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    reversed_at = models.DateTimeField(_("reversed at"), null=True, blank=True)
    # The body of the first answer without its own id (the INSERT that stores it makes the id): first_response().
    response = models.JSONField(_("first response"), default=dict, editable=False)

    class Meta:
        verbose_name = _("settlement")
        verbose_name_plural = _("settlements")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["occurred_at"], name="settlement_time_idx"),
            models.Index(fields=["patient", "occurred_at"], name="settlement_patient_idx"),
            models.Index(fields=["grantor", "occurred_at"], name="settlement_grantor_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["institution", "external_id"], name="settlement_idempotency_key"),
            # Rounded to the cent: SQLite computes decimal arithmetic in floating point
            # (123.45 - 86.42 = 37.030000000000001), PostgreSQL exactly; both agree after ROUND(…, 2).
            models.CheckConstraint(
                condition=Q(personal_burden=Round(F("total_amount") - F("fund_paid"), 2)),
                name="settlement_burden_is_total_less_fund",
            ),
            models.CheckConstraint(
                condition=Q(personal_burden=Round(F("own_account_paid") + F("mutual_aid_paid") + F("cash_paid"), 2)),
                name="settlement_parts_add_up",
            ),
            models.CheckConstraint(
                condition=Q(
                    fund_paid__gte=0,
                    own_account_paid__gte=0,
                    mutual_aid_paid__gte=0,
                    cash_paid__gte=0,
                    personal_burden__gte=0,
                ),
                name="settlement_amounts_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.institution.code}/{self.external_id}"

    def first_response(self) -> dict:
        """The body first answered for this settlement, which an identical replay answers again."""
        return {"id": self.pk, **self.response}


class ItemKind(models.TextChoices):
    DRUG = "drug", _("Drug")
    DEVICE = "device", _("Medical device")
    CONSUMABLE = "consumable", _("Medical consumable")
    SERVICE = "service", _("Service")
    OTHER = "other", _("Other")


class SettlementItem(models.Model):
    settlement = models.ForeignKey(Settlement, models.PROTECT, related_name="items", verbose_name=_("settlement"))
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=ItemKind.choices)
    catalogue_code = models.CharField(_("catalogue code"), max_length=30, blank=True)
    amount = models.DecimalField(_("amount"), **MONEY)
    eligible = models.BooleanField(_("eligible for personal account"))

    class Meta:
        verbose_name = _("settlement line")
        verbose_name_plural = _("settlement lines")
        ordering = ["id"]

    def __str__(self):
        return self.name

"""Mutual-aid policies, authorizations (共济授权), their audit trail and documents, and family e-voucher links."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Person, Region


class Kinship(models.TextChoices):
    """Stated from the grantor's point of view: `parent` means the member is the grantor's parent."""

    SPOUSE = "spouse", _("Spouse")
    PARENT = "parent", _("Parent")
    CHILD = "child", _("Child")
    SIBLING = "sibling", _("Sibling")
    PATERNAL_GRANDPARENT = "paternal_grandparent", _("Paternal grandparent")
    MATERNAL_GRANDPARENT = "maternal_grandparent", _("Maternal grandparent")
    GRANDCHILD = "grandchild", _("Grandchild")
    MATERNAL_GRANDCHILD = "maternal_grandchild", _("Maternal grandchild")
    OTHER = "other", _("Other (e.g. a spouse's parent)")


NEAR_RELATIVES = [k for k in Kinship.values if k != Kinship.OTHER]
NARROW_RELATIVES = [Kinship.SPOUSE, Kinship.PARENT, Kinship.CHILD]


class GeographicScope(models.TextChoices):
    POOLING_REGION = "pooling_region", _("Same pooling region")
    PROVINCE = "province", _("Same province")
    NATIONAL = "national", _("Nationwide")


class Policy(models.Model):
    """One version of a region's mutual-aid policy; the version in force is the latest effective_from
    not after the action's date, for the grantor's pooling region if it has one, else its province."""

    region = models.ForeignKey(Region, models.PROTECT, related_name="policies", verbose_name=_("region"))
    effective_from = models.DateField(_("effective from"))
    kinships = models.JSONField(_("allowed kinships"), default=list)
    scope = models.CharField(_("geographic scope"), max_length=20, choices=GeographicScope.choices)
    spouse_confirmation = models.BooleanField(_("spouse must confirm"), default=False)
    single_relationship = models.BooleanField(_("only one relationship per person"), default=True)
    note = models.CharField(_("source / note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("mutual-aid policy")
        verbose_name_plural = _("mutual-aid policies")
        ordering = ["region_id", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["region", "effective_from"], name="policy_one_version_per_day"),
        ]

    def __str__(self):
        return f"{self.region.name} {self.effective_from:%Y-%m-%d}"

    def kinship_labels(self) -> str:
        labels = dict(Kinship.choices)
        return "、".join(str(labels.get(k, k)) for k in self.kinships)


class AuthorizationStatus(models.TextChoices):
    PENDING_CONFIRMATION = "pending_confirmation", _("Waiting for spouse confirmation")
    ACTIVE = "active", _("Active")
    DECLINED = "declined", _("Declined by spouse")
    REVOKED = "revoked", _("Revoked")
    TERMINATED = "terminated", _("Terminated automatically")
    EXPIRED = "expired", _("Expired")


LIVE_STATUSES = [AuthorizationStatus.PENDING_CONFIRMATION, AuthorizationStatus.ACTIVE]


class Channel(models.TextChoices):
    COUNTER = "counter", _("Service counter")
    APP = "app", _("Mobile app")
    ONLINE_HALL = "online_hall", _("Online service hall")
    SYSTEM = "system", _("System (automatic)")
    IMPORT = "import", _("Roster import")


class Authorization(models.Model):
    grantor = models.ForeignKey(Person, models.PROTECT, related_name="grants", verbose_name=_("grantor"))
    member = models.ForeignKey(Person, models.PROTECT, related_name="memberships", verbose_name=_("member"))
    kinship = models.CharField(_("kinship"), max_length=24, choices=Kinship.choices)
    valid_from = models.DateTimeField(_("valid from"))
    valid_to = models.DateTimeField(_("valid to"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=24, choices=AuthorizationStatus.choices)
    # Copied from the policy applied: when it says one relationship per person, a partial unique
    # index keeps one live exclusive authorization per member even under concurrent bindings (R7).
    exclusive = models.BooleanField(_("single-relationship policy"), default=True)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    policy = models.ForeignKey(Policy, models.PROTECT, related_name="+", verbose_name=_("policy applied"))
    promise_accepted = models.BooleanField(_("promise signed"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )
    created_by_client = models.ForeignKey(
        "accounts.ApiClient",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by client"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmation_channel = models.CharField(_("confirmed through"), max_length=12, choices=Channel.choices, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    end_reason = models.CharField(_("end reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("mutual-aid authorization")
        verbose_name_plural = _("mutual-aid authorizations")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["member", "status"], name="authorization_member_idx"),
            models.Index(fields=["grantor", "status"], name="authorization_grantor_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["grantor", "member"],
                condition=Q(status__in=LIVE_STATUSES),
                name="authorization_one_live_per_pair",
            ),
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(status__in=LIVE_STATUSES, exclusive=True),
                name="authorization_one_exclusive_per_member",
            ),
            models.CheckConstraint(condition=~Q(grantor=models.F("member")), name="authorization_not_self"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
                name="authorization_end_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.grantor} → {self.member}（{self.get_kinship_display()}）"


class AuditAction(models.TextChoices):
    CREATE = "create", _("Created")
    CONFIRM = "confirm", _("Confirmed by spouse")
    DECLINE = "decline", _("Declined by spouse")
    REVOKE = "revoke", _("Revoked")
    CHANGE = "change", _("Validity changed")
    TERMINATE = "terminate", _("Terminated automatically")
    EXPIRE = "expire", _("Expired")
    DOCUMENT_ADDED = "document_added", _("Document added")


class AuthorizationEvent(models.Model):
    """R14: who did what, through which channel, when, on what documents. Append-only (triggers)."""

    authorization = models.ForeignKey(
        Authorization, models.PROTECT, related_name="events", verbose_name=_("authorization")
    )
    action = models.CharField(_("action"), max_length=16, choices=AuditAction.choices)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    acting_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("acting user")
    )
    api_client = models.ForeignKey(
        "accounts.ApiClient", models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("API client")
    )
    occurred_at = models.DateTimeField(_("occurred at"), auto_now_add=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    documents = models.JSONField(_("documents"), default=list, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("authorization audit event")
        verbose_name_plural = _("authorization audit events")
        ordering = ["occurred_at", "id"]

    def __str__(self):
        return f"{self.get_action_display()} {timezone.localtime(self.occurred_at):%Y-%m-%d %H:%M}"


class DocumentKind(models.TextChoices):
    PROMISE_LETTER = "promise_letter", _("Signed promise letter")
    ID_CARD = "id_card", _("ID card / social security card")
    HOUSEHOLD_REGISTER = "household_register", _("Household register")
    MARRIAGE_CERTIFICATE = "marriage_certificate", _("Marriage certificate")
    BIRTH_CERTIFICATE = "birth_certificate", _("Birth certificate")
    NOTARIZED = "notarized", _("Notarized relationship")


DOCUMENTS_DIR = "private/authorizations"


def document_upload_to(instance, filename):
    # Random name, no trace of the original name or the person in the path.
    return f"{DOCUMENTS_DIR}/{instance.stored_name}"


class AuthorizationDocument(models.Model):
    """R10: a scanned promise letter or proof, kept outside any public URL."""

    authorization = models.ForeignKey(
        Authorization, models.PROTECT, related_name="documents", verbose_name=_("authorization")
    )
    kind = models.CharField(_("document type"), max_length=24, choices=DocumentKind.choices)
    file = models.FileField(_("file"), upload_to=document_upload_to, max_length=200)
    stored_name = models.CharField(_("stored name"), max_length=80, editable=False)
    original_name = models.CharField(_("original file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=40)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, related_name="+", verbose_name=_("uploaded by")
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("authorization document")
        verbose_name_plural = _("authorization documents")
        ordering = ["uploaded_at", "id"]
        permissions = [("view_document_file", _("Can open scanned documents"))]

    def __str__(self):
        return f"{self.get_kind_display()}（{self.sha256[:8]}）"


class DocumentAccess(models.Model):
    """Every opening of a scanned document is logged (who, when, which)."""

    document = models.ForeignKey(AuthorizationDocument, models.PROTECT, related_name="accesses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    accessed_at = models.DateTimeField(auto_now_add=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("document access")
        verbose_name_plural = _("document accesses")
        ordering = ["-accessed_at"]

    def __str__(self):
        return f"{self.user} @ {timezone.localtime(self.accessed_at):%Y-%m-%d %H:%M}"


class FamilyVerification(models.TextChoices):
    BIRTH_CERTIFICATE = "birth_certificate", _("Birth certificate")
    HOUSEHOLD_REGISTER = "household_register", _("Household register")
    NOTARIZED = "notarized", _("Notarized relationship")
    FACE = "face", _("Face verification")


# Proof that fits the relative's age (001, 002): 16 or under vs over 16.
VERIFICATION_FOR_CHILD = {
    FamilyVerification.BIRTH_CERTIFICATE,
    FamilyVerification.HOUSEHOLD_REGISTER,
    FamilyVerification.NOTARIZED,
}
VERIFICATION_FOR_ADULT = {FamilyVerification.HOUSEHOLD_REGISTER, FamilyVerification.FACE}


class FamilyLink(models.Model):
    """亲情账户: a convenience link in the national app. No money moves; nationwide."""

    owner = models.ForeignKey(Person, models.PROTECT, related_name="family_links", verbose_name=_("owner"))
    relative = models.ForeignKey(Person, models.PROTECT, related_name="linked_by", verbose_name=_("relative"))
    kinship = models.CharField(_("kinship"), max_length=24, choices=Kinship.choices)
    verification = models.CharField(_("verification"), max_length=24, choices=FamilyVerification.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("family e-voucher link")
        verbose_name_plural = _("family e-voucher links")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "relative"], name="family_link_unique_pair"),
            models.CheckConstraint(condition=~Q(owner=models.F("relative")), name="family_link_not_self"),
        ]

    def __str__(self):
        return f"{self.owner} ⇢ {self.relative}"

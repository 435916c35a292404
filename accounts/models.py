"""Insured people, their personal accounts and the append-only ledger (domain.md "People and accounts")."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Func, Q, Value
from django.db.models.functions import Length
from django.db.models.lookups import Exact, In
from django.utils.translation import gettext_lazy as _

from accounts.id_numbers import mask_id_number, mask_name, validate_id_number

MONEY = {"max_digits": 14, "decimal_places": 2}


class LTrimCharacters(Func):
    """SQL's two-argument LTRIM(text, characters), the same on PostgreSQL and SQLite."""

    function = "LTRIM"
    arity = 2
    output_field = models.CharField()


# The ID number's shape for the database (the checksum and the birth date are checked in Python): 18 characters,
# 17 digits then a digit or X. Said with LTRIM rather than a regular expression because a bulk roster load checks it
# a million times: on PostgreSQL the regex cost ~1.5 µs a row against ~0.6 µs, on SQLite a Python REGEXP call.
ID_NUMBER_SHAPE = Q(
    Exact(Length("id_number"), 18),
    In(LTrimCharacters("id_number", Value("0123456789")), ["", "X"]),
)
ZERO = Decimal("0.00")


class InsuranceType(models.TextChoices):
    # National codes (险种类型): 310 employee basic, 390 urban-rural resident basic.
    EMPLOYEE = "310", _("Employee basic medical insurance")
    RESIDENT = "390", _("Urban-rural resident basic medical insurance")


class InsuranceStatus(models.TextChoices):
    NORMAL = "normal", _("Normally insured")
    SUSPENDED = "suspended", _("Insurance suspended")
    TERMINATED = "terminated", _("Insurance terminated")
    UNINSURED = "uninsured", _("Not insured")


class PersonnelCategory(models.TextChoices):
    EMPLOYED = "employed", _("Employed")
    RETIRED = "retired", _("Retired")
    FLEXIBLE = "flexible", _("Flexible employment")


class Sex(models.TextChoices):
    MALE = "1", _("Male")
    FEMALE = "2", _("Female")


class Region(models.Model):
    """An administrative division (区划). A code ending in 0000 is a province; others are pooling regions."""

    code = models.CharField(_("division code"), max_length=6, primary_key=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=r"^[1-9][0-9]{5}$"), name="region_code_six_digits"),
        ]

    def __str__(self):
        return f"{self.name}（{self.code}）"

    @property
    def is_province(self) -> bool:
        return self.code.endswith("0000")

    @property
    def province_code(self) -> str:
        return province_code(self.code)


def province_code(region_code: str) -> str:
    return region_code[:2] + "0000"


class Person(models.Model):
    # Unique through Meta.constraints rather than unique=True: PostgreSQL then keeps one index per column
    # instead of adding a varchar_pattern_ops copy that nothing uses (lookups are exact) and that every
    # roster row would pay for.
    person_no = models.CharField(_("person number"), max_length=30)
    id_number = models.CharField(_("ID number"), max_length=18, validators=[validate_id_number])
    name = models.CharField(_("name"), max_length=50)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, editable=False)
    birth_date = models.DateField(_("birth date"), editable=False)
    insurance_type = models.CharField(_("insurance type"), max_length=3, choices=InsuranceType.choices)
    insurance_status = models.CharField(
        _("insurance status"), max_length=12, choices=InsuranceStatus.choices, default=InsuranceStatus.NORMAL
    )
    # No index of its own: person_filters_idx (region, insurance type, status) serves region lookups.
    region = models.ForeignKey(
        Region, models.PROTECT, verbose_name=_("insured region"), related_name="+", db_index=False
    )
    category = models.CharField(_("personnel category"), max_length=10, choices=PersonnelCategory.choices, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("insured person")
        verbose_name_plural = _("insured people")
        ordering = ["person_no"]
        indexes = [
            # One name index serves exact names and LIKE '张%' prefixes: on PostgreSQL with the pattern operator
            # class (needed under C.UTF-8 and other non-C collations), on SQLite a plain index.
            models.Index(fields=["name"], name="person_name_prefix_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["region", "insurance_type", "insurance_status"], name="person_filters_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["id_number"], name="person_id_number_unique"),
            models.UniqueConstraint(fields=["person_no"], name="person_no_unique"),
            models.CheckConstraint(condition=ID_NUMBER_SHAPE, name="person_id_number_shape"),
        ]

    def __str__(self):
        return f"{mask_name(self.name)}（{self.person_no}）"

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)

    @property
    def is_employee(self) -> bool:
        return self.insurance_type == InsuranceType.EMPLOYEE


class PersonalAccount(models.Model):
    """The employee-insured person's personal account (个人账户). Balance moves only via LedgerEntry."""

    person = models.OneToOneField(Person, models.PROTECT, related_name="account", verbose_name=_("account holder"))
    balance = models.DecimalField(_("balance"), **MONEY, default=ZERO)
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)

    class Meta:
        verbose_name = _("personal account")
        verbose_name_plural = _("personal accounts")
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="account_balance_not_negative"),
        ]

    def __str__(self):
        return str(self.person)


class LedgerEntryKind(models.TextChoices):
    OPENING = "opening", _("Opening balance")
    ALLOCATION = "allocation", _("Monthly allocation")
    ADJUSTMENT = "adjustment", _("Adjustment")
    REFUND = "refund", _("Refund of a reversed payment")
    OWN_PAYMENT = "own_payment", _("Own payment")
    MUTUAL_AID_PAYMENT = "mutual_aid_payment", _("Mutual-aid payment for a family member")


CREDIT_KINDS = {LedgerEntryKind.OPENING, LedgerEntryKind.ALLOCATION, LedgerEntryKind.REFUND}
DEBIT_KINDS = {LedgerEntryKind.OWN_PAYMENT, LedgerEntryKind.MUTUAL_AID_PAYMENT}


class LedgerEntry(models.Model):
    """One append-only movement of a personal account (收支明细).

    The database refuses UPDATE and DELETE (triggers in migrations) and a negative balance_after;
    a mistake is corrected by a new reversing entry.
    """

    account = models.ForeignKey(PersonalAccount, models.PROTECT, related_name="entries", verbose_name=_("account"))
    kind = models.CharField(_("kind"), max_length=20, choices=LedgerEntryKind.choices)
    amount = models.DecimalField(_("amount"), **MONEY, help_text=_("Positive for credits, negative for debits."))
    balance_after = models.DecimalField(_("balance after"), **MONEY)
    occurred_at = models.DateTimeField(_("occurred at"), db_index=False)
    reference = models.CharField(_("reference"), max_length=64, null=True, blank=True, unique=True)
    settlement = models.ForeignKey(
        "settlements.Settlement",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
        verbose_name=_("settlement"),
    )
    member = models.ForeignKey(
        Person,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("member paid for"),
        help_text=_("For mutual-aid payments: the family member the grantor paid for."),
    )
    institution = models.ForeignKey(
        "settlements.Institution",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("institution"),
    )
    reverses = models.OneToOneField(
        "self", models.PROTECT, null=True, blank=True, related_name="reversed_by", verbose_name=_("reverses entry")
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["account", "occurred_at", "id"], name="ledger_account_time_idx"),
            # Expenditure details (S8): a grantor's page walks this index newest-first; `include` makes the
            # totals an index-only scan on PostgreSQL (ignored on SQLite).
            models.Index(
                fields=["account", "occurred_at", "id"],
                name="ledger_mutual_aid_idx",
                condition=Q(kind__in=["mutual_aid_payment", "refund"]),
                include=["kind", "amount", "reverses"],
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="ledger_balance_after_not_negative"),
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_amount_not_zero"),
            models.CheckConstraint(
                condition=~Q(kind__in=["opening", "allocation", "refund"]) | Q(amount__gt=0),
                name="ledger_credit_kinds_positive",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["own_payment", "mutual_aid_payment"]) | Q(amount__lt=0),
                name="ledger_debit_kinds_negative",
            ),
            models.CheckConstraint(
                condition=~Q(kind="mutual_aid_payment") | Q(member__isnull=False),
                name="ledger_mutual_aid_names_member",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount}"


class CrossRegionFiling(models.Model):
    """异地就医备案: the person may be treated in another region for a period (S6)."""

    person = models.ForeignKey(Person, models.PROTECT, related_name="filings", verbose_name=_("insured person"))
    treatment_region = models.ForeignKey(Region, models.PROTECT, related_name="+", verbose_name=_("place of treatment"))
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("cross-region medical filing")
        verbose_name_plural = _("cross-region medical filings")
        ordering = ["-start_date"]
        constraints = [
            models.UniqueConstraint(fields=["person", "treatment_region", "start_date"], name="filing_unique_start"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="filing_end_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.person} → {self.treatment_region_id}"


class ApiRole(models.TextChoices):
    INSTITUTION = "institution", _("Designated institution")
    CHANNEL = "channel", _("Online channel")
    STAFF = "staff", _("Internal staff query")


class ApiClient(models.Model):
    """An outside system calling the API. Only the SHA-256 of its token is stored."""

    # Not unique: `create_api_client NAME` always creates a client (api.md). A second client of the same name is
    # another credential of that system, told apart in the admin by its token prefix and id.
    name = models.CharField(_("name"), max_length=100, db_index=True)
    role = models.CharField(_("role"), max_length=12, choices=ApiRole.choices)
    institution = models.ForeignKey(
        "settlements.Institution",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="api_clients",
        verbose_name=_("institution"),
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(_("token prefix"), max_length=8, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        constraints = [
            models.CheckConstraint(
                condition=~Q(role="institution") | Q(institution__isnull=False), name="api_client_institution_has_code"
            ),
        ]

    def __str__(self):
        return f"{self.name}（{self.get_role_display()}）"

    # DRF treats request.user as authenticated through this flag.
    is_authenticated = True

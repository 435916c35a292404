"""Forms of the counter screens and of the bindings admin (style.md #6: validation lives in the form)."""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.forms import BoundedDateField
from accounts.id_numbers import normalize_id_number, parse_id_number
from accounts.models import Person
from accounts.selectors import person_get_by_id_number
from bindings.family_links import MSG_LINK_EXISTS, MSG_SELF_LINK, family_link_verification_check
from bindings.models import DocumentKind, FamilyLink, Kinship, Policy

PROOF_KINDS = [(k.value, k.label) for k in DocumentKind if k != DocumentKind.PROMISE_LETTER]


def person_by_id_number(value: str) -> Person:
    """The insured person with this ID number, or a Chinese form error."""
    number = normalize_id_number(value)
    parse_id_number(number)
    person = person_get_by_id_number(number)
    if person is None:
        raise ValidationError(_("No insured person has this ID number."), code="not_found")
    return person


def start_of_day(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, timezone.get_current_timezone())


class IdNumberField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 18)
        kwargs.setdefault("min_length", 18)
        super().__init__(**kwargs)
        self.widget.attrs.update({"autocomplete": "off", "size": 22, "spellcheck": "false"})


class BindForm(forms.Form):
    """Step 1 of 办理家庭共济绑定: who, which kinship, which window."""

    grantor_id_number = IdNumberField(label=_("Grantor ID number"))
    member_id_number = IdNumberField(label=_("Member ID number"))
    kinship = forms.ChoiceField(
        label=_("kinship"),
        choices=Kinship.choices,
        help_text=_("From the grantor's point of view: Parent means the member is the grantor's parent."),
    )
    valid_from = BoundedDateField(
        label=_("valid from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty or today: effective immediately."),
    )
    valid_to = BoundedDateField(
        label=_("valid to (inclusive)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: open-ended."),
    )

    def clean_grantor_id_number(self):
        self.grantor = person_by_id_number(self.cleaned_data["grantor_id_number"])
        return self.grantor.id_number

    def clean_member_id_number(self):
        self.member = person_by_id_number(self.cleaned_data["member_id_number"])
        return self.member.id_number

    def window(self, now: datetime.datetime | None = None):
        """(valid_from, valid_to) as aware datetimes: a start today means now; the end date is inclusive."""
        now = now or timezone.now()
        day_from = self.cleaned_data.get("valid_from")
        day_to = self.cleaned_data.get("valid_to")
        valid_from = None
        if day_from is not None and day_from != timezone.localdate(now):
            valid_from = start_of_day(day_from)
        valid_to = start_of_day(day_to + datetime.timedelta(days=1)) if day_to is not None else None
        return valid_from, valid_to


MSG_PROMISE_OR_PROOF = (
    "请上传已签字的承诺书（R10），或户口簿、结婚证、出生证明、亲属关系公证书之一作为亲属关系证明；身份证、社保卡不能证明亲属关系。"
)


class BindDocumentsForm(forms.Form):
    """Step 2: the signed promise letter (required at the counter, R10), proof, and the spouse on site."""

    # R10 at the counter: the signed promise letter, or the household register, marriage certificate ... that proves
    # the relation (domain.md R10; rules.check_r10_promise counts services.PROMISE_KINDS). An ID card alone proves none.
    promise_letter = forms.FileField(
        label=_("Signed promise letter"),
        required=False,
        help_text=(
            "PDF、JPEG 或 PNG 格式，不超过 10 MB。没有承诺书的，可只上传户口簿、结婚证、出生证明或亲属关系公证书。"
        ),
    )
    proof_kind = forms.ChoiceField(label=_("Proof document type"), choices=[("", "---------"), *PROOF_KINDS],
                                   required=False)
    proof_file = forms.FileField(label=_("Proof document"), required=False)
    proof_kind_2 = forms.ChoiceField(label=_("Second proof document type"), choices=[("", "---------"), *PROOF_KINDS],
                                     required=False)
    proof_file_2 = forms.FileField(label=_("Second proof document"), required=False)
    spouse_confirmed_on_site = forms.BooleanField(
        label=_("Spouse present and confirmed in person"),
        required=False,
        help_text=_("Only for a spouse binding: the spouse came to the counter and confirmed face to face."),
    )

    def clean(self):
        data = super().clean()
        from bindings.services import PROMISE_KINDS

        for kind_field, file_field in (("proof_kind", "proof_file"), ("proof_kind_2", "proof_file_2")):
            if data.get(file_field) and not data.get(kind_field):
                self.add_error(kind_field, _("Choose the type of the uploaded proof document."))
        relation_proof = any(
            data.get(file_field) and data.get(kind_field) in PROMISE_KINDS
            for kind_field, file_field in (("proof_kind", "proof_file"), ("proof_kind_2", "proof_file_2"))
        )
        if not data.get("promise_letter") and not relation_proof and "promise_letter" not in self.errors:
            self.add_error("promise_letter", MSG_PROMISE_OR_PROOF)
        return data

    def uploads(self):
        from bindings.services import DocumentUpload

        data = self.cleaned_data
        uploads = []
        if data.get("promise_letter"):
            uploads.append(DocumentUpload(kind=DocumentKind.PROMISE_LETTER, file=data["promise_letter"]))
        for kind_field, file_field in (("proof_kind", "proof_file"), ("proof_kind_2", "proof_file_2")):
            if data.get(file_field):
                uploads.append(DocumentUpload(kind=data[kind_field], file=data[file_field]))
        return uploads


class ChangePeriodForm(forms.Form):
    """R12: a new end date (inclusive) for a live authorization, or none for an open end."""

    valid_to = BoundedDateField(
        label=_("valid to (inclusive)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: open-ended."),
    )

    def new_end(self) -> datetime.datetime | None:
        day_to = self.cleaned_data.get("valid_to")
        return start_of_day(day_to + datetime.timedelta(days=1)) if day_to is not None else None


class UnbindForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for unbinding"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        error_messages={"required": _("Enter the reason for unbinding.")},
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean_reason(self):
        reason = (self.cleaned_data.get("reason") or "").strip()
        if not reason:
            raise ValidationError(_("Enter the reason for unbinding."), code="required")
        return reason


class BulkUnbindForm(UnbindForm):
    authorizations = forms.ModelMultipleChoiceField(
        label=_("Authorizations to end"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one authorization.")},
    )

    def __init__(self, *args, queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["authorizations"].queryset = queryset
        self.fields["authorizations"].label_from_instance = authorization_label


def authorization_label(authorization) -> str:
    from accounts.admin import masked_person

    return (
        f"{masked_person(authorization.grantor)} → {masked_person(authorization.member)}"
        f"（{authorization.get_kinship_display()}，{authorization.get_status_display()}）"
    )


class ConfirmOnSiteForm(forms.Form):
    identity_checked = forms.BooleanField(
        label=_("The spouse is present and the identity documents were checked"),
        error_messages={"required": _("Check the spouse's identity documents first.")},
    )


class DocumentAddForm(forms.Form):
    kind = forms.ChoiceField(label=_("document type"), choices=DocumentKind.choices)
    file = forms.FileField(label=_("file"), help_text=_("PDF, JPEG or PNG, at most 10 MB."))


class PolicyForm(forms.ModelForm):
    kinships = forms.MultipleChoiceField(
        label=_("allowed kinships"),
        choices=[c for c in Kinship.choices if c[0] != Kinship.OTHER],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("In-law relations (Other) are never allowed (Civil Code art. 1045)."),
    )

    class Meta:
        model = Policy
        fields = ["region", "effective_from", "kinships", "scope", "spouse_confirmation", "single_relationship", "note"]


class FamilyLinkForm(forms.ModelForm):
    """亲情账户: owner and relative by ID number; the proof must fit the relative's age (001, 002), checked by
    the one rule in bindings.family_links so the form re-renders with it."""

    owner_id_number = IdNumberField(label=_("Owner ID number"))
    relative_id_number = IdNumberField(label=_("Relative ID number"))

    class Meta:
        model = FamilyLink
        fields = ["kinship", "verification"]

    def clean_owner_id_number(self):
        self.owner = person_by_id_number(self.cleaned_data["owner_id_number"])
        return self.owner.id_number

    def clean_relative_id_number(self):
        self.relative = person_by_id_number(self.cleaned_data["relative_id_number"])
        return self.relative.id_number

    def clean(self):
        data = super().clean()
        owner, relative = getattr(self, "owner", None), getattr(self, "relative", None)
        if owner is None or relative is None:
            return data
        if owner.pk == relative.pk:
            raise ValidationError(MSG_SELF_LINK, code="self")
        if FamilyLink.objects.filter(owner=owner, relative=relative).exists():
            raise ValidationError(MSG_LINK_EXISTS, code="exists")
        verification = data.get("verification")
        if verification:
            reason = family_link_verification_check(birth_date=relative.birth_date, verification=verification)
            if reason:
                self.add_error("verification", reason)
        self.instance.owner, self.instance.relative = owner, relative
        return data

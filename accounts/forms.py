"""Admin forms for people (style.md #6: validation lives in the form, so errors re-render it)."""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.id_numbers import normalize_id_number, parse_id_number
from accounts.models import CrossRegionFiling, Person
from accounts.selectors import person_get_by_id_number

# The dates a counter or report form accepts. Wide enough for any real window, narrow enough that the day after an
# inclusive end and the conversion to UTC stay inside Python's dates: 9999-12-31 (a common "long-term" date) and
# 0001-01-01 used to end in an OverflowError, a 500 page.
FORM_DATE_MIN = datetime.date(1900, 1, 1)
FORM_DATE_MAX = datetime.date(2999, 12, 31)
MSG_DATE_OUT_OF_RANGE = "日期须在 1900-01-01 至 2999-12-31 之间；长期有效或不限日期请留空。"


class BoundedDateField(forms.DateField):
    """A DateField that refuses dates outside FORM_DATE_MIN..FORM_DATE_MAX with a Chinese message."""

    def validate(self, value):
        super().validate(value)
        if value is not None and not FORM_DATE_MIN <= value <= FORM_DATE_MAX:
            raise ValidationError(MSG_DATE_OUT_OF_RANGE, code="out_of_range")


PERSON_FORM_FIELDS = [
    "id_number", "person_no", "name", "insurance_type", "insurance_status", "region", "category", "phone",
]


class PersonAdminForm(forms.ModelForm):
    """Creation and change of an insured person at the counter.

    The ID number is checked (shape, birth date, GB 11643 check character) with Chinese messages; the
    person number is optional on creation (generated from the region code when left empty).
    """

    class Meta:
        model = Person
        fields = PERSON_FORM_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "person_no" in self.fields:
            self.fields["person_no"].required = False
            self.fields["person_no"].help_text = _("Leave empty to generate one from the region code.")
        if "id_number" in self.fields:
            self.fields["id_number"].help_text = _("18 characters; the last one may be X.")
        if "name" in self.fields:
            self.fields["name"].label = _("full name")  # a person's 姓名, not the 名称 of a region or institution

    def clean_id_number(self):
        value = normalize_id_number(self.cleaned_data.get("id_number", ""))
        parse_id_number(value)  # raises ValidationError with the Chinese message
        return value

    def clean_name(self):
        name = (self.cleaned_data.get("name") or "").strip()
        if not name:
            raise ValidationError(_("Please enter the name."), code="required")
        return name

    def clean_person_no(self):
        value = (self.cleaned_data.get("person_no") or "").strip()
        if value and Person.objects.filter(person_no=value).exclude(pk=self.instance.pk).exists():
            raise ValidationError(_("This person number is already in use."), code="unique")
        return value

    def _get_validation_exclusions(self):
        # The person number may be empty here (the service generates it); the model would refuse ''.
        exclude = super()._get_validation_exclusions()
        exclude.add("person_no")
        return exclude


class CrossRegionFilingForm(forms.ModelForm):
    """异地就医备案 at the counter: the person by ID number (the clerk has it in hand; the internal row id that a raw-id
    box asks for, he has not), and the period checked with a Chinese message instead of the constraint's name."""

    person_id_number = forms.CharField(
        label="参保人员身份证号", min_length=18, max_length=18,
        widget=forms.TextInput(attrs={"autocomplete": "off", "size": 22, "spellcheck": "false"}),
    )

    class Meta:
        model = CrossRegionFiling
        fields = ["treatment_region", "start_date", "end_date"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:  # the person of a filing is not changed; the page shows who it is
            del self.fields["person_id_number"]

    def clean_person_id_number(self):
        number = normalize_id_number(self.cleaned_data["person_id_number"])
        parse_id_number(number)  # Chinese messages
        person = person_get_by_id_number(number)
        if person is None:
            raise ValidationError("未找到该身份证号对应的参保人员。", code="not_found")
        self.instance.person = person
        return number

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "结束日期不得早于开始日期。")
        return data

"""Admin forms for people (style.md #6: validation lives in the form, so errors re-render it)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.id_numbers import normalize_id_number, parse_id_number
from accounts.models import Person

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

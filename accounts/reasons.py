"""Stable reason codes (api.md "Reason codes") with their rule and Chinese message.

Every refusal anywhere (counter, API, import, settlement) is a list of `Reason`s built from this
table, so tests import the codes and a message is written once.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class ReasonCode:
    code: str
    rule: str
    message: str


CODES = {
    c.code: c
    for c in [
        ReasonCode("PERSON_NOT_FOUND", "", _("No such insured person.")),
        ReasonCode("MEMBER_NOT_INSURED", "R4", _("The member has no basic medical insurance.")),
        ReasonCode("GRANTOR_NOT_EMPLOYEE", "R1", _("The grantor has no employee insurance or personal account.")),
        ReasonCode("GRANTOR_STATUS_NOT_NORMAL", "R3", _("The grantor's insurance is not in normal status.")),
        ReasonCode("MEMBER_STATUS_NOT_NORMAL", "R3", _("The member's insurance is not in normal status.")),
        ReasonCode("RELATION_NOT_ALLOWED", "R5", _("This kinship is not allowed by the policy in force.")),
        ReasonCode("REGION_OUT_OF_SCOPE", "R6", _("The member is insured outside the policy's geographic scope.")),
        ReasonCode("GRANTOR_BALANCE_ZERO", "R2", _("The grantor's personal account balance is zero.")),
        ReasonCode("MEMBER_ALREADY_BOUND", "R7", _("The member is already authorized by another grantor.")),
        ReasonCode(
            "PERSON_IN_OTHER_RELATIONSHIP",
            "R7",
            _("The grantor is a member of another relationship, or the member is a grantor."),
        ),
        ReasonCode("SELF_AUTHORIZATION", "", _("Grantor and member are the same person.")),
        ReasonCode("DUPLICATE_AUTHORIZATION", "", _("This grantor and member already have a live authorization.")),
        ReasonCode("INVALID_PERIOD", "R9", _("The start may not be in the past and the end must be after the start.")),
        ReasonCode(
            "PROMISE_REQUIRED", "R10", _("A signed promise letter or proof of the family relation is required.")
        ),
        ReasonCode("CONFIRMATION_PENDING", "R11", _("The spouse has not yet confirmed the authorization.")),
        ReasonCode("CONFIRMATION_DECLINED", "R11", _("The spouse declined the authorization.")),
        ReasonCode(
            "AUTHORIZATION_NOT_EFFECTIVE", "R9", _("The authorization is outside its validity window or has ended.")
        ),
        ReasonCode("NO_AUTHORIZATION", "", _("The member has no mutual-aid authorization.")),
        ReasonCode(
            "FAMILY_ACCOUNT_ONLY",
            "",
            _("Only a family e-voucher link exists; it is not a mutual-aid authorization and moves no money."),
        ),
        ReasonCode(
            "CATEGORY_NOT_ELIGIBLE",
            "S4",
            _(
                "Public health, fitness, wellness or items outside the catalogue cannot be paid from an account."
            ),
        ),
        ReasonCode(
            "MANUAL_REIMBURSEMENT_NOT_SUPPORTED",
            "S5",
            _("Manual reimbursement claims cannot use mutual aid."),
        ),
        ReasonCode(
            "CROSS_REGION_NOT_FILED", "S6", _("Treated outside the insured region without a cross-region filing.")
        ),
        ReasonCode("CREDENTIAL_MISMATCH", "S1", _("The credential is not the patient's own.")),
        ReasonCode("INSTITUTION_NOT_DESIGNATED", "", _("The institution is not designated.")),
        ReasonCode("INSUFFICIENT_BALANCE", "S2", _("The grantor's balance covered only part of the shortfall.")),
        # Codes added to the contract (api.md allows additions).
        ReasonCode(
            "NO_POLICY_IN_FORCE", "", _("No mutual-aid policy is in force for the grantor's region on that date.")
        ),
        # Ledger and validation codes used outside the settlement contract.
        ReasonCode("BALANCE_WOULD_BE_NEGATIVE", "", _("The balance may not go below zero.")),
        ReasonCode("NO_PERSONAL_ACCOUNT", "R1", _("The person has no personal account.")),
        ReasonCode("INVALID_TRANSITION", "", _("The authorization cannot change from its current status this way.")),
        ReasonCode("NOT_CONFIRMING_MEMBER", "R11", _("Only the spouse being bound may confirm or decline.")),
        # Settlement API conflicts (api.md: 409 IDEMPOTENCY_CONFLICT / ALREADY_REVERSED).
        ReasonCode(
            "IDEMPOTENCY_CONFLICT", "", _("This settlement id was already used by this institution with another body.")
        ),
        ReasonCode("ALREADY_REVERSED", "", _("The settlement has already been reversed.")),
    ]
}


@dataclass(frozen=True)
class Reason:
    code: str
    message: str = field(default="")
    rule: str = field(default="")

    @classmethod
    def of(cls, code: str, detail: str = "", *, rule: str = "") -> "Reason":
        """The reason `code` with its Chinese message (and `detail` after it); `rule` names the rule that applied where
        one code serves several (AUTHORIZATION_NOT_EFFECTIVE: R9, R12 or R13)."""
        entry = CODES[code]
        message = str(entry.message)
        if detail:
            message = f"{message}（{detail}）"
        return cls(code=code, message=message, rule=rule or entry.rule)

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


class BusinessRuleError(Exception):
    """A write refused by one or more business rules. Carries every reason, not only the first."""

    def __init__(self, reasons: list[Reason], code: str | None = None, message: str | None = None):
        self.reasons = list(reasons)
        self.code = code or (self.reasons[0].code if len(self.reasons) == 1 else "RULES_NOT_MET")
        self.message = message or "；".join(r.message for r in self.reasons)
        super().__init__(self.message)

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]

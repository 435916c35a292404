"""Realistic demo data: Jiangsu and Jiangxi regions, the policies the seed notices describe, designated
institutions, a few hundred insured people with accounts and credits, mutual-aid authorizations made
through the counter and the app, settlements paid through them, and one login per staff group.

Everything goes through the services (person_create, account_credit, authorization_create,
settlement_create), so the demo obeys the same rules as production. Deterministic (seeded) and
idempotent: a second run adds nothing and only prints the logins again with fresh API tokens.
"""

import datetime
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from faker import Faker

from accounts.api.auth import token_generate, token_hash
from accounts.clients import api_client_create
from accounts.id_numbers import check_character
from accounts.models import (
    ApiClient,
    ApiRole,
    CrossRegionFiling,
    InsuranceStatus,
    InsuranceType,
    LedgerEntryKind,
    Person,
    PersonnelCategory,
    Region,
)
from accounts.reasons import BusinessRuleError
from accounts.services import account_credit, person_create

REGIONS = [
    ("320000", "江苏省"),
    ("320100", "南京市"),
    ("320300", "徐州市"),
    ("320500", "苏州市"),
    ("320581", "常熟市"),
    ("360000", "江西省"),
    ("360100", "南昌市"),
    ("360700", "赣州市"),
]
POOLING_REGIONS = ["320100", "320300", "320500", "320581", "360100", "360700"]
NARROW = ["spouse", "parent", "child"]
NEAR = ["spouse", "parent", "child", "sibling", "paternal_grandparent", "maternal_grandparent", "grandchild",
        "maternal_grandchild"]
# (region, effective_from, kinships, scope, spouse_confirmation, single_relationship, note)
POLICIES = [
    ("320000", datetime.date(2024, 1, 1), NARROW, "province", True, True, "江苏省 2024 年版：配偶、父母、子女"),
    ("320000", datetime.date(2025, 1, 1), NEAR, "province", True, True, "江苏省 2025 年版：扩大至近亲属（种子 000）"),
    ("320581", datetime.date(2025, 3, 7), NARROW, "province", True, True, "常熟市：配偶、父母、子女（种子 001）"),
    ("320300", datetime.date(2024, 5, 20), NARROW, "pooling_region", True, True, "徐州市：统筹区内（种子 002）"),
    ("360000", datetime.date(2024, 1, 1), NEAR, "province", False, True, "江西省：近亲属，省内（种子 003）"),
]
INSTITUTIONS = [
    ("H32050001", "苏州市立医院", "medical", "320500", True),
    ("P32050001", "苏州老百姓大药房（观前店）", "pharmacy", "320500", True),
    ("H32010001", "南京鼓楼医院", "medical", "320100", True),
    ("H32030001", "徐州医科大学附属医院", "medical", "320300", True),
    ("P32058101", "常熟市虞山大药房", "pharmacy", "320581", True),
    ("H36010001", "江西省人民医院", "medical", "360100", True),
    ("P36070001", "赣州黄金大药房", "pharmacy", "360700", True),
    ("H32050099", "苏州某美容养生中心", "medical", "320500", False),
]
USERS = [
    ("admin", "系统管理员", None, True),
    ("clerk", "窗口经办", "窗口经办", False),
    ("supervisor", "业务主管", "业务主管", False),
    ("auditor", "稽核", "稽核", False),
]
DEMO_PASSWORD = "demo-2026"  # noqa: S105 - demo logins, printed on purpose
API_CLIENTS = [
    ("演示医院（苏州市立医院）", ApiRole.INSTITUTION, "H32050001"),
    ("演示网厅", ApiRole.CHANNEL, None),
    ("演示内部查询", ApiRole.STAFF, None),
]
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


@dataclass
class DemoResult:
    created: bool
    people: int = 0
    authorizations: int = 0
    settlements: int = 0
    logins: list[tuple[str, str, str]] = field(default_factory=list)
    tokens: list[tuple[str, str, str]] = field(default_factory=list)


class _Ids:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()

    def make(self, region: str, birth: datetime.date, sex: str) -> str:
        while True:
            serial = self.rng.randrange(0, 100)
            third = self.rng.choice([1, 3, 5, 7, 9] if sex == "1" else [0, 2, 4, 6, 8])
            first17 = f"{region[:4]}{self.rng.randrange(1, 30):02d}{birth:%Y%m%d}{serial:02d}{third}"
            number = first17 + check_character(first17)
            if number not in self.used:
                self.used.add(number)
                return number


def _birth(rng: random.Random, age_from: int, age_to: int) -> datetime.date:
    today = timezone.localdate()
    return today - datetime.timedelta(days=rng.randrange(age_from * 365 + 10, age_to * 365))


def _reference_data():
    from bindings.models import Policy
    from settlements.models import Institution

    for code, name in REGIONS:
        Region.objects.get_or_create(code=code, defaults={"name": name})
    for region, effective, kinships, scope, confirm, single, note in POLICIES:
        Policy.objects.get_or_create(
            region_id=region, effective_from=effective,
            defaults={"kinships": kinships, "scope": scope, "spouse_confirmation": confirm,
                      "single_relationship": single, "note": note},
        )
    for code, name, kind, region, designated in INSTITUTIONS:
        Institution.objects.get_or_create(
            code=code, defaults={"name": name, "kind": kind, "region_id": region, "designated": designated}
        )


def _users() -> list[tuple[str, str, str]]:
    User = get_user_model()
    logins = []
    for username, label, group, superuser in USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(username=username, password=DEMO_PASSWORD, is_staff=True,
                                            is_superuser=superuser, first_name=label)
            if group:
                user.groups.add(Group.objects.get(name=group))
        logins.append((label, username, DEMO_PASSWORD))
    return logins


def _api_tokens() -> list[tuple[str, str, str]]:
    """Tokens are stored hashed, so each run gives the demo clients fresh tokens to print."""
    tokens = []
    for name, role, institution in API_CLIENTS:
        client = ApiClient.objects.filter(name=name).first()
        if client is None:
            client, token = api_client_create(name=name, role=role, institution_code=institution)
        else:
            token = token_generate()
            client.token_hash, client.token_prefix = token_hash(token), token[:8]
            client.save(update_fields=["token_hash", "token_prefix"])
        tokens.append((name, role, token))
    return tokens


def _family(rng, fake, ids, region, employee_share=0.8):
    """A grantor (employee-insured) and two to four relatives, most in the same pooling region."""
    surname = fake.last_name()
    grantor_sex = rng.choice("12")
    people = []
    grantor_birth = _birth(rng, 30, 62)
    grantor = dict(
        id_number=ids.make(region, grantor_birth, grantor_sex),
        name=surname + fake.first_name_male() if grantor_sex == "1" else surname + fake.first_name_female(),
        insurance_type=InsuranceType.EMPLOYEE,
        category=rng.choice([PersonnelCategory.EMPLOYED] * 3 + [PersonnelCategory.FLEXIBLE]),
        region=region,
    )
    people.append(("grantor", grantor))
    relatives = [("spouse", 28, 62), ("child", 1, 25), ("parent", 63, 88), ("sibling", 30, 60),
                 ("maternal_grandchild", 1, 8)]
    for kinship, low, high in rng.sample(relatives, rng.randrange(2, 5)):
        if kinship in ("child", "maternal_grandchild") and grantor_birth > _birth(rng, 40, 41):
            low, high = 1, 10
        sex = rng.choice("12")
        name = (surname if kinship in ("child", "sibling", "parent") else fake.last_name()) + (
            fake.first_name_male() if sex == "1" else fake.first_name_female()
        )
        relative_region = region if rng.random() < 0.85 else rng.choice(POOLING_REGIONS)
        people.append((kinship, dict(
            id_number=ids.make(relative_region, _birth(rng, low, high), sex),
            name=name,
            insurance_type=InsuranceType.EMPLOYEE if rng.random() < employee_share and low >= 18
            else InsuranceType.RESIDENT,
            category=PersonnelCategory.RETIRED if kinship == "parent" else "",
            region=relative_region,
        )))
    return people


def _document(kind: str):
    from bindings.services import DocumentUpload

    return DocumentUpload(kind=kind, file=SimpleUploadedFile("承诺书.pdf", PDF, content_type="application/pdf"))


def load_demo_data(*, families: int = 80, seed: int = 2026) -> DemoResult:
    from bindings.models import Authorization, Channel
    from bindings.services import authorization_create, authorization_revoke

    _reference_data()
    logins = _users()
    tokens = _api_tokens()
    if Person.objects.exists():
        return DemoResult(created=False, people=Person.objects.count(),
                          authorizations=Authorization.objects.count(), logins=logins, tokens=tokens)
    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    ids = _Ids(rng)
    regions = {r.code: r for r in Region.objects.all()}
    result = DemoResult(created=True, logins=logins, tokens=tokens)
    bound = []
    with transaction.atomic():
        for family_no in range(families):
            region = rng.choice(POOLING_REGIONS)
            members = []
            grantor = None
            for kinship, data in _family(rng, fake, ids, region):
                person = person_create(
                    id_number=data["id_number"], name=data["name"], insurance_type=data["insurance_type"],
                    region=regions[data["region"]], category=data["category"],
                    phone=f"1{rng.choice('3589')}{rng.randrange(10**8, 10**9)}",
                )
                result.people += 1
                if person.is_employee:
                    # Opening balance, then monthly allocations (划入) with bank-style references.
                    amount = Decimal(rng.randrange(0, 600000)) / 100 if kinship != "grantor" or family_no % 9 \
                        else Decimal("0.00")
                    if amount:
                        account_credit(account=person.account, amount=amount, kind=LedgerEntryKind.OPENING,
                                       reference=f"QC{person.person_no}")
                    for month in range(1, 4) if amount else ():
                        account_credit(
                            account=person.account, amount=Decimal(rng.randrange(8000, 30000)) / 100,
                            kind=LedgerEntryKind.ALLOCATION, reference=f"HR2026{month:02d}{person.person_no}",
                        )
                if kinship == "grantor":
                    grantor = person
                else:
                    members.append((kinship, person))
            if family_no % 7 == 0:
                CrossRegionFiling.objects.create(person=members[0][1], treatment_region=regions["320100"],
                                                 start_date=datetime.date(2026, 1, 1))
            for index, (kinship, member) in enumerate(members):
                counter = (family_no + index) % 3 == 0
                try:
                    authorization = authorization_create(
                        grantor=grantor, member=member, kinship=kinship,
                        channel=Channel.COUNTER if counter else rng.choice([Channel.APP, Channel.ONLINE_HALL]),
                        promise_accepted=not counter,
                        documents=[_document("promise_letter")] if counter else [],
                        spouse_confirmed_on_site=counter,
                    )
                except BusinessRuleError:
                    continue  # refused by the rules (zero balance, out of scope, ...): a real-life refusal
                result.authorizations += 1
                bound.append(authorization)
        # A few unbindings and a suspended member, for the history screens and the diagnosis.
        for authorization in bound[5:60:11]:
            authorization_revoke(authorization=authorization, reason="主账户人申请解除", channel=Channel.COUNTER)
        suspended = bound[3].member if len(bound) > 3 else None
        if suspended is not None:
            from accounts.services import person_update

            person_update(person=suspended, source="admin", insurance_status=InsuranceStatus.SUSPENDED)
        result.settlements = _settlements(rng, bound)
    return result


def _settlements(rng: random.Random, authorizations) -> int:
    """Bills at designated institutions for members with a live authorization, through the engine."""
    from accounts.models import ApiClient
    from settlements.api.serializers import SettlementRequestSerializer, settlement_body
    from settlements.models import Institution
    from settlements.services import settlement_create

    institutions = {i.region_id[:2]: [] for i in Institution.objects.filter(designated=True)}
    for institution in Institution.objects.filter(designated=True):
        institutions[institution.region_id[:2]].append(institution)
    client = ApiClient.objects.filter(role=ApiRole.INSTITUTION).first()
    count = 0
    for number, authorization in enumerate(authorizations):
        if authorization.status not in ("active", "pending_confirmation"):
            continue
        member = authorization.member
        for visit in range(rng.randrange(1, 4)):
            institution = rng.choice(institutions[member.region_id[:2]])
            total = Decimal(rng.randrange(2000, 80000)) / 100
            fund = (total * Decimal(rng.choice(["0", "0.5", "0.7"]))).quantize(Decimal("0.01"))
            pharmacy = institution.kind == "pharmacy"
            payload = {
                "external_id": f"DEMO-{number:04d}-{visit}",
                "patient_id_number": member.id_number,
                "credential": {"type": rng.choice(["e_voucher", "social_security_card"]), "number": member.id_number},
                "category": "pharmacy" if pharmacy else rng.choice(["medical"] * 5 + ["vaccine", "wellness"]),
                "channel": "direct",
                "total_amount": f"{total:.2f}",
                "fund_paid": "0.00" if pharmacy else f"{fund:.2f}",
            }
            if pharmacy:
                drug = (total * Decimal("0.8")).quantize(Decimal("0.01"))
                payload["items"] = [
                    {"name": "阿莫西林胶囊", "kind": "drug", "amount": f"{drug:.2f}"},
                    {"name": "医用外科口罩", "kind": "consumable", "amount": f"{total - drug:.2f}"},
                ]
            # Validated exactly as the API validates a body, so the stored first response is the API's.
            request = SettlementRequestSerializer(data=payload)
            request.is_valid(raise_exception=True)
            try:
                settlement_create(institution=institution, api_client=client, payload=request.validated_data,
                                  response_builder=lambda s: settlement_body(s, client))
            except BusinessRuleError:
                continue
            count += 1
    return count

"""Every write to mutual-aid authorizations: bind, confirm, decline, revoke, terminate (R13), expire.

Each action is one atomic function that also writes its audit event (R14, style.md #2) with who
acted and through which channel. Refusals raise BusinessRuleError carrying every reason.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.db import ModelColumns, lock_by_pk
from accounts.id_numbers import normalize_id_number
from accounts.models import Person
from accounts.reasons import BusinessRuleError, Reason
from accounts.services import PersonChanges
from bindings.documents import atomic_removing_documents_on_error, document_check, document_written
from bindings.models import (
    DOCUMENTS_DIR,
    LIVE_STATUSES,
    AuditAction,
    Authorization,
    AuthorizationDocument,
    AuthorizationEvent,
    AuthorizationStatus,
    Channel,
    DocumentAccess,
    DocumentKind,
)
from bindings.rules import Proposal, effective_status, evaluate_binding

S = AuthorizationStatus
# style.md #8: the allowed transitions in one map that every action consults.
TRANSITIONS: dict[str, set[str]] = {
    S.PENDING_CONFIRMATION: {S.ACTIVE, S.DECLINED, S.REVOKED, S.TERMINATED, S.EXPIRED},
    S.ACTIVE: {S.REVOKED, S.TERMINATED, S.EXPIRED},
    S.DECLINED: set(),
    S.REVOKED: set(),
    S.TERMINATED: set(),
    S.EXPIRED: set(),
}
PROMISE_KINDS = {
    DocumentKind.PROMISE_LETTER,
    DocumentKind.HOUSEHOLD_REGISTER,
    DocumentKind.MARRIAGE_CERTIFICATE,
    DocumentKind.BIRTH_CERTIFICATE,
    DocumentKind.NOTARIZED,
}
SOURCE_CHANNELS = {"admin": Channel.COUNTER, "import": Channel.IMPORT, "api": Channel.SYSTEM, "system": Channel.SYSTEM}


@dataclass(frozen=True)
class DocumentUpload:
    kind: str
    file: object  # an UploadedFile


def _event(authorization, action, *, channel, acting_user=None, api_client=None, changes=None, documents=(), note=""):
    return AuthorizationEvent.objects.create(
        authorization=authorization,
        action=action,
        channel=channel,
        acting_user=acting_user,
        api_client=api_client,
        changes=changes or {},
        documents=list(documents),
        note=note[:200],
    )


def _check_transition(authorization: Authorization, target: str) -> None:
    if target not in TRANSITIONS[authorization.status]:
        raise BusinessRuleError(
            [Reason.of("INVALID_TRANSITION", f"{authorization.get_status_display()} → {S(target).label}")],
            code="INVALID_TRANSITION",
        )


_PERSON_COLUMNS = ModelColumns(Person, "p")


def _lock_people(*people: Person) -> None:
    """Lock grantor and member rows (pk order) so two clerks binding the same member queue up (R7)."""
    lock_by_pk(_PERSON_COLUMNS, [p.pk for p in people])


def _store_documents(authorization, uploads: Iterable[DocumentUpload], acting_user) -> list[AuthorizationDocument]:
    stored = []
    for upload in uploads:
        checked = document_check(upload.file)
        document = AuthorizationDocument(
            authorization=authorization,
            kind=upload.kind,
            stored_name=checked.stored_name,
            original_name=checked.original_name,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
            uploaded_by=acting_user,
        )
        document.file.save(checked.stored_name, upload.file, save=False)
        document_written(document.file.storage, document.file.name)
        document.save()
        stored.append(document)
    return stored


def _document_refs(documents: Iterable[AuthorizationDocument]) -> list[dict]:
    return [{"id": d.pk, "kind": d.kind, "sha256": d.sha256, "size": d.size} for d in documents]


def documents_validate(uploads: Iterable[DocumentUpload]) -> None:
    """Refuse bad files before anything is written (the counter form calls this too)."""
    errors = []
    for upload in uploads:
        try:
            document_check(upload.file)
        except ValidationError as error:
            errors.append(f"{DocumentKind(upload.kind).label}：{error.messages[0]}")
    if errors:
        raise ValidationError(errors)


@atomic_removing_documents_on_error
def authorization_create(
    *,
    grantor: Person,
    member: Person,
    kinship: str,
    channel: str,
    valid_from: datetime.datetime | None = None,
    valid_to: datetime.datetime | None = None,
    promise_accepted: bool = False,
    documents: Iterable[DocumentUpload] = (),
    spouse_confirmed_on_site: bool = False,
    acting_user=None,
    api_client=None,
) -> Authorization:
    """Bind a member to a grantor's account, after every rule of the engine agrees.

    At the counter a spouse present in person may confirm on the spot (R11, recorded as such);
    otherwise a spouse binding waits in `pending_confirmation` where the policy asks for it.
    """
    documents = list(documents)
    documents_validate(documents)
    now = timezone.now()
    _lock_people(grantor, member)
    _expire_lapsed([grantor.pk, member.pk], now)
    grantor = Person.objects.select_related("region", "account").get(pk=grantor.pk)
    member = Person.objects.select_related("region").get(pk=member.pk)
    proposal = Proposal(
        grantor=grantor,
        member=member,
        kinship=kinship,
        channel=channel,
        valid_from=valid_from,
        valid_to=valid_to,
        promise_accepted=promise_accepted,
        promise_documents=sum(1 for d in documents if d.kind in PROMISE_KINDS),
        at=now,
    )
    evaluation = evaluate_binding(proposal)
    if not evaluation.allowed:
        raise BusinessRuleError(evaluation.reasons)
    policy = evaluation.policy
    needs_confirmation = evaluation.needs_spouse_confirmation(kinship)
    confirmed_now = needs_confirmation and spouse_confirmed_on_site
    try:
        with transaction.atomic():
            authorization = Authorization.objects.create(
                grantor=grantor,
                member=member,
                kinship=kinship,
                valid_from=proposal.start,
                valid_to=valid_to,
                status=S.PENDING_CONFIRMATION if needs_confirmation and not confirmed_now else S.ACTIVE,
                exclusive=policy.single_relationship,
                channel=channel,
                policy=policy,
                promise_accepted=promise_accepted or channel == Channel.COUNTER,
                created_by=acting_user,
                created_by_client=api_client,
                confirmed_at=now if confirmed_now else None,
                confirmation_channel=Channel.COUNTER if confirmed_now else "",
            )
    except IntegrityError:
        # The partial unique indexes caught a binding that raced past the check (R7 / duplicate pair). Which
        # index fired depends on the database's order of checks, so ask what is there now (the savepoint is
        # rolled back; the other transaction's row is committed and visible).
        live = Authorization.objects.filter(member=member, status__in=LIVE_STATUSES)
        pair = live.filter(grantor=grantor).exists()
        raise BusinessRuleError([Reason.of("DUPLICATE_AUTHORIZATION" if pair else "MEMBER_ALREADY_BOUND")]) from None
    stored = _store_documents(authorization, documents, acting_user)
    _event(
        authorization,
        AuditAction.CREATE,
        channel=channel,
        acting_user=acting_user,
        api_client=api_client,
        changes={"status": [None, authorization.status], "kinship": kinship, "policy": policy.pk},
        documents=_document_refs(stored),
    )
    for document in stored:
        _event(authorization, AuditAction.DOCUMENT_ADDED, channel=channel, acting_user=acting_user,
               documents=_document_refs([document]))
    if confirmed_now:
        _event(authorization, AuditAction.CONFIRM, channel=Channel.COUNTER, acting_user=acting_user,
               changes={"confirmed_on_site": True}, note="配偶到场当面确认")
    return authorization


def _locked(authorization: Authorization) -> Authorization:
    return Authorization.objects.select_for_update().select_related("grantor", "member").get(pk=authorization.pk)


def _refuse_if_past_end(authorization: Authorization, now: datetime.datetime) -> None:
    """An authorization past its end is expired (effective_status) even before the sweep marks it."""
    if effective_status(authorization, now) == S.EXPIRED:
        raise BusinessRuleError(
            [Reason.of("INVALID_TRANSITION", f"当前状态：{S.EXPIRED.label}")], code="INVALID_TRANSITION"
        )


@transaction.atomic
def authorization_confirm(
    *, authorization: Authorization, accept: bool, channel: str, acting_user=None, api_client=None,
    confirmed_on_site: bool = False, acting_person: Person | None = None, acting_id_number: str | None = None,
) -> Authorization:
    """R11: the spouse accepts (→ active) or declines (→ declined). When the channel says who is acting
    (`acting_person`, or the ID number it verified), only the member being bound may answer."""
    authorization = _locked(authorization)
    not_the_member = (acting_person is not None and acting_person.pk != authorization.member_id) or (
        acting_id_number is not None and normalize_id_number(acting_id_number) != authorization.member.id_number
    )
    if not_the_member:
        raise BusinessRuleError([Reason.of("NOT_CONFIRMING_MEMBER")], code="NOT_CONFIRMING_MEMBER")
    if authorization.status != S.PENDING_CONFIRMATION:
        raise BusinessRuleError(
            [Reason.of("INVALID_TRANSITION", f"当前状态：{authorization.get_status_display()}")],
            code="INVALID_TRANSITION",
        )
    _refuse_if_past_end(authorization, timezone.now())
    target = S.ACTIVE if accept else S.DECLINED
    _check_transition(authorization, target)
    now = timezone.now()
    old = authorization.status
    authorization.status = target
    authorization.confirmed_at = now
    authorization.confirmation_channel = channel
    if not accept:
        authorization.ended_at = now
        authorization.end_reason = "配偶拒绝授权"
    authorization.save(update_fields=["status", "confirmed_at", "confirmation_channel", "ended_at", "end_reason"])
    _event(
        authorization,
        AuditAction.CONFIRM if accept else AuditAction.DECLINE,
        channel=channel,
        acting_user=acting_user,
        api_client=api_client,
        changes={"status": [old, target], "confirmed_on_site": confirmed_on_site},
    )
    return authorization


@transaction.atomic
def authorization_revoke(
    *, authorization: Authorization, reason: str, channel: str, acting_user=None, api_client=None
) -> Authorization:
    """R12: the grantor (or staff for the grantor) ends an authorization at any time."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("解除绑定须填写原因。", code="reason_required")
    authorization = _locked(authorization)
    _check_transition(authorization, S.REVOKED)
    now = timezone.now()
    _refuse_if_past_end(authorization, now)
    old = authorization.status
    authorization.status = S.REVOKED
    authorization.ended_at = now
    authorization.end_reason = reason[:200]
    authorization.save(update_fields=["status", "ended_at", "end_reason"])
    _event(authorization, AuditAction.REVOKE, channel=channel, acting_user=acting_user, api_client=api_client,
           changes={"status": [old, S.REVOKED]}, note=reason)
    return authorization


@transaction.atomic
def authorization_change_period(
    *, authorization: Authorization, valid_to: datetime.datetime | None, channel: str, acting_user=None,
    api_client=None,
) -> Authorization:
    """R12: the grantor changes how long a live authorization lasts (a new end, or an open end). The new end
    must be after both the start and now (R9); ending it today is a revoke, not a change."""
    authorization = _locked(authorization)
    if authorization.status not in LIVE_STATUSES:
        raise BusinessRuleError(
            [Reason.of("INVALID_TRANSITION", f"当前状态：{authorization.get_status_display()}")],
            code="INVALID_TRANSITION",
        )
    now = timezone.now()
    _refuse_if_past_end(authorization, now)
    if valid_to is not None and (valid_to <= authorization.valid_from or valid_to <= now):
        raise BusinessRuleError([Reason.of("INVALID_PERIOD", "新的终止时间必须晚于开始时间和当前时间")])
    old = authorization.valid_to
    if old == valid_to:
        return authorization
    authorization.valid_to = valid_to
    authorization.save(update_fields=["valid_to"])
    _event(
        authorization, AuditAction.CHANGE, channel=channel, acting_user=acting_user, api_client=api_client,
        changes={"valid_to": [old.isoformat() if old else None, valid_to.isoformat() if valid_to else None]},
    )
    return authorization


@transaction.atomic
def authorizations_revoke_for_grantor(
    *, grantor: Person, reason: str, channel: str, acting_user=None, authorization_ids: Iterable[int] | None = None
) -> list[Authorization]:
    """Bulk unbinding of a grantor's members at the counter (all, or the chosen ones)."""
    now = timezone.now()
    qs = Authorization.objects.filter(grantor=grantor, status__in=LIVE_STATUSES).exclude(valid_to__lte=now)
    if authorization_ids is not None:
        qs = qs.filter(pk__in=list(authorization_ids))
    return [
        authorization_revoke(authorization=a, reason=reason, channel=channel, acting_user=acting_user)
        for a in qs.order_by("pk")
    ]


def document_open(*, document: AuthorizationDocument, user, remote_addr: str | None):
    """Open a scanned document for a member of staff and record the access (R14: who read which papers, when).
    Raises FileNotFoundError, recording nothing, when the file is missing from storage."""
    handle = document.file.open("rb")
    DocumentAccess.objects.create(document=document, user=user, remote_addr=remote_addr)
    return handle


def documents_sweep_orphans(*, older_than: datetime.timedelta, dry_run: bool = False) -> list[str]:
    """Delete stored scans that no AuthorizationDocument row names and that were last written before
    `older_than` ago: what a rollback after the storing block left behind (bindings.documents). A file of a
    transaction still open is younger than that, so only files no commit can claim any more are removed.
    Returns the storage names (random, no personal data), removed or, for a dry run, to be removed."""
    storage = AuthorizationDocument._meta.get_field("file").storage
    try:
        _, files = storage.listdir(DOCUMENTS_DIR)
    except FileNotFoundError:
        return []
    candidates = {f"{DOCUMENTS_DIR}/{name}" for name in files}
    for name in AuthorizationDocument.objects.values_list("file", flat=True).iterator(chunk_size=5000):
        candidates.discard(name)
    cutoff = timezone.now() - older_than
    orphans = sorted(name for name in candidates if storage.get_modified_time(name) < cutoff)
    if not dry_run:
        for name in orphans:
            storage.delete(name)
    return orphans


@atomic_removing_documents_on_error
def document_add(*, authorization: Authorization, upload: DocumentUpload, acting_user) -> AuthorizationDocument:
    documents_validate([upload])
    (document,) = _store_documents(authorization, [upload], acting_user)
    _event(authorization, AuditAction.DOCUMENT_ADDED, channel=Channel.COUNTER, acting_user=acting_user,
           documents=_document_refs([document]))
    return document


def _end_set_based(queryset, *, target: str, action: str, reason: str, channel: str, acting_user, api_client,
                   at: datetime.datetime) -> int:
    """End many live authorizations with two statements and one bulk insert of audit events."""
    rows = list(queryset.filter(status__in=LIVE_STATUSES).values_list("pk", "status"))
    if not rows:
        return 0
    ids = [pk for pk, _ in rows]
    for start in range(0, len(ids), 5000):
        Authorization.objects.filter(pk__in=ids[start : start + 5000], status__in=LIVE_STATUSES).update(
            status=target, ended_at=at, end_reason=reason[:200]
        )
    AuthorizationEvent.objects.bulk_create(
        [
            AuthorizationEvent(
                authorization_id=pk, action=action, channel=channel, acting_user=acting_user, api_client=api_client,
                changes={"status": [old, target], "reason": reason}, note=reason[:200],
            )
            for pk, old in rows
        ],
        batch_size=2000,
    )
    return len(rows)


def _chunks(ids: Iterable[int], size: int = 5000):
    ids = sorted(ids)
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


@transaction.atomic
def authorizations_end_for_person_changes(
    *, changes: PersonChanges, source: str, acting_user=None, api_client=None
) -> int:
    """R13, set-based: a suspended or terminated grantor or member releases the authorization; a grantor
    whose insurance moves out of the pooling region or leaves employee insurance ends the whole relationship.

    Called by accounts.services for one person (admin, API) and once per roster import of any size.
    """
    channel = SOURCE_CHANNELS.get(source, Channel.SYSTEM)
    via = {"admin": "窗口经办", "import": "花名册导入", "api": "接口"}.get(source, "系统")
    now = timezone.now()
    ended = 0
    for chunk in _chunks(changes.suspended_or_terminated):
        ended += _end_set_based(
            Authorization.objects.filter(Q(grantor_id__in=chunk) | Q(member_id__in=chunk)),
            target=S.TERMINATED, action=AuditAction.TERMINATE,
            reason=f"参保状态变为暂停、终止或未参保，共济授权自动解除（R13，{via}）",
            channel=channel, acting_user=acting_user, api_client=api_client, at=now,
        )
    for chunk in _chunks(changes.moved_region):
        ended += _end_set_based(
            Authorization.objects.filter(grantor_id__in=chunk),
            target=S.TERMINATED, action=AuditAction.TERMINATE,
            reason=f"主账户人参保关系转出统筹区，家庭共济关系终止（R13，{via}）",
            channel=channel, acting_user=acting_user, api_client=api_client, at=now,
        )
    for chunk in _chunks(changes.left_employee_insurance):
        ended += _end_set_based(
            Authorization.objects.filter(grantor_id__in=chunk),
            target=S.TERMINATED, action=AuditAction.TERMINATE,
            reason=f"主账户人职工医保关系终止，家庭共济关系终止（R13，{via}）",
            channel=channel, acting_user=acting_user, api_client=api_client, at=now,
        )
    return ended


def _expire_lapsed(person_ids: list[int], now: datetime.datetime) -> int:
    """Mark these people's live authorizations past their end as expired (with audit events) before a new
    binding is judged: a lapsed authorization is already `expired` to every reader (effective_status) and
    must not block R7 or the partial unique indexes until the nightly sweep runs."""
    return _end_set_based(
        Authorization.objects.filter(Q(grantor_id__in=person_ids) | Q(member_id__in=person_ids)).filter(
            valid_to__isnull=False, valid_to__lte=now
        ),
        target=S.EXPIRED, action=AuditAction.EXPIRE, reason="授权期限届满",
        channel=Channel.SYSTEM, acting_user=None, api_client=None, at=now,
    )


@transaction.atomic
def authorizations_expire(*, at: datetime.datetime | None = None) -> int:
    """Sweep: an authorization past its end becomes `expired` (the rules engine already never uses it)."""
    at = at or timezone.now()
    return _end_set_based(
        Authorization.objects.filter(valid_to__isnull=False, valid_to__lte=at),
        target=S.EXPIRED, action=AuditAction.EXPIRE, reason="授权期限届满",
        channel=Channel.SYSTEM, acting_user=None, api_client=None, at=at,
    )

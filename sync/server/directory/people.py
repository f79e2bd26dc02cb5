"""Districts, schools, users, enrollment codes and devices: the operations behind `learnwalk admin` and enroll.

Each function works inside the caller's transaction (a write session) and raises DirectoryError with one
plain sentence when the input cannot be used; nothing is written in that case. Each change writes its audit
entry here, in the same transaction, so the console commands and the admin API are audited alike; `actor` is a
user id, or "cli" for a `learnwalk admin` command run on the server's database (never a name or an email).
"""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from sync.errors import LearnwalkError
from sync.protocol import new_id, utcnow
from sync.protocol.text import SPACES
from sync.server import seq
from sync.server.deps import ROLES
from sync.server.directory import attempts, audit
from sync.server.models import District, DistrictSettings, Device, EnrollmentCode, School, User
from sync.server.rubrics import registry as rubric_registry
from sync.server.security import digest, new_code, new_token, normalize_code

# an email as stored (trimmed, lower case): name@domain.tld, no spaces; the API states the form it takes before
# trimming (EMAIL_PATTERN, spaces around allowed)
_EMAIL_PART = f"[^@\\u0000{SPACES}]+"
_EMAIL_FORM = f"{_EMAIL_PART}@{_EMAIL_PART}\\.{_EMAIL_PART}"
_EMAIL = re.compile(f"^{_EMAIL_FORM}$")
EMAIL_PATTERN = f"^[{SPACES}]*{_EMAIL_FORM}[{SPACES}]*$"


CONSOLE = "cli"  # the actor of a `learnwalk` command run on the server's database


class DirectoryError(LearnwalkError):
    """Input that cannot be used; the message says what and how to fix it. `status` is the HTTP status that fits:
    400, or 409 when the district already has it."""
    status = 400


class Duplicate(DirectoryError):
    status = 409


def create_district(s: Session, name: str, actor: str = CONSOLE) -> District:
    name = name.strip()
    if not name:
        raise DirectoryError("A district needs a name.")
    district = District(id=new_id(), name=name)
    s.add(district)
    s.flush()
    s.add(DistrictSettings(district_id=district.id, change_seq=seq.reserve(s, district.id, 1)))
    rubric_registry.register_builtins(s, district.id)
    audit.record(s, district.id, actor, "district.create", "district", district.id, after={"name": district.name})
    return district


def _district(s: Session, district_id: str) -> District:
    d = s.get(District, district_id)
    if d is None:
        raise DirectoryError(f"District {district_id} does not exist; check the id printed by create-district.")
    return d


def create_school(s: Session, district_id: str, name: str, actor: str = CONSOLE) -> School:
    _district(s, district_id)
    name = name.strip()
    if not name:
        raise DirectoryError("A school needs a name.")
    school = School(id=new_id(), district_id=district_id, name=name, change_seq=seq.reserve(s, district_id, 1))
    s.add(school)
    audit.record(s, district_id, actor, "school.create", "school", school.id, after={"name": school.name})
    return school


def create_user(s: Session, district_id: str, role: str, email: str, actor: str = CONSOLE) -> User:
    _district(s, district_id)
    email = email.strip().lower()
    if role not in ROLES:
        raise DirectoryError(f"Role '{role}' is not one of {', '.join(ROLES)}.")
    if not _EMAIL.match(email):
        raise DirectoryError("The email address is not valid; write it as name@school.org.")
    if s.exec(select(User).where(User.district_id == district_id, User.email == email)).first():
        raise Duplicate("A user with that email already exists in this district.")
    user = User(id=new_id(), district_id=district_id, email=email, role=role)
    s.add(user)
    audit.record(s, district_id, actor, "user.create", "user", user.id, after={"role": user.role})
    return user


def issue_code(s: Session, user_id: str, ttl_hours: int = 72, actor: str = CONSOLE) -> str:
    """A one-time enrollment code for the user (returned once; only its hash is stored)."""
    user = s.get(User, user_id)
    if user is None or not user.active:
        raise DirectoryError(f"User {user_id} does not exist or is inactive; check the id printed by create-user.")
    code = new_code()
    s.add(EnrollmentCode(code_hash=digest(code), user_id=user.id, district_id=user.district_id,
                         expires_at=utcnow() + timedelta(hours=ttl_hours)))
    audit.record(s, user.district_id, actor, "enrollment.issue", "user", user.id, after={"ttl_hours": ttl_hours})  # never the code
    return code


def enroll(s: Session, code: str, device_name: str = "") -> tuple[Device, User, District, str]:
    """Exchange a code for a new device and its token (the code is spent in the same transaction)."""
    code_hash = digest(normalize_code(code))
    now = utcnow()
    spent = s.execute(update(EnrollmentCode)
                      .where(EnrollmentCode.code_hash == code_hash, EnrollmentCode.used_at.is_(None),
                             EnrollmentCode.expires_at > now)
                      .values(used_at=now)).rowcount
    if spent != 1:
        raise DirectoryError("This enrollment code is not valid, was already used, or has expired; "
                             "ask your admin for a new one.")
    user = s.get(User, s.get(EnrollmentCode, code_hash).user_id)
    if user is None or not user.active:
        raise DirectoryError("The user of this enrollment code is no longer active; ask your admin.")
    token = new_token()
    device = Device(id=new_id(), user_id=user.id, district_id=user.district_id, name=device_name.strip()[:120],
                    token_hash=digest(token))
    s.add(device)
    return device, user, s.get(District, user.district_id), token


def enroll_limited(s: Session, code: str, device_name: str, address: str,
                   limits: attempts.Limits) -> tuple[Device, User, District, str]:
    """enroll() behind the attempt limits: refused (EnrollLimited) while the address, or the code's district (codes
    no district knows count together), has failed too often in the window; a failure is counted and committed
    before DirectoryError is raised, so the caller's session is left clean either way."""
    known = s.execute(select(EnrollmentCode.district_id)
                      .where(EnrollmentCode.code_hash == digest(normalize_code(code)))).scalar()
    scopes = [attempts.address_scope(address), attempts.district_scope(known)]
    attempts.check(s, scopes, limits)
    try:
        return enroll(s, code, device_name)
    except DirectoryError:
        s.rollback()  # nothing of the failed enrollment is kept; only its count
        attempts.fail(s, scopes, limits, attempts.network(address))
        s.commit()
        raise


def mark_synced(s: Session, device_id: str) -> None:
    """Record that a device finished a sync round (its last pull page), for the admins' device list."""
    s.execute(update(Device).where(Device.id == device_id).values(last_sync_at=utcnow()))


def revoke_device(s: Session, device_id: str, actor: str = CONSOLE) -> Device:
    device = s.get(Device, device_id)
    if device is None:
        raise DirectoryError(f"Device {device_id} does not exist.")
    before = {"revoked_at": device.revoked_at.isoformat() if device.revoked_at else None}
    if device.revoked_at is None:
        device.revoked_at = utcnow()
        s.add(device)
    audit.record(s, device.district_id, actor, "device.revoke", "device", device.id, before=before,
           after={"revoked_at": device.revoked_at.isoformat()})
    return device

"""Demo care visits: last month's visit file of each demo vendor in 鱼台县, recorded through the upload
pipeline (so its rows are verified like any), and a file of 任城区 visits left for the user to upload.

What the demo shows:

* HL-370800-02's file comes first (40 visits, upload 1, visits 1-40), then the demo vendor
  HL-370800-01's (upload 2, from visit 41): the person, the worker (G1005-G1011: the tests keep
  G1001-G1004 for themselves), the day and a slot of the worker's calendar, so that no two visits
  of a worker overlap unless a row is made to;
* each file carries a few bad rows a vendor must act on: an unknown resident ID, no check-out, a
  check-in 2 km from home, a 15-minute visit, a duplicate row, two visits of one worker at once;
  and visits of persons deceased or in an institution this year are rejected by the rules as they are;
* `demo_upload_file` is the demo vendor's 任城区 file of the same month with its own bad rows, written
  by `flask seed-demo` to instance/demo-visits-<YYYY-MM>.csv for the user to upload.

Idempotent: nothing is recorded when any visit upload exists.
"""
from __future__ import annotations

import random
from datetime import date, timedelta

import sqlalchemy as sa

from ..aid.demo import demo_resident_id
from ..auth.access import Actor
from ..auth.models import Organisation, OrganisationKind, Region, Role, User
from .person_models import CareAssessment, CareAssignment, SupportedPerson
from .visit_models import VisitUpload
from .visits import VISITS_SCHEMA, apply_upload, last_month

#: The Chinese headers of the visit file, in the schema's order.
HEADER = ",".join(column.zh for column in VISITS_SCHEMA.columns)
VISITS_MIN = {"self_caring": 2, "partly_disabled": 4, "fully_disabled": 8}
SERVICES = ("生活照料、清洁", "助餐", "生活照料、健康监测", "精神慰藉", "代办、清洁")
#: The day's slots of a worker: start minutes after midnight, 75 minutes apart.
SLOTS = tuple(8 * 60 + 75 * index for index in range(8))
PERSONS_PER_FILE = 150
OTHER_VENDOR_ROWS = 40


def demo_month() -> date:
    return last_month()


def _persons(session, vendor_code: str, county_code: str, month: date, limit: int):
    """(resident ID, latitude, longitude, care level) of the vendor's persons in the county all month."""
    last = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    level = (sa.select(CareAssessment.care_level).where(CareAssessment.person_id == SupportedPerson.id)
             .order_by(CareAssessment.assessed_on.desc(), CareAssessment.id.desc()).limit(1).scalar_subquery())
    return session.execute(
        sa.select(SupportedPerson.resident_id, SupportedPerson.latitude_micro, SupportedPerson.longitude_micro, level)
        .join(CareAssignment, CareAssignment.person_id == SupportedPerson.id)
        .join(Organisation, Organisation.id == CareAssignment.vendor_id)
        .join(Region, Region.id == SupportedPerson.county_id)
        .where(Organisation.code == vendor_code, Region.code == county_code, CareAssignment.valid_from <= month,
               sa.or_(CareAssignment.valid_to.is_(None), CareAssignment.valid_to >= last))
        .order_by(SupportedPerson.id).limit(limit)).all()


class _Calendar:
    """Each worker's free slots per day, so that generated visits do not overlap."""

    def __init__(self, workers: list[str]):
        self.workers = workers
        self.taken: set[tuple[str, date, int]] = set()

    def book(self, index: int, day: date) -> tuple[str, int]:
        for offset in range(len(self.workers) * len(SLOTS)):
            worker = self.workers[(index + offset) % len(self.workers)]
            slot = SLOTS[(index + offset // len(self.workers)) % len(SLOTS)]
            if (worker, day, slot) not in self.taken:
                self.taken.add((worker, day, slot))
                return worker, slot
        raise RuntimeError("the demo calendar is full")


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _degrees(micro: int) -> str:
    return f"{micro / 1_000_000:.6f}"


def _lines(rng: random.Random, persons, month: date, calendar: _Calendar, *, visits_each: int | None = None,
           bad_rows: bool = True, county_code: str = "370827") -> list[str]:
    days = ((month + timedelta(days=32)).replace(day=1) - month).days
    lines = []
    for index, (resident_id, latitude, longitude, level) in enumerate(persons):
        count = visits_each or VISITS_MIN.get(level or "self_caring", 2)
        for number in range(count):
            day = month + timedelta(days=min(days - 1, number * days // count + index % max(1, days // count)))
            worker, start = calendar.book(index, day)
            method = ("APP签到", "APP签到", "APP签到", "电话", "纸质")[rng.randrange(5)]
            gps = method == "APP签到" and latitude is not None
            lines.append(",".join([
                resident_id, worker, day.isoformat(), _clock(start), _clock(start + 60), rng.choice(SERVICES),
                _degrees(latitude + rng.randint(-400, 400)) if gps else "",
                _degrees(longitude + rng.randint(-400, 400)) if gps else "",
                "" if gps else "上门服务（住址见档案）", method]))
    if not bad_rows or len(lines) < 10:
        return lines
    # The rows a vendor must act on (each explained on the visit's page).
    day = month + timedelta(days=days - 1)
    worker = calendar.workers[0]
    cells = lines[3].split(",")
    lines.append(",".join([demo_resident_id(county_code, date(1940, 5, 6), 990, False), worker, day.isoformat(),
                           "08:00", "09:00", "生活照料", "", "", "村委会登记地址", "纸质"]))  # unknown person
    lines[5] = ",".join(lines[5].split(",")[:4] + [""] + lines[5].split(",")[5:])  # no check-out
    far_at = next(at for at in range(11, len(lines)) if lines[at].split(",")[6])
    far = lines[far_at].split(",")
    far[6] = _degrees(round(float(far[6]) * 1_000_000) + 18_000)  # 2 km north
    lines[far_at] = ",".join(far)
    short = lines[9].split(",")
    short[4] = _clock(int(short[3][:2]) * 60 + int(short[3][3:]) + 15)  # 15 minutes
    lines[9] = ",".join(short)
    lines.append(",".join(cells))  # a duplicate of row 5
    overlap = cells[:]
    overlap[0] = lines[0].split(",")[0] if lines[0].split(",")[0] != cells[0] else lines[-3].split(",")[0]
    overlap[3] = _clock(int(cells[3][:2]) * 60 + int(cells[3][3:]) + 30)
    overlap[4] = _clock(int(cells[3][:2]) * 60 + int(cells[3][3:]) + 90)
    lines.append(",".join(overlap))  # the same worker, 30 minutes into row 5's visit
    return lines


def _file(lines: list[str]) -> bytes:
    return ("\r\n".join([HEADER, *lines]) + "\r\n").encode("utf-8-sig")


def _actor(session, vendor_code: str) -> Actor:
    """The vendor as it uploads (its demo user, or the administrator entering a vendor's file for it)."""
    organisation = session.scalar(sa.select(Organisation).where(Organisation.code == vendor_code,
                                                                Organisation.kind == OrganisationKind.vendor))
    user = session.scalar(sa.select(User).where(User.organisation_id == organisation.id).order_by(User.id).limit(1)) \
        or session.scalar(sa.select(User).where(User.role == Role.admin).order_by(User.id).limit(1))
    return Actor(user_id=user.id, username=user.username, role=Role.vendor, organisation_id=organisation.id,
                 organisation_kind=OrganisationKind.vendor, county_id=None)


def _demo_files(session) -> tuple[bytes, bytes, bytes]:
    month = demo_month()
    rng = random.Random(month.toordinal())
    calendar_one = _Calendar([f"G1{number:03d}" for number in range(5, 12)])
    calendar_two = _Calendar([f"G2{number:03d}" for number in range(5, 12)])
    other = _lines(rng, _persons(session, "HL-370800-02", "370827", month, OTHER_VENDOR_ROWS), month, calendar_two,
                   visits_each=1, bad_rows=False)
    ours = _lines(rng, _persons(session, "HL-370800-01", "370827", month, PERSONS_PER_FILE), month, calendar_one)
    rencheng = _lines(rng, _persons(session, "HL-370800-01", "370811", month, PERSONS_PER_FILE // 2), month,
                      calendar_one, county_code="370811")
    return _file(other), _file(ours), _file(rencheng)


def seed_visits(session) -> tuple[int, str, bytes]:
    """Record the demo's visit files when none is; (visits recorded now, name, bytes of the file to upload)."""
    other, ours, rencheng = _demo_files(session)
    name = f"demo-visits-{demo_month():%Y-%m}.csv"
    if session.scalar(sa.select(VisitUpload.id).limit(1)) is not None:
        return 0, name, rencheng
    recorded = 0
    for vendor_code, data, filename in (("HL-370800-02", other, "鱼台县服务记录.csv"),
                                        ("HL-370800-01", ours, "鱼台县服务记录.csv")):
        outcome = apply_upload(session, _actor(session, vendor_code), data, filename)
        recorded += outcome.upload.row_count
    return recorded, name, rencheng

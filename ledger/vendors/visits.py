"""Care visit records: the monthly upload, one visit through the API, verification, resolution, coverage.

Flow of an upload (CSV / XLSX, UTF-8 / BOM / GBK, up to `UPLOAD_ROWS_MAX` rows):

1. `preview_upload` streams the file through `ledger.imports.iter_rows` with `VISITS_SCHEMA` and the
   cross-column checks of `_row_problems`; it writes nothing and keeps only a few sample rows and
   the first `imports.MAX_ERRORS_IN_REFUSAL` format errors (every error is counted).
2. `apply_upload` runs the same stream inside `imports.apply_once` (one batch per file SHA-256: the
   same file twice creates nothing twice). Clean rows go in chunks into the staging table
   (`care_visit_staging`, a temporary table of this transaction: PostgreSQL COPY, else
   executemany); a single format error anywhere refuses the whole file (`ImportHasErrors`, every
   bad row named) and the savepoint takes the staged rows with it.
3. `_verify_staged` runs the rules as set-based SQL over the staging table: a few UPDATE ... FROM
   statements resolve the person, the worker and the vendor's assignment on the day; one UPDATE per
   rule sets the rule's bit of `reason_flags`; one INSERT ... SELECT writes the visits with their
   state. No Python loop over rows.

A visit posted through the API (`record_visit`) goes through the same staging table and rules (a
file of one row); the request's Idempotency-Key makes a retry answer the first visit.

The rules (bits in `visit_models.REJECT_REASONS` / `HOLD_REASONS`), evaluated for the reporting
vendor on the visit's local date:

* rejected: unknown person; person not assigned to this vendor that day; person deceased (a visit
  on the day of death is care given, the day after is not); person in an institution that day (the
  status in force on the day); unknown worker of this vendor, or a worker not active that day; end
  before start; longer than 24 hours; a duplicate (same person, worker and start) of a visit
  recorded before or of an earlier row of the same file;
* held (only when not rejected): no check-out; GPS more than 1 km from the person's address
  coordinates; the same worker in another non-rejected visit overlapping it by one minute or more
  (a range self-join on (worker_id, starts_at_minute), of the file and of the visits recorded);
  shorter than the contract's minimum minutes for the person's care level that day.

A vendor's uploads and single visits are serialised by a lock on its organisation row, so that two
files of one vendor at once cannot each miss the other's duplicates and overlaps.

Scope: a vendor user sees its own visits and uploads only; a county reviewer the visits of persons
of its county; admins, auditors, finance and city reviewers every visit. Anything else is 404.
Services flush, never commit.
"""
from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from .. import imports
from ..audit import record_event
from ..auth.access import Actor, require
from ..auth.models import Organisation, OrganisationKind, Region, RegionLevel
from ..db_base import insert_rows, is_postgres
from ..errors import NotFound, ValidationError, _l
from ..identity import mask_id_number, validate_resident_id
from ..paging import Page
from ..statemachine import StateMachine
from ..timeutil import local_today, utcnow
from .persons import micro_degrees
from .visit_models import (HOLD_MASK, HOLD_REASONS, REASON_BITS, REJECT_MASK, REJECT_REASONS, RESOLUTION_ACTIONS,
                           RESOLVE_DAYS, CaptureMethod, CareVisit, ResolutionCode, ServiceType, VisitResolution,
                           VisitState, VisitUpload)

IMPORT_KIND = "care_visits"
UPLOAD_ROWS_MAX = 200_000
UPLOAD_BYTES_MAX = 40 * 1024 * 1024
STAGING_CHUNK = 5000
REASON_MAX = 500
#: Local time is UTC+8 all year (no daylight saving time).
LOCAL_OFFSET_MINUTES = 8 * 60
EPOCH = date(1970, 1, 1)
#: Distance from home beyond which a GPS check-in holds the visit.
HOME_RADIUS_METRES = 1000
#: Metres per micro-degree of latitude (and of longitude at the equator).
METRES_PER_MICRO_DEGREE = 0.111195
VISIT_MINUTES_MAX = 24 * 60

#: The visit's state machine: only a held visit moves, once, to verified or rejected.
VISIT_MACHINE = StateMachine(name="care_visit", states=VisitState, transitions={
    (VisitState.held, "accept"): VisitState.verified,
    (VisitState.held, "refuse"): VisitState.rejected,
})


class ResolutionTooLate(ValidationError):
    """A vendor may resolve a held visit only within 95 days of the visit; ask the county reviewer.

    Rule: the vendor's window to explain a held visit closes 95 days after it; after that only a
    reviewer resolves it."""

    code = "resolution_too_late"


# --- the file ---------------------------------------------------------------------------------------

SERVICE_LABELS = {
    ServiceType.personal_care: ("personal_care", "生活照料", "照料"),
    ServiceType.meals: ("meals", "meal", "助餐", "送餐"),
    ServiceType.cleaning: ("cleaning", "清洁", "保洁", "打扫卫生"),
    ServiceType.health: ("health", "健康监测", "健康检查"),
    ServiceType.companionship: ("companionship", "精神慰藉", "陪伴"),
    ServiceType.errands: ("errands", "errand", "代办", "代购"),
}
CAPTURE_LABELS = {
    CaptureMethod.app: ("app", "app check-in", "APP签到", "签到", "手机签到"),
    CaptureMethod.phone: ("phone", "电话", "电话核实"),
    CaptureMethod.paper: ("paper", "纸质", "纸质记录"),
}
_SERVICE_LOOKUP = {label.casefold(): kind for kind, labels in SERVICE_LABELS.items() for label in labels}
_SERVICE_SPLIT = re.compile(r"[;；、,，|/\s]+")
_TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(?::[0-5]\d)?$")
_DATE_TIME_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T]([01]?\d|2[0-3]):([0-5]\d)(?::[0-5]\d)?$")


@functools.lru_cache(maxsize=100_000)
def _checked_resident_id(value: str) -> str:
    """A month's file names each person a dozen times; the ID check runs once per ID."""
    return validate_resident_id(value)


def _resident_id_cell(value) -> str:
    return _checked_resident_id(str(value).strip().upper())


_resident_id_cell.mask = mask_id_number


def _minute_of_day(value) -> int:
    if isinstance(value, time):
        return value.hour * 60 + value.minute
    match = _TIME_RE.match(str(value).strip())
    if not match:
        raise imports.CellError("must be a time of day such as 08:30")
    return int(match[1]) * 60 + int(match[2])


def _end_cell(value):
    """An end time: a time of day (the visit's day) or a date and time (a later day)."""
    if isinstance(value, datetime):
        return value.date(), value.hour * 60 + value.minute
    match = _DATE_TIME_RE.match(str(value).strip())
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3])), int(match[4]) * 60 + int(match[5])
        except ValueError:
            raise imports.CellError("is not a day of the calendar") from None
    try:
        return None, _minute_of_day(value)
    except imports.CellError:
        raise imports.CellError("must be a time such as 09:30, or a date and time such as 2026-03-02 09:30") \
            from None


def _services_cell(value) -> str:
    kinds = []
    for part in _SERVICE_SPLIT.split(str(value).strip()):
        if not part:
            continue
        kind = _SERVICE_LOOKUP.get(part.casefold())
        if kind is None:
            raise imports.CellError("unknown service type")
        if kind.value not in kinds:
            kinds.append(kind.value)
    if not kinds:
        raise imports.CellError("is required")
    return ";".join(kinds)


VISITS_SCHEMA = imports.RowSchema([
    imports.Column("resident_id", "Resident ID", "身份证号", _resident_id_cell,
                   aliases=("居民身份证号", "服务对象身份证号", "resident id number")),
    imports.Column("worker_number", "Worker number", "护理员编号", imports.text(30), aliases=("工号",)),
    imports.Column("visit_on", "Visit date", "服务日期", imports.local_date(), aliases=("date",)),
    imports.Column("start", "Start time", "开始时间", _minute_of_day, aliases=("签到时间", "start")),
    imports.Column("end", "End time", "结束时间", _end_cell, required=False, aliases=("签退时间", "end")),
    imports.Column("service_types", "Service types", "服务项目", _services_cell, aliases=("服务类型",)),
    imports.Column("latitude", "Latitude", "纬度", micro_degrees(90), required=False),
    imports.Column("longitude", "Longitude", "经度", micro_degrees(180), required=False),
    imports.Column("address", "Address", "服务地址", imports.text(200), required=False, default="",
                   aliases=("地址",)),
    imports.Column("capture_method", "Captured by", "记录方式", imports.choice(CAPTURE_LABELS),
                   aliases=("采集方式", "capture method")),
])

STAGING_COLUMNS = ("row_number", "resident_id", "worker_number", "service_types", "visit_on", "starts_at_minute",
                   "ends_at_minute", "latitude_micro", "longitude_micro", "address", "capture_method")


def _utc_minute(day: date, minute_of_day: int) -> int:
    return (day - EPOCH).days * 1440 + minute_of_day - LOCAL_OFFSET_MINUTES


def local_datetime(minute: int | None) -> datetime | None:
    """A stored minute as a local (Asia/Shanghai) date and time, for showing."""
    if minute is None:
        return None
    return datetime(1970, 1, 1) + timedelta(minutes=minute + LOCAL_OFFSET_MINUTES)


def _row_problems(row: imports.Row, today: date) -> list[imports.RowError]:
    """What the columns cannot say alone: a location, a date not in the future, coordinates in pairs."""
    problems = []
    has_latitude, has_longitude = row.get("latitude") is not None, row.get("longitude") is not None
    if has_latitude != has_longitude:
        problems.append(imports.RowError(row.row_number, "纬度" if not has_latitude else "经度", None,
                                         "latitude and longitude go together", "latitude"))
    elif not has_latitude and not row.get("address"):
        problems.append(imports.RowError(row.row_number, "服务地址", None,
                                         "a location is required: GPS coordinates or an address", "address"))
    if row["visit_on"] > today:
        problems.append(imports.RowError(row.row_number, "服务日期", row["visit_on"].isoformat(),
                                         "is in the future", "visit_on"))
    return problems


def _staged_values(row: imports.Row) -> tuple:
    day = row["visit_on"]
    starts = _utc_minute(day, row["start"])
    end = row.get("end")
    ends = None if end is None else _utc_minute(end[0] or day, end[1])
    return (row.row_number, row["resident_id"], row["worker_number"], row["service_types"], day, starts, ends,
            row.get("latitude"), row.get("longitude"), row.get("address") or "", row["capture_method"].value)


@dataclass
class VisitFileReport:
    """A visit file read through: its rows counted, its format errors (the first ones kept), samples."""

    filename: str
    sha256: str
    size_bytes: int
    file_type: str = "csv"
    encoding: str | None = None
    row_count: int = 0
    error_count: int = 0
    errors: list = field(default_factory=list)
    samples: list = field(default_factory=list)
    months: set = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def as_parsed(self) -> imports.ParsedImport:
        """The report in the pipeline's shape (its rows are not kept: they were streamed)."""
        return imports.ParsedImport(filename=self.filename, file_type=self.file_type, encoding=self.encoding,
                                    sha256=self.sha256, size_bytes=self.size_bytes, row_count=self.row_count,
                                    rows=[], errors=self.errors, column_mapping={}, samples=self.samples)


def _stream(data: bytes, filename: str, sink=None) -> VisitFileReport:
    """Read the file once, row by row; clean rows go to `sink(list_of_tuples)` in chunks until the
    first format error (after it, rows are only checked, so that every bad row is named)."""
    table = imports.read_table(data, filename, max_bytes=UPLOAD_BYTES_MAX, max_rows=UPLOAD_ROWS_MAX)
    report = VisitFileReport(filename=table.filename, sha256=table.sha256, size_bytes=table.size_bytes,
                             file_type=table.file_type, encoding=table.encoding)
    today = local_today()
    chunk: list[tuple] = []
    bad_rows: set[int] = set()
    header_row = None

    def error(item):
        report.error_count += 1
        if len(report.errors) < imports.MAX_ERRORS_IN_REFUSAL:
            report.errors.append(item)

    for item in imports.iter_table_rows(table, VISITS_SCHEMA):
        if isinstance(item, imports.RowError):
            if header_row is None and not bad_rows and report.row_count == 0:
                header_row = item.row_number  # header errors come first
            if item.row_number != header_row and item.row_number not in bad_rows:
                bad_rows.add(item.row_number)
                report.row_count += 1
            error(item)
            continue
        report.row_count += 1
        problems = _row_problems(item, today)
        if problems:
            bad_rows.add(item.row_number)
            for problem in problems:
                error(problem)
            continue
        if len(report.samples) < imports.SAMPLE_ROWS:
            report.samples.append(item)
        report.months.add(item["visit_on"].replace(day=1))
        if sink is not None and not report.error_count:
            chunk.append(_staged_values(item))
            if len(chunk) >= STAGING_CHUNK:
                sink(chunk)
                chunk = []
    if sink is not None and chunk and not report.error_count:
        sink(chunk)
    report.errors.sort(key=lambda problem: problem.row_number)
    return report


# --- the staging table and the rules ---------------------------------------------------------------

_STAGING_DDL = """
CREATE TEMPORARY TABLE care_visit_staging (
    row_number INTEGER NOT NULL,
    resident_id VARCHAR(18) NOT NULL,
    worker_number VARCHAR(30) NOT NULL,
    service_types VARCHAR(120) NOT NULL,
    visit_on DATE NOT NULL,
    starts_at_minute INTEGER NOT NULL,
    ends_at_minute INTEGER,
    latitude_micro INTEGER,
    longitude_micro INTEGER,
    address VARCHAR(200) NOT NULL,
    capture_method VARCHAR(20) NOT NULL,
    person_id INTEGER,
    county_id INTEGER,
    home_latitude_micro INTEGER,
    home_longitude_micro INTEGER,
    contract_id INTEGER,
    worker_id INTEGER,
    reason_flags INTEGER NOT NULL DEFAULT 0
)"""


def _create_staging(session) -> None:
    session.execute(sa.text("DROP TABLE IF EXISTS care_visit_staging"))
    session.execute(sa.text(_STAGING_DDL))


#: The staging table as a SQL expression (it is no mapped model: it lives one transaction).
STAGING = sa.table("care_visit_staging", *(sa.column(name) for name in STAGING_COLUMNS))


def _staging_sink(session):
    """A function that loads chunks of rows into the staging table (`db_base.insert_rows`: COPY on
    PostgreSQL, a multi-row INSERT elsewhere)."""

    def load(rows):
        insert_rows(session, STAGING, [dict(zip(STAGING_COLUMNS, values)) for values in rows])

    return load


def _flag(bit_name: str, where: str) -> str:
    bit = REASON_BITS[bit_name]
    return f"UPDATE care_visit_staging SET reason_flags = reason_flags | {bit} WHERE {where}"


_NOT_REJECTED = f"(care_visit_staging.reason_flags & {REJECT_MASK}) = 0"
_OVERLAPS = """other.worker_id = care_visit_staging.worker_id
      AND other.starts_at_minute >= care_visit_staging.starts_at_minute - {longest}
      AND other.starts_at_minute <= care_visit_staging.ends_at_minute - 1
      AND other.ends_at_minute >= care_visit_staging.starts_at_minute + 1""".format(longest=VISIT_MINUTES_MAX)
#: cos(latitude) by its Taylor series (to x^6: under 0.1 % off at 60 degrees), so that SQLite needs no math functions.
_RADIANS = "(CAST(home_latitude_micro AS DOUBLE PRECISION) * 3.14159265358979 / 180000000.0)"
_COS = f"(1 - {_RADIANS}*{_RADIANS}/2 + {_RADIANS}*{_RADIANS}*{_RADIANS}*{_RADIANS}/24 " \
       f"- {_RADIANS}*{_RADIANS}*{_RADIANS}*{_RADIANS}*{_RADIANS}*{_RADIANS}/720)"

RULES: list[str] = [
    # Look-ups: the person (and home), the worker of this vendor, the vendor's assignment on the day.
    """UPDATE care_visit_staging SET person_id = p.id, county_id = p.county_id,
           home_latitude_micro = p.latitude_micro, home_longitude_micro = p.longitude_micro
       FROM care_persons p WHERE p.resident_id = care_visit_staging.resident_id""",
    """UPDATE care_visit_staging SET worker_id = w.id
       FROM care_workers w JOIN care_vendor_profiles vp ON vp.id = w.vendor_id
       WHERE vp.organisation_id = :vendor_id AND w.worker_number = care_visit_staging.worker_number""",
    """UPDATE care_visit_staging SET contract_id = a.contract_id
       FROM care_assignments a
       WHERE a.person_id = care_visit_staging.person_id AND a.vendor_id = :vendor_id
         AND a.valid_from <= care_visit_staging.visit_on
         AND (a.valid_to IS NULL OR a.valid_to >= care_visit_staging.visit_on)""",
    # Rejections.
    _flag("unknown_person", "person_id IS NULL"),
    _flag("not_assigned", "person_id IS NOT NULL AND contract_id IS NULL"),
    _flag("person_deceased", """person_id IS NOT NULL AND EXISTS (
        SELECT 1 FROM care_person_statuses st WHERE st.person_id = care_visit_staging.person_id
        AND st.status = 'deceased' AND st.effective_on < care_visit_staging.visit_on)"""),
    _flag("person_in_institution", """person_id IS NOT NULL AND (
        SELECT st.status FROM care_person_statuses st WHERE st.person_id = care_visit_staging.person_id
        AND st.effective_on <= care_visit_staging.visit_on ORDER BY st.effective_on DESC, st.id DESC LIMIT 1
        ) = 'in_institution'"""),
    _flag("unknown_worker", "worker_id IS NULL"),
    _flag("inactive_worker", """worker_id IS NOT NULL AND EXISTS (
        SELECT 1 FROM care_workers w WHERE w.id = care_visit_staging.worker_id
        AND (w.active_from > care_visit_staging.visit_on OR w.active_to < care_visit_staging.visit_on))"""),
    _flag("end_before_start", "ends_at_minute < starts_at_minute"),
    _flag("longer_than_24h", f"ends_at_minute - starts_at_minute > {VISIT_MINUTES_MAX}"),
    _flag("duplicate", """person_id IS NOT NULL AND (EXISTS (
        SELECT 1 FROM care_visits v WHERE v.person_id = care_visit_staging.person_id
        AND v.starts_at_minute = care_visit_staging.starts_at_minute
        AND v.worker_number = care_visit_staging.worker_number)
      OR EXISTS (
        SELECT 1 FROM care_visit_staging other WHERE other.person_id = care_visit_staging.person_id
        AND other.starts_at_minute = care_visit_staging.starts_at_minute
        AND other.worker_number = care_visit_staging.worker_number
        AND other.row_number < care_visit_staging.row_number))"""),
    # Holds (of visits not rejected).
    _flag("no_checkout", f"ends_at_minute IS NULL AND {_NOT_REJECTED}"),
    _flag("far_from_home", f"""{_NOT_REJECTED} AND latitude_micro IS NOT NULL AND home_latitude_micro IS NOT NULL
      AND home_longitude_micro IS NOT NULL
      AND (CAST(latitude_micro - home_latitude_micro AS DOUBLE PRECISION)
           * CAST(latitude_micro - home_latitude_micro AS DOUBLE PRECISION)
           + CAST(longitude_micro - home_longitude_micro AS DOUBLE PRECISION) * {_COS}
           * CAST(longitude_micro - home_longitude_micro AS DOUBLE PRECISION) * {_COS})
          * {METRES_PER_MICRO_DEGREE} * {METRES_PER_MICRO_DEGREE} > {HOME_RADIUS_METRES * HOME_RADIUS_METRES}"""),
    _flag("worker_overlap", f"""{_NOT_REJECTED} AND worker_id IS NOT NULL AND ends_at_minute IS NOT NULL AND (
        EXISTS (SELECT 1 FROM care_visit_staging other WHERE {_OVERLAPS}
                AND other.row_number <> care_visit_staging.row_number AND (other.reason_flags & {REJECT_MASK}) = 0)
     OR EXISTS (SELECT 1 FROM care_visits other WHERE {_OVERLAPS} AND other.state <> 'rejected'))"""),
    _flag("shorter_than_minimum", f"""{_NOT_REJECTED} AND contract_id IS NOT NULL AND ends_at_minute IS NOT NULL
      AND ends_at_minute - starts_at_minute < (
        SELECT CASE (SELECT a.care_level FROM care_assessments a WHERE a.person_id = care_visit_staging.person_id
                       AND a.assessed_on <= care_visit_staging.visit_on
                     ORDER BY a.assessed_on DESC, a.id DESC LIMIT 1)
               WHEN 'self_caring' THEN cv.minutes_min_self_caring
               WHEN 'partly_disabled' THEN cv.minutes_min_partly_disabled
               WHEN 'fully_disabled' THEN cv.minutes_min_fully_disabled ELSE 0 END
        FROM care_contract_versions cv WHERE cv.contract_id = care_visit_staging.contract_id
          AND cv.effective_on <= care_visit_staging.visit_on
        ORDER BY cv.effective_on DESC LIMIT 1)"""),
]

_INSERT_VISITS = f"""
INSERT INTO care_visits (vendor_id, upload_id, row_number, resident_id, person_id, county_id, contract_id,
    worker_number, worker_id, service_types, visit_on, starts_at_minute, ends_at_minute, latitude_micro,
    longitude_micro, address, capture_method, state, reason_flags, created_at)
SELECT :vendor_id, :upload_id, row_number, resident_id, person_id, county_id, contract_id, worker_number,
    worker_id, service_types, visit_on, starts_at_minute, ends_at_minute, latitude_micro, longitude_micro,
    address, capture_method,
    CASE WHEN (reason_flags & {REJECT_MASK}) <> 0 THEN 'rejected'
         WHEN (reason_flags & {HOLD_MASK}) <> 0 THEN 'held' ELSE 'verified' END,
    reason_flags, :created_at
FROM care_visit_staging ORDER BY row_number"""


def _verify_staged(session, vendor_id: int, upload_id: int | None) -> dict[str, int]:
    """Run every rule over the staging table and write the visits; {state: count}."""
    session.execute(sa.text("CREATE INDEX ix_care_visit_staging_worker ON care_visit_staging "
                            "(worker_id, starts_at_minute)"))
    session.execute(sa.text("CREATE INDEX ix_care_visit_staging_person ON care_visit_staging "
                            "(person_id, starts_at_minute)"))
    if is_postgres(session):
        session.execute(sa.text("ANALYZE care_visit_staging"))
    for statement in RULES:
        session.execute(sa.text(statement), {"vendor_id": vendor_id})
    session.execute(sa.text(_INSERT_VISITS), {"vendor_id": vendor_id, "upload_id": upload_id,
                                              "created_at": utcnow()})
    counts = {state.value: 0 for state in VisitState}
    counts.update(session.execute(sa.text(
        f"SELECT CASE WHEN (reason_flags & {REJECT_MASK}) <> 0 THEN 'rejected' "
        f"WHEN (reason_flags & {HOLD_MASK}) <> 0 THEN 'held' ELSE 'verified' END AS state, COUNT(*) "
        "FROM care_visit_staging GROUP BY 1")).all())
    session.execute(sa.text("DROP TABLE care_visit_staging"))
    return counts


def _lock_vendor(session, vendor_id: int) -> None:
    """One verification of a vendor at a time (see the module docstring)."""
    session.execute(sa.select(Organisation.id).where(Organisation.id == vendor_id).with_for_update())


def _vendor_of(actor: Actor) -> int:
    """The vendor a visit reporter acts for: a vendor user's own organisation."""
    if actor.organisation_kind != OrganisationKind.vendor or actor.organisation_id is None:
        raise NotFound("no vendor to report visits for")
    return actor.organisation_id


# --- uploads --------------------------------------------------------------------------------------

def preview_upload(session, who, data: bytes, filename: str = "") -> VisitFileReport:
    """Read and check a visit file; nothing is written. Format errors name their row and column."""
    actor = require(who, "care.visits.write")
    _vendor_of(actor)
    return _stream(data, filename)


def already_uploaded(session, who, sha256: str) -> VisitUpload | None:
    """The upload of this vendor that applied this file, if one did."""
    actor = require(who, "care.visits.read")
    return session.scalar(sa.select(VisitUpload).join(imports.ImportBatch,
                                                      imports.ImportBatch.id == VisitUpload.import_batch_id)
                          .where(imports.ImportBatch.kind == IMPORT_KIND, imports.ImportBatch.sha256 == sha256,
                                 _upload_scope(actor)))


@dataclass(frozen=True)
class UploadOutcome:
    report: VisitFileReport
    upload: VisitUpload
    applied_now: bool


def apply_upload(session, who, data: bytes, filename: str = "") -> UploadOutcome:
    """Record a visit file, all or nothing for format errors, once per file: every row becomes a visit
    with its state and reasons. A file with a format error raises `ImportHasErrors` (nothing written)."""
    actor = require(who, "care.visits.write")
    vendor_id = _vendor_of(actor)
    report_box: list[VisitFileReport] = []
    upload_box: list[VisitUpload] = []

    def apply_rows(session_, _rows, batch):
        _lock_vendor(session_, vendor_id)
        _create_staging(session_)
        report = _stream(data, filename, _staging_sink(session_))
        report_box.append(report)
        if not report.ok:
            raise imports.ImportHasErrors(
                f"the file has {report.error_count} errors; nothing was imported",
                row_errors=[error.as_dict() for error in report.errors], error_count=report.error_count)
        upload = VisitUpload(vendor_id=vendor_id, import_batch_id=batch.id, filename=report.filename,
                             row_count=report.row_count, uploaded_by_id=actor.user_id)
        session_.add(upload)
        session_.flush()
        counts = _verify_staged(session_, vendor_id, upload.id)
        upload.verified_count, upload.held_count, upload.rejected_count = (
            counts["verified"], counts["held"], counts["rejected"])
        batch.row_count = report.row_count
        upload_box.append(upload)

    empty = imports.ParsedImport(filename=filename, file_type="", encoding=None,
                                 sha256=hashlib.sha256(data).hexdigest(),
                                 size_bytes=len(data), row_count=0, rows=[], errors=[], column_mapping={})
    previous = already_uploaded(session, actor, empty.sha256)
    if previous is not None:
        return UploadOutcome(_stream(data, filename), previous, False)
    outcome = imports.apply_once(session, IMPORT_KIND, empty, apply_rows, actor.user_id)
    if not outcome.applied_now:
        # Recorded meanwhile (the same file sent twice at once: this call waited for the other's
        # claim), or an identical file of another vendor: refuse that rather than reveal it.
        previous = already_uploaded(session, actor, empty.sha256)
        if previous is not None:
            return UploadOutcome(_stream(data, filename), previous, False)
        raise ValidationError(_l("This file was uploaded before."), fields={"file": [_l("uploaded before")]})
    record_event(session, actor.user_id, "care_visits.upload", f"care_visit_upload:{upload_box[0].id}",
                 rows=report_box[0].row_count, sha256=empty.sha256)
    return UploadOutcome(report_box[0], upload_box[0], True)


def _upload_scope(actor: Actor):
    if actor.is_partner:
        return VisitUpload.vendor_id == actor.organisation_id
    if actor.city_wide:
        return sa.true()
    return sa.exists(sa.select(CareVisit.id).where(CareVisit.upload_id == VisitUpload.id,
                                                   CareVisit.county_id == actor.county_id))


def get_upload(session, who, upload_id: int) -> VisitUpload:
    actor = require(who, "care.visits.read")
    upload = session.scalar(sa.select(VisitUpload).where(VisitUpload.id == upload_id, _upload_scope(actor)))
    if upload is None:
        raise NotFound(f"no visit upload {upload_id}")
    return upload


def list_uploads(session, who, *, page: int = 1, per_page: int = 50) -> Page:
    actor = require(who, "care.visits.read")
    where = _upload_scope(actor)
    total = session.scalar(sa.select(sa.func.count(VisitUpload.id)).where(where))
    items = list(session.scalars(sa.select(VisitUpload).where(where).options(selectinload(VisitUpload.vendor))
                                 .order_by(VisitUpload.id.desc()).offset((page - 1) * per_page).limit(per_page)))
    return Page(items, page, per_page, total)


# --- one visit -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class VisitInput:
    resident_id: str
    worker_number: str
    visit_on: date
    start: str  # HH:MM
    end: str | None  # HH:MM or YYYY-MM-DD HH:MM; None: no check-out
    service_types: list
    capture_method: str
    latitude: str | None = None
    longitude: str | None = None
    address: str = ""


def record_visit(session, who, data: VisitInput) -> CareVisit:
    """Record one visit through the same rules as a file (a file of one row). Invalid fields: 422."""
    actor = require(who, "care.visits.write")
    vendor_id = _vendor_of(actor)
    values, fields = {}, {}
    cells = {"resident_id": data.resident_id, "worker_number": data.worker_number, "visit_on": data.visit_on,
             "start": data.start, "end": data.end, "service_types": ";".join(data.service_types or ()),
             "latitude": data.latitude, "longitude": data.longitude, "address": data.address or "",
             "capture_method": data.capture_method}
    for column in VISITS_SCHEMA.columns:
        raw = cells.get(column.key)
        if raw is None or isinstance(raw, str) and not raw.strip():
            if column.required:
                fields[column.key] = [_l("is required")]
            else:
                values[column.key] = column.default
            continue
        try:
            values[column.key] = raw if isinstance(raw, date) else column.parse(raw)
        except ValueError as error:
            fields[column.key] = [str(error)]
    if not fields:
        row = imports.Row(1, values)
        for problem in _row_problems(row, local_today()):
            fields.setdefault(problem.key, []).append(problem.message)
    if fields:
        raise ValidationError("Some fields are invalid.", fields=fields)
    _lock_vendor(session, vendor_id)
    _create_staging(session)
    _staging_sink(session)([_staged_values(row)])
    session.flush()
    _verify_staged(session, vendor_id, None)
    visit = session.scalar(sa.select(CareVisit).where(CareVisit.vendor_id == vendor_id,
                                                      CareVisit.upload_id.is_(None))
                           .order_by(CareVisit.id.desc()).limit(1))
    record_event(session, actor.user_id, "care_visit.record", f"care_visit:{visit.id}", state=visit.state.value)
    return visit


# --- reading visits --------------------------------------------------------------------------------

def visit_scope(actor: Actor):
    """A SQL condition on CareVisit for what the actor may see."""
    if actor.is_partner:
        return CareVisit.vendor_id == actor.organisation_id if actor.organisation_kind == OrganisationKind.vendor \
            else sa.false()
    if actor.city_wide:
        return sa.true()
    return CareVisit.county_id == actor.county_id


def get_visit(session, who, visit_id: int) -> CareVisit:
    actor = require(who, "care.visits.read")
    visit = session.scalar(sa.select(CareVisit).where(CareVisit.id == visit_id, visit_scope(actor))
                           .options(selectinload(CareVisit.person), selectinload(CareVisit.worker),
                                    selectinload(CareVisit.resolution), selectinload(CareVisit.vendor)))
    if visit is None:
        raise NotFound(f"no care visit {visit_id}")
    return visit


def list_visits(session, who, *, state: VisitState | None = None, reason: str | None = None,
                upload_id: int | None = None, month: date | None = None, page: int = 1,
                per_page: int = 50) -> Page:
    """Visits in sight, newest first; `state`, `reason` (a code), `upload_id` and `month` narrow them.
    A vendor's exceptions list is `state=held` (to fix) or `rejected` (to learn why)."""
    actor = require(who, "care.visits.read")
    conditions = [visit_scope(actor)]
    if state is not None:
        conditions.append(CareVisit.state == VisitState(state))
    if reason:
        if reason not in REASON_BITS:
            raise ValidationError("Some fields are invalid.", fields={"reason": [_l("unknown reason code")]})
        conditions.append(CareVisit.reason_flags.op("&")(REASON_BITS[reason]) != 0)
    if upload_id is not None:
        conditions.append(CareVisit.upload_id == upload_id)
    if month is not None:
        conditions.extend(_month_range(month))
    where = sa.and_(*conditions)
    total = session.scalar(sa.select(sa.func.count(CareVisit.id)).where(where))
    items = list(session.scalars(sa.select(CareVisit).where(where)
                                 .options(selectinload(CareVisit.person), selectinload(CareVisit.worker))
                                 .order_by(CareVisit.visit_on.desc(), CareVisit.id.desc())
                                 .offset((page - 1) * per_page).limit(per_page)))
    return Page(items, page, per_page, total)


def _month_range(month: date):
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return [CareVisit.visit_on >= first, CareVisit.visit_on < following]


# --- resolving a held visit ------------------------------------------------------------------------

def resolve_visit(session, who, visit_id: int, resolution_code: str, reason: str) -> CareVisit:
    """Resolve a held visit to verified or rejected (by the code), with the reason; once. A vendor only
    within `RESOLVE_DAYS` of the visit; reviewers and admins at any time."""
    actor = require(who, "care.visits.resolve")
    visit = session.scalar(sa.select(CareVisit).where(CareVisit.id == visit_id, visit_scope(actor))
                           .with_for_update())
    if visit is None:
        raise NotFound(f"no care visit {visit_id}")
    reason = (reason or "").strip()
    fields = {}
    try:
        code = ResolutionCode(resolution_code)
    except ValueError:
        fields["resolution_code"] = [_l("choose a resolution")]
    if not reason:
        fields["reason"] = [_l("say why")]
    elif len(reason) > REASON_MAX:
        fields["reason"] = [_l("at most %(count)s characters", count=REASON_MAX)]
    if fields:
        raise ValidationError("Some fields are invalid.", fields=fields)
    if actor.is_partner and local_today() > visit.visit_on + timedelta(days=RESOLVE_DAYS):
        raise ResolutionTooLate()
    state = VISIT_MACHINE.move(session, visit, RESOLUTION_ACTIONS[code], user_id=actor.user_id, reason=reason,
                               target=f"care_visit:{visit.id}", resolution_code=code.value)
    session.add(VisitResolution(visit_id=visit.id, resolution_code=code, reason=reason, state_to=state,
                                resolved_by_id=actor.user_id))
    session.flush()
    return visit


# --- coverage ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CoverageRow:
    """One county and vendor in a month."""

    county_code: str
    county_name: str
    vendor_code: str
    vendor_name: str
    persons: int  # assigned to the vendor on some day of the month
    persons_covered: int  # got at least their minimum of verified visits
    persons_without_visit: int  # no verified or held visit at all
    visits: dict  # state -> count
    reasons: dict  # reason code -> count of visits

    @property
    def visit_count(self) -> int:
        return sum(self.visits.values())

    def exception_rate(self, code: str) -> float:
        return self.reasons.get(code, 0) / self.visit_count if self.visit_count else 0.0

    @property
    def exception_count(self) -> int:
        return self.visits.get("held", 0) + self.visits.get("rejected", 0)


def last_month() -> date:
    """The first day of the month before this one: the month whose files are in."""
    return (local_today().replace(day=1) - timedelta(days=1)).replace(day=1)


def coverage(session, who, month: date, *, county_code: str | None = None) -> list[CoverageRow]:
    """Per county and vendor in `month`: persons assigned, covered (at least the contract's minimum of
    verified visits for their care level), without any visit, visits by state, visits by reason.
    A vendor sees its own rows; a county reviewer its county's."""
    actor = require(who, "care.visits.read")
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    last = following - timedelta(days=1)
    params = {"first": first, "last": last, "following": following}
    scope = ""
    if actor.is_partner:
        scope += " AND a.vendor_id = :scope_vendor"
        params["scope_vendor"] = actor.organisation_id if actor.organisation_kind == OrganisationKind.vendor else -1
    elif not actor.city_wide:
        scope += " AND p.county_id = :scope_county"
        params["scope_county"] = actor.county_id
    if county_code:
        county_id = session.scalar(sa.select(Region.id).where(Region.code == county_code,
                                                             Region.level == RegionLevel.county))
        if county_id is None or not (actor.city_wide or actor.is_partner or actor.county_id == county_id):
            raise NotFound(_l("No county %(code)s that you may see.", code=county_code))
        scope += " AND p.county_id = :county_id"
        params["county_id"] = county_id
    # Per person and vendor of the month: the minimum of visits (the contract version and care level
    # on the first day of the assignment in the month) and the verified / any visits they got.
    persons_sql = f"""
    WITH assigned AS (
        SELECT a.person_id, a.vendor_id, a.contract_id, p.county_id,
               CASE WHEN a.valid_from > :first THEN a.valid_from ELSE :first END AS day
        FROM care_assignments a JOIN care_persons p ON p.id = a.person_id
        WHERE a.valid_from <= :last AND (a.valid_to IS NULL OR a.valid_to >= :first) {scope}
    ), minimums AS (
        SELECT s.person_id, s.vendor_id, s.county_id, COALESCE((
            SELECT CASE (SELECT ca.care_level FROM care_assessments ca WHERE ca.person_id = s.person_id
                           AND ca.assessed_on <= :last ORDER BY ca.assessed_on DESC, ca.id DESC LIMIT 1)
                   WHEN 'self_caring' THEN cv.visits_min_self_caring
                   WHEN 'partly_disabled' THEN cv.visits_min_partly_disabled
                   WHEN 'fully_disabled' THEN cv.visits_min_fully_disabled ELSE 0 END
            FROM care_contract_versions cv WHERE cv.contract_id = s.contract_id AND cv.effective_on <= :last
            ORDER BY cv.effective_on DESC LIMIT 1), 0) AS visits_min
        FROM assigned s
    ), got AS (
        SELECT v.person_id, v.vendor_id, SUM(CASE WHEN v.state = 'verified' THEN 1 ELSE 0 END) AS verified,
               SUM(CASE WHEN v.state <> 'rejected' THEN 1 ELSE 0 END) AS any_visit
        FROM care_visits v WHERE v.visit_on >= :first AND v.visit_on < :following AND v.person_id IS NOT NULL
        GROUP BY v.person_id, v.vendor_id
    )
    SELECT m.county_id, m.vendor_id, COUNT(DISTINCT m.person_id),
           COUNT(DISTINCT CASE WHEN COALESCE(g.verified, 0) >= m.visits_min THEN m.person_id END),
           COUNT(DISTINCT CASE WHEN COALESCE(g.any_visit, 0) = 0 THEN m.person_id END)
    FROM minimums m LEFT JOIN got g ON g.person_id = m.person_id AND g.vendor_id = m.vendor_id
    GROUP BY m.county_id, m.vendor_id"""
    people = {(county, vendor): (total, covered, none) for county, vendor, total, covered, none
              in session.execute(sa.text(persons_sql), params).all()}
    visit_scope_sql = scope.replace("a.vendor_id", "v.vendor_id").replace("p.county_id", "v.county_id")
    reason_sums = ", ".join(f"SUM(CASE WHEN (v.reason_flags & {bit}) <> 0 THEN 1 ELSE 0 END)"
                            for bit in REASON_BITS.values())
    visits_sql = f"""
    SELECT v.county_id, v.vendor_id, SUM(CASE WHEN v.state = 'verified' THEN 1 ELSE 0 END),
           SUM(CASE WHEN v.state = 'held' THEN 1 ELSE 0 END), SUM(CASE WHEN v.state = 'rejected' THEN 1 ELSE 0 END),
           {reason_sums}
    FROM care_visits v WHERE v.visit_on >= :first AND v.visit_on < :following AND v.county_id IS NOT NULL
    {visit_scope_sql}
    GROUP BY v.county_id, v.vendor_id"""
    visits = {(row[0], row[1]): row[2:] for row in session.execute(sa.text(visits_sql), params).all()}
    keys = set(people) | set(visits)
    counties = {id_: (code, name) for id_, code, name in session.execute(
        sa.select(Region.id, Region.code, Region.name).where(Region.id.in_({key[0] for key in keys})))} \
        if keys else {}
    vendors = {id_: (code, name) for id_, code, name in session.execute(
        sa.select(Organisation.id, Organisation.code, Organisation.name)
        .where(Organisation.id.in_({key[1] for key in keys})))} if keys else {}
    rows = []
    for key in keys:
        total, covered, none = people.get(key, (0, 0, 0))
        counted = visits.get(key, (0,) * (3 + len(REASON_BITS)))
        rows.append(CoverageRow(
            county_code=counties[key[0]][0], county_name=counties[key[0]][1], vendor_code=vendors[key[1]][0],
            vendor_name=vendors[key[1]][1], persons=total, persons_covered=covered, persons_without_visit=none,
            visits={"verified": int(counted[0] or 0), "held": int(counted[1] or 0),
                    "rejected": int(counted[2] or 0)},
            reasons={code: int(count or 0) for code, count in zip(REASON_BITS, counted[3:]) if count}))
    rows.sort(key=lambda row: (row.county_code, row.vendor_code))
    return rows


def masked_resident_id(visit: CareVisit) -> str:
    return mask_id_number(visit.resident_id)


__all__ = ["CAPTURE_LABELS", "IMPORT_KIND", "REJECT_REASONS", "HOLD_REASONS", "SERVICE_LABELS", "VISITS_SCHEMA",
           "CoverageRow", "ResolutionTooLate", "UploadOutcome", "VisitFileReport", "VisitInput", "already_uploaded",
           "apply_upload", "coverage", "get_upload", "get_visit", "list_uploads", "list_visits", "local_datetime",
           "preview_upload", "record_visit", "resolve_visit", "visit_scope"]

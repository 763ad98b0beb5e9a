"""Who may open what: every protected endpoint (web and API) against each of the six roles.

How to read and extend it: each `Case` is one endpoint and method with the status each
role gets, played by the demo user of that role (seed-demo), and the status without a
login or token. Add a row for every endpoint a feature adds (a test below fails, naming
it, while one is missing). Expectations follow the product's rules:

- 200 (or 302 after a form) where the role may act;
- 403 where the role may never do this (e.g. a charity user on the admin page);
- 404 where the role may do this but the record is outside its sight (another
  organisation's record), exactly like a record that does not exist.

A POST row runs for every role on the same database, so its body must be safe to repeat
(refused requests write nothing; allowed ones act on the caller's own records).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

ROLES = ("admin", "finance", "reviewer", "charity", "vendor", "auditor")

#: The demo user who plays each role.
PLAYERS = {"admin": "admin", "finance": "finance", "reviewer": "reviewer", "charity": "charity_yutai",
           "vendor": "vendor", "auditor": "auditor"}

#: Endpoints anyone may open without signing in.
PUBLIC_ENDPOINTS = {"static", "auth.login", "auth.set_language", "web.healthz", "api.openapi_json", "api.docs"}


def everyone(status: int = 200) -> dict:
    return {role: status for role in ROLES}


def only(*roles: str, status: int = 200, others: int = 403) -> dict:
    return {role: (status if role in roles else others) for role in ROLES}


def statuses(**by_role: int) -> dict:
    assert set(by_role) == set(ROLES), f"give a status for each of {ROLES}"
    return by_role


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    expected: dict = field(hash=False)
    anonymous: int = 0  # 0: the default (302 to the login page on the web, 401 on the API)
    json: dict | None = field(default=None, hash=False)
    data: dict | None = field(default=None, hash=False)

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def anonymous_status(self) -> int:
        return self.anonymous or (401 if self.is_api else 302)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


# Organisation codes from seed-demo: CSH-370827 is charity_yutai's own, CSH-370811 another county's
# charity, HL-370800-01 the vendor user's own company.
WEB = [
    Case("GET", "/", everyone(200)),
    Case("GET", "/organisation", everyone(200)),
    Case("GET", "/organisations/CSH-370811", statuses(admin=200, finance=200, reviewer=200, charity=404,
                                                      vendor=404, auditor=200)),
    Case("GET", "/organisations/CSH-370827", statuses(admin=200, finance=200, reviewer=200, charity=200,
                                                      vendor=404, auditor=200)),
    Case("GET", "/admin/users", only("admin")),
    Case("GET", "/account/tokens", everyone(200)),
    Case("POST", "/account/tokens", everyone(200), data={"label": "matrix"}),
    Case("POST", "/account/tokens/999999/revoke", everyone(404)),
    Case("POST", "/logout", everyone(302)),
]

API = [
    Case("GET", "/api/v1/me", everyone(200)),
    Case("PATCH", "/api/v1/me", everyone(200), json={"locale": "zh_CN"}),
    Case("GET", "/api/v1/organisations", everyone(200)),
    Case("GET", "/api/v1/organisations/CSH-370811", statuses(admin=200, finance=200, reviewer=200, charity=404,
                                                             vendor=404, auditor=200)),
    Case("GET", "/api/v1/organisations/HL-370800-01", statuses(admin=200, finance=200, reviewer=200, charity=404,
                                                               vendor=200, auditor=200)),
    Case("GET", "/api/v1/tokens", everyone(200)),
    Case("POST", "/api/v1/tokens/revoke", everyone(404), json={"prefix": "jsj_nothing"}),
]

#: Feature rows are appended here (funds, reports, ...), in the same form.
FEATURES: list[Case] = []

# The fund ledger: finance writes; admin, reviewers and auditors read; charity and vendor users get
# 403 everywhere. Write rows send incomplete bodies (or point at a hold / month that does not
# exist), so the roles allowed through get 422 / 404 / 400 and nothing is written.
FUND_VOUCHER = "JZ-2026-370827-000001"  # Yutai's opening receipt in seed-demo
FUND_READERS = ("admin", "finance", "reviewer", "auditor")
FEATURES += [
    Case("GET", "/funds/", only(*FUND_READERS)),
    Case("GET", "/funds/370827", only(*FUND_READERS)),
    Case("GET", f"/funds/entries/{FUND_VOUCHER}", only(*FUND_READERS)),
    Case("GET", "/funds/entries", only(*FUND_READERS)),
    Case("GET", "/funds/picker", only(*FUND_READERS)),
    Case("GET", "/funds/trial-balance", only(*FUND_READERS)),
    Case("GET", "/funds/verify", only(*FUND_READERS)),
    Case("GET", "/funds/periods", only(*FUND_READERS)),
    Case("GET", "/funds/370827/receipt", only("finance")),
    Case("POST", "/funds/370827/receipt", only("finance", status=422), data={}),
    Case("GET", "/funds/allocation", only("finance")),
    Case("POST", "/funds/allocation", only("finance", status=422), data={}),
    Case("GET", "/funds/370827/disbursement", only("finance")),
    Case("POST", "/funds/370827/disbursement", only("finance", status=422), data={}),
    Case("GET", "/funds/370827/hold", only("finance")),
    Case("POST", "/funds/370827/hold", only("finance", status=422), data={}),
    Case("GET", "/funds/holds/999999/post", only("finance", status=404)),
    Case("POST", "/funds/holds/999999/post", only("finance", status=404), data={}),
    Case("GET", "/funds/holds/999999/void", only("finance", status=404)),
    Case("POST", "/funds/holds/999999/void", only("finance", status=404), data={}),
    Case("POST", f"/funds/entries/{FUND_VOUCHER}/reverse", only("finance", status=422), data={}),
    Case("POST", "/funds/periods/close", only("finance", "admin", status=422), data={"month": "2026-13"}),
    Case("POST", "/funds/periods/2026-11/reopen", only("admin", status=422), data={}),
    Case("GET", "/api/v1/funds", only(*FUND_READERS)),
    Case("GET", "/api/v1/funds/370827", only(*FUND_READERS)),
    Case("GET", "/api/v1/funds/370827/entries", only(*FUND_READERS)),
    Case("GET", "/api/v1/funds/370827/holds", only(*FUND_READERS)),
    Case("GET", f"/api/v1/entries/{FUND_VOUCHER}", only(*FUND_READERS)),
    Case("GET", "/api/v1/trial-balance", only(*FUND_READERS)),
    Case("GET", "/api/v1/journal/verify", only(*FUND_READERS)),
    Case("GET", "/api/v1/periods", only(*FUND_READERS)),
    Case("GET", "/api/v1/periods/2026-01/checklist", only("finance", "admin")),
    Case("POST", "/api/v1/funds/370827/receipts", only("finance", status=422), json={}),
    Case("POST", "/api/v1/allocations", only("finance", status=422), json={}),
    Case("POST", "/api/v1/funds/370827/disbursements", only("finance", status=422), json={}),
    Case("POST", "/api/v1/funds/370827/holds", only("finance", status=422), json={}),
    Case("POST", "/api/v1/holds/999999/post", only("finance", status=400), json={}),  # no Idempotency-Key
    Case("POST", "/api/v1/holds/999999/void", only("finance", status=404), json={}),
    Case("POST", f"/api/v1/entries/{FUND_VOUCHER}/reverse", only("finance", status=422), json={}),
    Case("POST", "/api/v1/periods/2026-13/close", only("finance", "admin", status=404)),
    Case("POST", "/api/v1/periods/2026-13/reopen", only("admin", status=404), json={}),
]

# Audit reports: admin, finance, reviewers and auditors; charity and vendor users get 403. The rows
# send no parameters (the allowed roles get 400 naming them) or name a job that does not exist.
REPORT_ROLES = ("admin", "finance", "reviewer", "auditor")
FEATURES += [
    Case("GET", "/reports/", only(*REPORT_ROLES)),
    Case("GET", "/reports/generate", only(*REPORT_ROLES, status=400)),
    Case("GET", "/reports/fund-statement", only(*REPORT_ROLES, status=400)),
    Case("GET", "/reports/log", only(*REPORT_ROLES)),
    Case("GET", "/reports/jobs/nothing", only(*REPORT_ROLES, status=404)),
    Case("GET", "/reports/jobs/nothing/status", only(*REPORT_ROLES, status=404)),
    Case("GET", "/reports/jobs/nothing/file", only(*REPORT_ROLES, status=404)),
    Case("GET", "/api/v1/reports/fund-statement.pdf", only(*REPORT_ROLES, status=400)),
    Case("GET", "/api/v1/reports/journal-register.pdf", only(*REPORT_ROLES, status=400)),
    Case("GET", "/api/v1/reports/integrity-certificate.pdf", only(*REPORT_ROLES, status=400)),
    Case("GET", "/api/v1/reports/log", only(*REPORT_ROLES)),
    Case("GET", "/api/v1/reports/jobs/nothing", only(*REPORT_ROLES, status=404)),
    Case("GET", "/api/v1/reports/jobs/nothing/file", only(*REPORT_ROLES, status=404)),
]

# User administration: only admins; the other roles get 403 before anything is looked up. The write
# rows name a user that does not exist (admin: 404) or send an empty form (admin: 422), so nothing is
# written; everyone may open and submit their own change-password page.
FEATURES += [
    Case("GET", "/account/password", everyone(200)),
    Case("POST", "/account/password", everyone(422), data={}),
    Case("GET", "/admin/users/new", only("admin")),
    Case("POST", "/admin/users/new", only("admin", status=422), data={}),
    Case("GET", "/admin/users/auditor", only("admin")),
    Case("POST", "/admin/users/nobody_here/disable", only("admin", status=404), data={}),
    Case("POST", "/admin/users/nobody_here/enable", only("admin", status=404), data={}),
    Case("POST", "/admin/users/nobody_here/unlock", only("admin", status=404), data={}),
    Case("POST", "/admin/users/nobody_here/reset-password", only("admin", status=404), data={}),
    Case("GET", "/admin/organisations/new", only("admin")),
    Case("POST", "/admin/organisations/new", only("admin", status=422), data={}),
    Case("POST", "/api/v1/me/password", everyone(422), json={}),
    Case("GET", "/api/v1/users", only("admin")),
    Case("POST", "/api/v1/users", only("admin", status=422), json={}),
    Case("GET", "/api/v1/users/auditor", only("admin")),
    Case("POST", "/api/v1/users/nobody_here/disable", only("admin", status=404)),
    Case("POST", "/api/v1/users/nobody_here/enable", only("admin", status=404)),
    Case("POST", "/api/v1/users/nobody_here/unlock", only("admin", status=404)),
    Case("POST", "/api/v1/users/nobody_here/password-reset", only("admin", status=404)),
    Case("POST", "/api/v1/organisations", only("admin", status=422), json={}),
]

# The beneficiary registry: reviewers and charity users register and import; admin, finance and
# auditors read; finance and reviewers see full numbers (audited); vendors get 403 everywhere.
# seed-demo's person 1 is 韩进 of Yutai (charity_yutai's county), person 3 lives in Sishui (370831).
# Write rows send an empty body (422), so nothing is registered or imported.
AID_READERS = ("admin", "finance", "reviewer", "charity", "auditor")
OUT_OF_COUNTY = statuses(admin=200, finance=200, reviewer=200, charity=404, vendor=403, auditor=200)
FEATURES += [
    Case("GET", "/aid/persons", only(*AID_READERS)),
    Case("GET", "/aid/persons/1", only(*AID_READERS)),
    Case("GET", "/aid/persons/3", OUT_OF_COUNTY),
    Case("POST", "/aid/persons/3/reveal", only("finance", "reviewer"), data={}),
    Case("GET", "/aid/persons/new", only("reviewer", "charity")),
    Case("POST", "/aid/persons/new", only("reviewer", "charity", status=422), data={}),
    Case("GET", "/aid/persons/import", only("reviewer", "charity")),
    Case("POST", "/aid/persons/import", only("reviewer", "charity", status=422), data={}),
    Case("POST", "/aid/persons/import/apply", only("reviewer", "charity", status=404), data={}),
    Case("GET", "/api/v1/aid/persons", only(*AID_READERS)),
    Case("GET", "/api/v1/aid/persons/1", only(*AID_READERS)),
    Case("GET", "/api/v1/aid/persons/3", OUT_OF_COUNTY),
    Case("POST", "/api/v1/aid/persons", only("reviewer", "charity", status=422), json={}),
    Case("POST", "/api/v1/aid/persons/import", only("reviewer", "charity", status=422), json={}),
    Case("POST", "/api/v1/aid/persons/3/reveal", only("finance", "reviewer")),
    # Changes to a person: registry writers only. Web rows send an empty form (422: no one-time key);
    # API rows send an empty body (422 where fields are required) or none without an Idempotency-Key
    # (400), so nothing is changed.
    Case("POST", "/aid/persons/1/contact", only("reviewer", "charity", status=422), data={}),
    Case("POST", "/aid/persons/1/bank-card", only("reviewer", "charity", status=422), data={}),
    Case("POST", "/aid/persons/1/categories", only("reviewer", "charity", status=422), data={}),
    Case("POST", "/aid/persons/1/categories/1/end", only("reviewer", "charity", status=422), data={}),
    Case("POST", "/aid/persons/1/household/head", only("reviewer", "charity", status=422), data={}),
    Case("POST", "/aid/persons/1/household/members", only("reviewer", "charity", status=422), data={}),
    Case("POST", "/aid/persons/1/household/members/2/remove", only("reviewer", "charity", status=422), data={}),
    Case("PATCH", "/api/v1/aid/persons/1/contact", only("reviewer", "charity", status=400), json={}),
    Case("POST", "/api/v1/aid/persons/1/categories", only("reviewer", "charity", status=422), json={}),
    Case("POST", "/api/v1/aid/persons/1/categories/1/end", only("reviewer", "charity", status=422), json={}),
    Case("PATCH", "/api/v1/aid/persons/1/bank-card", only("reviewer", "charity", status=422), json={}),
    Case("POST", "/api/v1/aid/persons/1/household/head", only("reviewer", "charity", status=400), json={}),
    Case("POST", "/api/v1/aid/persons/1/household/members", only("reviewer", "charity", status=422), json={}),
    Case("POST", "/api/v1/aid/persons/1/household/members/2/remove", only("reviewer", "charity", status=400)),
    # A document answers only those who may see its record; the demo attaches none: no such document.
    Case("GET", "/documents/1", everyone(404)),
]

# Care procurement. Demo ids: vendor 1 is the demo vendor's own (HL-370800-01), vendor 2 another; workers 1-12
# are vendor 1's, 13-24 vendor 2's; contract 1 (Rencheng) is vendor 1's, contract 5 (Zoucheng) vendor 2's.
CARE_READERS = ("admin", "finance", "reviewer", "auditor", "vendor")
NOT_THE_VENDORS = statuses(admin=200, finance=200, reviewer=200, charity=403, vendor=404, auditor=200)
FEATURES += [
    Case("GET", "/vendors", only(*CARE_READERS)),
    Case("GET", "/vendors/new", only("admin", "finance")),
    Case("POST", "/vendors/new", only("admin", "finance", status=422), data={}),
    Case("GET", "/vendors/1", only(*CARE_READERS)),
    Case("GET", "/vendors/2", NOT_THE_VENDORS),
    Case("POST", "/vendors/1/status", only("admin", "finance", status=302), data={}),
    Case("GET", "/vendors/1/edit", only("admin", "finance")),
    Case("POST", "/vendors/1/edit", only("admin", "finance", status=422), data={}),
    Case("GET", "/vendors/1/workers/new", only("admin", "vendor")),
    Case("GET", "/vendors/2/workers/new", statuses(admin=200, finance=403, reviewer=403, charity=403, vendor=404,
                                                   auditor=403)),
    Case("POST", "/vendors/1/workers/new", only("admin", "vendor", status=422), data={}),
    Case("GET", "/vendors/1/workers/import", only("admin", "vendor")),
    Case("POST", "/vendors/1/workers/import", only("admin", "vendor", status=422), data={}),
    Case("POST", "/vendors/1/workers/import/apply", only("admin", "vendor", status=404), data={}),
    Case("GET", "/care/budgets", only("admin", "finance", "reviewer", "auditor")),
    Case("GET", "/care/contracts", only(*CARE_READERS)),
    Case("GET", "/care/contracts/new", only("admin", "finance")),
    Case("POST", "/care/contracts/new", only("admin", "finance", status=422), data={}),
    Case("GET", "/care/contracts/1", only(*CARE_READERS)),
    Case("GET", "/care/contracts/5", NOT_THE_VENDORS),
    Case("POST", "/care/contracts/1/activate", only("admin", "finance", status=302), data={}),
    Case("GET", "/care/contracts/1/amend", only("admin", "finance")),
    Case("POST", "/care/contracts/1/amend", only("admin", "finance", status=422), data={}),
    Case("GET", "/api/v1/vendors", only(*CARE_READERS)),
    Case("POST", "/api/v1/vendors", only("admin", "finance", status=422), json={}),
    Case("GET", "/api/v1/vendors/1", only(*CARE_READERS)),
    Case("GET", "/api/v1/vendors/2", NOT_THE_VENDORS),
    Case("POST", "/api/v1/vendors/1/status", only("admin", "finance", status=422), json={}),
    Case("PUT", "/api/v1/vendors/1", only("admin", "finance", status=422), json={}),
    Case("GET", "/api/v1/vendors/1/workers", only(*CARE_READERS)),
    Case("GET", "/api/v1/vendors/2/workers", NOT_THE_VENDORS),
    Case("POST", "/api/v1/vendors/1/workers", only("admin", "vendor", status=422), json={}),
    Case("GET", "/api/v1/vendors/workers/1", only(*CARE_READERS)),
    Case("GET", "/api/v1/vendors/workers/13", NOT_THE_VENDORS),
    Case("POST", "/api/v1/vendors/1/workers/import", only("admin", "vendor", status=422), json={}),
    Case("GET", "/api/v1/care/budgets", only("admin", "finance", "reviewer", "auditor")),
    Case("GET", "/api/v1/care/contracts", only(*CARE_READERS)),
    Case("POST", "/api/v1/care/contracts", only("admin", "finance", status=422), json={}),
    Case("GET", "/api/v1/care/contracts/1", only(*CARE_READERS)),
    Case("GET", "/api/v1/care/contracts/5", NOT_THE_VENDORS),
    Case("POST", "/api/v1/care/contracts/1/amendments", only("admin", "finance", status=422), json={}),
    *[Case("POST", f"/api/v1/care/contracts/1/{move}", only("admin", "finance", status=422), json={"reason": 5})
      for move in ("activate", "suspend", "resume", "end")],
]

# Tier policies and applications: charities (their own organisation's) and every other role but vendors
# read; charities and reviewers file; reviewers decide; finance pays; admins write policies. In
# seed-demo, application 1 is 韩进's (filed by charity_yutai), application 15 a Rencheng charity's;
# policy 1 is the city fund's (every county sees it), policy 2 Rencheng's. Write rows send an empty
# body (422) or no Idempotency-Key (400) or name no application (404), so nothing is written.
APPLICATION = "/api/v1/aid/applications"
FEATURES += [
    Case("GET", APPLICATION, only(*AID_READERS)),
    Case("GET", f"{APPLICATION}/1", only(*AID_READERS)),
    Case("GET", f"{APPLICATION}/15", OUT_OF_COUNTY),
    Case("GET", f"{APPLICATION}/1/history", only(*AID_READERS)),
    Case("GET", "/api/v1/aid/queue", only("reviewer")),
    Case("GET", "/api/v1/aid/paperwork/overdue", only(*AID_READERS)),
    Case("GET", "/api/v1/aid/persons/1/year-to-date", only(*AID_READERS)),
    Case("GET", "/api/v1/aid/persons/3/year-to-date", OUT_OF_COUNTY),
    Case("GET", "/api/v1/aid/policies", only(*AID_READERS)),
    Case("GET", "/api/v1/aid/policies/1", only(*AID_READERS)),
    Case("GET", "/api/v1/aid/policies/2", OUT_OF_COUNTY),
    Case("GET", "/api/v1/aid/policies/1/suggestion", only(*AID_READERS, status=422)),  # no out_of_pocket
    Case("POST", "/api/v1/aid/policies", only("admin", status=422), json={}),
    Case("POST", "/api/v1/aid/policies/1/versions", only("admin", status=422), json={}),
    Case("POST", APPLICATION, only("reviewer", "charity", status=422), json={}),
    Case("POST", f"{APPLICATION}/999999/submit", only("reviewer", "charity", status=400)),
    Case("POST", f"{APPLICATION}/999999/resubmit", only("reviewer", "charity", status=400), json={}),
    Case("POST", f"{APPLICATION}/999999/withdraw", only("reviewer", "charity", status=400), json={}),
    Case("POST", f"{APPLICATION}/999999/start-review", only("reviewer", status=400)),
    Case("POST", f"{APPLICATION}/999999/approve", only("reviewer", status=400), json={}),
    Case("POST", f"{APPLICATION}/999999/return", only("reviewer", status=422), json={}),
    Case("POST", f"{APPLICATION}/999999/reject", only("reviewer", status=422), json={}),
    Case("POST", f"{APPLICATION}/999999/escalate", only("reviewer", status=422), json={}),
    Case("POST", f"{APPLICATION}/999999/cancel-approval", only("reviewer", status=422), json={}),
    Case("POST", f"{APPLICATION}/999999/pay", only("finance", status=400)),
    Case("POST", f"{APPLICATION}/pay", only("finance", status=422), json={}),
    Case("POST", f"{APPLICATION}/999999/follow-up", only("reviewer", "charity", status=422), json={}),
    Case("POST", f"{APPLICATION}/999999/paperwork-complete", only("reviewer", status=400)),
]

# Supported persons under home care: admin, finance, auditors and reviewers read, vendors the persons
# they care or cared for; reviewers and admins record; charity users get 403 everywhere. seed-demo's
# supported person 1 lives in Rencheng, cared for by HL-370800-01 (the demo vendor's own), person 9441
# in Zoucheng by HL-370800-02. Write rows send an empty body (422), so nothing is recorded.
FEATURES += [
    Case("GET", "/care/persons", only(*CARE_READERS)),
    Case("GET", "/care/persons/1", only(*CARE_READERS)),
    Case("GET", "/care/persons/9441", NOT_THE_VENDORS),
    Case("POST", "/care/persons/1/assessments", only("admin", "reviewer", status=422), data={}),
    Case("POST", "/care/persons/1/statuses", only("admin", "reviewer", status=422), data={}),
    Case("POST", "/care/persons/1/assignments", only("admin", "reviewer", status=422), data={}),
    Case("GET", "/care/persons/import", only("admin", "reviewer")),
    Case("POST", "/care/persons/import", only("admin", "reviewer", status=422), data={}),
    Case("POST", "/care/persons/import/apply", only("admin", "reviewer", status=404), data={}),
    Case("GET", "/api/v1/care/persons", only(*CARE_READERS)),
    Case("GET", "/api/v1/care/persons/1", only(*CARE_READERS)),
    Case("GET", "/api/v1/care/persons/9441", NOT_THE_VENDORS),
    Case("POST", "/api/v1/care/persons/1/assessments", only("admin", "reviewer", status=422), json={}),
    Case("POST", "/api/v1/care/persons/1/statuses", only("admin", "reviewer", status=422), json={}),
    Case("POST", "/api/v1/care/persons/1/assignments", only("admin", "reviewer", status=422), json={}),
    Case("POST", "/api/v1/care/persons/import", only("admin", "reviewer", status=422), json={}),
]

# The applications' web pages: the same rules as the API. Application 1 is 韩进's (paid: not editable,
# so its edit page leads back to it), 15 a Rencheng charity's; write rows name no application (404)
# or send an empty form (422), so nothing is written.
WEB_APPLICATION = "/aid/applications"
FEATURES += [
    Case("GET", WEB_APPLICATION, only(*AID_READERS)),
    Case("GET", f"{WEB_APPLICATION}/1", only(*AID_READERS)),
    Case("GET", f"{WEB_APPLICATION}/15", OUT_OF_COUNTY),
    Case("GET", f"{WEB_APPLICATION}/new", only("reviewer", "charity")),
    Case("POST", f"{WEB_APPLICATION}/new", only("reviewer", "charity", status=422), data={}),
    Case("GET", f"{WEB_APPLICATION}/suggestion", only(*AID_READERS, status=422)),  # no out_of_pocket
    Case("GET", f"{WEB_APPLICATION}/1/edit", only("reviewer", "charity", status=302)),
    Case("POST", f"{WEB_APPLICATION}/999999/edit", only("reviewer", "charity", status=404), data={}),
    Case("POST", f"{WEB_APPLICATION}/999999/submit", only("reviewer", "charity", status=404), data={}),
    Case("POST", f"{WEB_APPLICATION}/999999/approve", only("reviewer", status=404), data={}),
    Case("POST", f"{WEB_APPLICATION}/999999/pay", only("finance", status=404), data={}),
    Case("POST", f"{WEB_APPLICATION}/999999/documents", only("reviewer", "charity", status=404), data={}),
    Case("GET", "/aid/queue", only("reviewer")),
    Case("GET", "/aid/escalated", only("reviewer")),
    Case("GET", "/aid/paperwork", only(*AID_READERS)),
    Case("GET", "/aid/payments", only("finance")),
    Case("POST", "/aid/payments", only("finance", status=422), data={}),
    Case("GET", "/aid/policies", only(*AID_READERS)),
    Case("GET", "/aid/policies/1", only(*AID_READERS)),
    Case("GET", "/aid/policies/2", OUT_OF_COUNTY),
    Case("GET", "/aid/policies/1/versions/new", only("admin")),
    Case("POST", "/aid/policies/1/versions/new", only("admin", status=422), data={}),
]

# Care visits: seed-demo's upload 1 (visits 1-40) is HL-370800-02's, upload 2 (visits 41-611) the demo
# vendor's, all in 鱼台县 (the city-wide reviewer sees them). Vendors upload and post visits; vendors,
# reviewers and admins resolve held ones. Write rows send an empty body (422), so nothing is recorded.
OTHER_VENDORS_VISIT = statuses(admin=200, finance=200, reviewer=200, charity=403, vendor=404, auditor=200)
VISIT_RESOLVERS = ("admin", "reviewer", "vendor")
FEATURES += [
    Case("GET", "/care/visits", only(*CARE_READERS)),
    Case("GET", "/care/visits/41", only(*CARE_READERS)),
    Case("GET", "/care/visits/1", OTHER_VENDORS_VISIT),
    Case("POST", "/care/visits/41/resolution", only(*VISIT_RESOLVERS, status=422), data={}),
    Case("GET", "/care/visits/upload", only("vendor")),
    Case("POST", "/care/visits/upload", only("vendor", status=422), data={}),
    Case("POST", "/care/visits/upload/apply", only("vendor", status=404), data={}),
    Case("GET", "/care/visits/uploads", only(*CARE_READERS)),
    Case("GET", "/care/visits/uploads/2", only(*CARE_READERS)),
    Case("GET", "/care/visits/uploads/1", OTHER_VENDORS_VISIT),
    Case("GET", "/care/visits/coverage", only(*CARE_READERS)),
    Case("GET", "/api/v1/care/visits", only(*CARE_READERS)),
    Case("POST", "/api/v1/care/visits", only("vendor", status=422), json={}),
    Case("GET", "/api/v1/care/visits/41", only(*CARE_READERS)),
    Case("GET", "/api/v1/care/visits/1", OTHER_VENDORS_VISIT),
    Case("POST", "/api/v1/care/visits/41/resolution", only(*VISIT_RESOLVERS, status=422), json={}),
    Case("GET", "/api/v1/care/visits/coverage", only(*CARE_READERS)),
    Case("GET", "/api/v1/care/visits/uploads", only(*CARE_READERS)),
    Case("GET", "/api/v1/care/visits/uploads/2", only(*CARE_READERS)),
    Case("GET", "/api/v1/care/visits/uploads/1", OTHER_VENDORS_VISIT),
    Case("POST", "/api/v1/care/visits/uploads", only("vendor", status=422), json={}),
]

MATRIX = WEB + API + FEATURES


@pytest.mark.parametrize("case", MATRIX, ids=str)
def test_each_role_gets_what_the_matrix_says(demo_app, demo_user_client, demo_token_for, case):
    got = {}
    for role in ROLES:
        if case.is_api:
            client, headers = demo_app.test_client(), demo_token_for(PLAYERS[role])
        else:
            client, headers = demo_user_client(PLAYERS[role]), {}
        response = client.open(case.path, method=case.method, json=case.json, data=case.data, headers=headers)
        got[role] = response.status_code
        if case.is_api and response.status_code >= 400:
            assert set(response.get_json()) == {"error"}, f"{case} as {role}: error shape"
    anonymous = demo_app.test_client().open(case.path, method=case.method, json=case.json, data=case.data)
    got_anonymous = anonymous.status_code
    if not case.is_api and got_anonymous == 302:
        assert anonymous.headers["Location"].startswith("/login"), f"{case}: anonymous users go to the login page"
    assert (got, got_anonymous) == (case.expected, case.anonymous_status), f"{case}"


def test_every_protected_endpoint_has_a_row(demo_app):
    """A new endpoint without a row here fails this test, naming it."""
    adapter = demo_app.url_map.bind("localhost")
    covered = set()
    for case in MATRIX:
        rule, _ = adapter.match(case.path, method=case.method, return_rule=True)
        covered.add((rule.endpoint, case.method))
    missing = sorted(
        f"{method} {rule.rule} ({rule.endpoint})"
        for rule in demo_app.url_map.iter_rules() if rule.endpoint not in PUBLIC_ENDPOINTS
        for method in rule.methods - {"HEAD", "OPTIONS"}
        if (rule.endpoint, method) not in covered
    )
    assert not missing, "endpoints without a row in the access matrix:\n  " + "\n  ".join(missing)

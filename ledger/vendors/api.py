"""The care-procurement JSON API: /api/v1/vendors/... and /api/v1/care/...; thin handlers over
`ledger.vendors.services`.

Roles: admin and finance register vendors and sign, amend, activate, suspend, resume and end
contracts; a vendor keeps its own caregiver list (and the administrator any); admin, finance,
reviewers and auditors read (a county reviewer its county's contracts); a vendor reads its own
vendor, workers and contracts, and anything else answers 404. Writes take an `Idempotency-Key`
(required where they commit money: creating and moving contracts, amending them).
`vendors_api` is nested under the /api/v1 parent; its endpoints are named `api.vendors.<view>`.
"""
from __future__ import annotations

import base64

from flask import Blueprint, jsonify

from ..aid.schemas import ImportIn, ImportOut, import_data
from ..auth.models import Role
from ..auth.permissions import current_actor, require_roles
from ..extensions import db
from ..openapi import operation
from ..requests import api_write, load_body, load_query
from .models import RECORD_ID_MAX
from .schemas import (AmendmentIn, CareBudgetListOut, ContractIn, ContractListOut, ContractMoveIn, ContractOut,
                      ContractsQuery, PageQuery, VendorIn, VendorListOut, VendorOut, VendorStatusIn, WorkerIn,
                      WorkerListOut, WorkerOut, contract_data, terms_of, vendor_data, worker_data)
from .services import budgets, contracts, vendors

READERS = (Role.admin, Role.finance, Role.reviewer, Role.auditor, Role.vendor)
VENDOR_WRITERS = (Role.admin, Role.finance)
WORKER_WRITERS = (Role.admin, Role.vendor)
CONTRACT_WRITERS = (Role.admin, Role.finance)
BUDGET_READERS = (Role.admin, Role.finance, Role.reviewer, Role.auditor)

vendors_api = Blueprint("vendors", __name__)

VENDOR_ID = {"vendor_id": {"description": "the vendor's number", "minimum": 1, "maximum": RECORD_ID_MAX}}
WORKER_ID = {"worker_id": {"description": "the worker's number", "minimum": 1, "maximum": RECORD_ID_MAX}}
CONTRACT_ID = {"contract_id": {"description": "the contract's number (id)", "minimum": 1, "maximum": RECORD_ID_MAX}}
_ID = f"int(max={RECORD_ID_MAX})"
# A vendor's path takes any number (`get_vendor` answers 404 beyond RECORD_ID_MAX): its workers' list (GET)
# and its new worker (POST) share one path, and a converter refusing a large number for both would make the
# router answer 405 for the POST instead of 404.


def _contract_body(contract) -> dict:
    return ContractOut().dump(contract_data(contract, contracts.commitment(db.session, contract)))


# --- vendors -------------------------------------------------------------------------------------------

@vendors_api.get("/vendors")
@require_roles(*READERS)
@operation("Care vendors (第三方照护机构) in your sight: a vendor user sees its own", tags=["vendors"],
           responses={200: ("The vendors", VendorListOut)})
def list_vendors():
    """The vendors."""
    items = vendors.list_vendors(db.session, current_actor())
    return jsonify(VendorListOut().dump({"items": [vendor_data(vendor) for vendor in items]}))


@vendors_api.post("/vendors")
@require_roles(*VENDOR_WRITERS)
@operation("Register a care vendor (its organisation is made with it)", tags=["vendors"], body=VendorIn,
           idempotency_key="required",
           responses={201: ("The vendor", VendorOut),
                      409: "`credit_code_taken`: another organisation has this credit code",
                      422: "Invalid fields (a credit code whose check character is wrong), each named in `fields`"})
def create_vendor():
    """Register a vendor."""
    data = load_body()

    def work(_key):
        vendor = vendors.create_vendor(db.session, current_actor(), vendors.VendorInput(**data))
        return VendorOut().dump(vendor_data(vendor))

    return api_write(work)


@vendors_api.get("/vendors/<int:vendor_id>")
@require_roles(*READERS)
@operation("A care vendor's profile (bank account masked)", tags=["vendors"], path=VENDOR_ID,
           responses={200: ("The vendor", VendorOut), 404: "No such vendor, or not yours"})
def get_vendor(vendor_id):
    """One vendor."""
    return jsonify(VendorOut().dump(vendor_data(vendors.get_vendor(db.session, current_actor(), vendor_id))))


@vendors_api.put("/vendors/<int:vendor_id>")
@require_roles(*VENDOR_WRITERS)
@operation("Change a care vendor's name, credit code, contact and bank account (audited)", tags=["vendors"],
           path=VENDOR_ID, body=VendorIn, idempotency_key="optional",
           responses={200: ("The vendor", VendorOut), 404: "No such vendor",
                      409: "`credit_code_taken`: another organisation has this credit code",
                      422: "Invalid fields, each named in `fields`"})
def update_vendor(vendor_id):
    """Change a vendor's profile."""
    data = load_body()

    def work(_key):
        vendor = vendors.update_vendor(db.session, current_actor(), vendor_id, vendors.VendorInput(**data))
        return VendorOut().dump(vendor_data(vendor))

    return api_write(work, status=200)


@vendors_api.post("/vendors/<int:vendor_id>/status")
@require_roles(*VENDOR_WRITERS)
@operation("Suspend a vendor or make it active again (audited with the reason)", tags=["vendors"],
           path=VENDOR_ID, body=VendorStatusIn, idempotency_key="optional",
           responses={200: ("The vendor", VendorOut), 404: "No such vendor"})
def set_vendor_status(vendor_id):
    """Change a vendor's status."""
    data = load_body()

    def work(_key):
        vendor = vendors.set_vendor_status(db.session, current_actor(), vendor_id, data["status"],
                                           reason=data["reason"])
        return VendorOut().dump(vendor_data(vendor))

    return api_write(work, status=200)


# --- workers -------------------------------------------------------------------------------------------

@vendors_api.get("/vendors/<int:vendor_id>/workers")
@require_roles(*READERS)
@operation("A vendor's caregivers by number (resident IDs masked)", tags=["vendors"], path=VENDOR_ID,
           query=PageQuery, responses={200: ("One page of workers", WorkerListOut),
                                       404: "No such vendor, or not yours"})
def list_workers(vendor_id):
    """The vendor's workers."""
    query = load_query()
    page = vendors.list_workers(db.session, current_actor(), vendor_id, page=query["page"],
                                per_page=query["per_page"])
    return jsonify(WorkerListOut().dump({"page": page.page, "per_page": page.per_page, "total": page.total,
                                         "items": [worker_data(worker) for worker in page.items]}))


@vendors_api.post("/vendors/<int:vendor_id>/workers")
@require_roles(*WORKER_WRITERS)
@operation("Add a caregiver to a vendor's list", tags=["vendors"], path=VENDOR_ID, body=WorkerIn,
           idempotency_key="required",
           responses={201: ("The worker", WorkerOut), 404: "No such vendor, or not yours",
                      409: "`worker_number_taken`: the vendor has a worker with this number",
                      422: "Invalid fields (a resident ID's check digit, an end before the start), each named"})
def add_worker(vendor_id):
    """Add a worker."""
    data = load_body()

    def work(_key):
        worker = vendors.add_worker(db.session, current_actor(), vendor_id, vendors.WorkerInput(**data))
        return WorkerOut().dump(worker_data(worker))

    return api_write(work)


@vendors_api.get(f"/vendors/workers/<{_ID}:worker_id>")
@require_roles(*READERS)
@operation("A caregiver (resident ID masked)", tags=["vendors"], path=WORKER_ID,
           responses={200: ("The worker", WorkerOut), 404: "No such worker, or not your vendor's"})
def get_worker(worker_id):
    """One worker."""
    return jsonify(WorkerOut().dump(worker_data(vendors.get_worker(db.session, current_actor(), worker_id))))


@vendors_api.post("/vendors/<int:vendor_id>/workers/import")
@require_roles(*WORKER_WRITERS)
@operation("Preview or import a caregiver file (CSV in UTF-8 / GBK, or XLSX; Chinese or English headers), all "
           "rows or none, each file once per vendor", tags=["vendors"], path=VENDOR_ID, body=ImportIn,
           idempotency_key="optional",
           responses={200: ("The preview, the import done (`applied`), or the file recognised as imported before "
                            "(`already_imported`)", ImportOut),
                      404: "No such vendor, or not yours",
                      422: "`import_has_errors` when applying a file with bad rows (nothing written; `row_errors` "
                           "lists row, column and reason), or `import_file_refused`"})
def import_workers(vendor_id):
    """Import a worker file."""
    data = load_body()
    content = base64.b64decode(data["content_base64"])

    def work(_key):
        actor = current_actor()
        if data["apply"]:
            parsed, outcome = vendors.apply_worker_import(db.session, actor, vendor_id, content, data["filename"])
            return import_data(parsed, already=not outcome.applied_now, applied=outcome.applied_now,
                               batch_id=outcome.batch.id)
        parsed = vendors.preview_worker_import(db.session, actor, vendor_id, content, data["filename"])
        previous = vendors.worker_file_imported(db.session, vendor_id, parsed.sha256)
        return import_data(parsed, already=previous is not None, applied=False,
                           batch_id=previous.id if previous is not None else None)

    return api_write(work, status=200)


# --- care budgets and contracts ------------------------------------------------------------------------

@vendors_api.get("/care/budgets")
@require_roles(*BUDGET_READERS)
@operation("The care-service budget funds in your sight: the city total and each county's, received, "
           "committed by contracts, available", tags=["care"], responses={200: ("The budgets", CareBudgetListOut)})
def list_care_budgets():
    """The care budgets."""
    items = [{"code": budget.code, "name": budget.name, "level": budget.level, "posted": budget.posted_fen,
              "pending": budget.pending_fen, "available": budget.available_fen}
             for budget in budgets.care_budgets(db.session, current_actor())]
    return jsonify(CareBudgetListOut().dump({"items": items}))


@vendors_api.get("/care/contracts")
@require_roles(*READERS)
@operation("Care-service contracts in your sight, by number, with their commitments", tags=["care"],
           query=ContractsQuery, responses={200: ("One page of contracts", ContractListOut)})
def list_contracts():
    """The contracts."""
    query = load_query()
    page = contracts.list_contracts(db.session, current_actor(), vendor_id=query["vendor_id"],
                                    county_code=query["county"], state=query["state"], page=query["page"],
                                    per_page=query["per_page"])
    return jsonify(ContractListOut().dump({"page": page.page, "per_page": page.per_page, "total": page.total,
                                           "items": [contract_data(contract, contracts.commitment(db.session, contract))
                                                     for contract in page.items]}))


@vendors_api.post("/care/contracts")
@require_roles(*CONTRACT_WRITERS)
@operation("Draft a care-service contract (version 1 of its terms); nothing is committed until it is activated",
           tags=["care"], body=ContractIn, idempotency_key="required",
           responses={201: ("The contract", ContractOut), 404: "No such vendor",
                      422: "Invalid fields (an unknown county, a term ending before it starts), each named"})
def create_contract():
    """Draft a contract."""
    data = load_body()

    def work(_key):
        contract = contracts.create_contract(db.session, current_actor(), data["vendor_id"], data["county"],
                                             data["starts_on"], data["ends_on"], terms_of(data), note=data["note"])
        return _contract_body(contract)

    return api_write(work)


@vendors_api.get(f"/care/contracts/<{_ID}:contract_id>")
@require_roles(*READERS)
@operation("A care-service contract with its versions and its commitment", tags=["care"], path=CONTRACT_ID,
           responses={200: ("The contract", ContractOut), 404: "No such contract, or outside your sight"})
def get_contract(contract_id):
    """One contract."""
    return jsonify(_contract_body(contracts.get_contract(db.session, current_actor(), contract_id)))


@vendors_api.post(f"/care/contracts/<{_ID}:contract_id>/amendments")
@require_roles(*CONTRACT_WRITERS)
@operation("Amend a contract: a new version of its terms from its effective date (no version is ever changed); "
           "a new ceiling replaces the commitment", tags=["care"], path=CONTRACT_ID, body=AmendmentIn,
           idempotency_key="required",
           responses={201: ("The contract", ContractOut), 404: "No such contract",
                      409: "`contract_ended`, or `insufficient_funds` for a ceiling the budget cannot afford",
                      422: "Invalid fields (an effective date not after the latest version's), each named"})
def amend_contract(contract_id):
    """Amend a contract."""
    data = load_body()

    def work(_key):
        contracts.amend_contract(db.session, current_actor(), contract_id, data["effective_on"], terms_of(data),
                                 note=data["note"])
        return _contract_body(contracts.get_contract(db.session, current_actor(), contract_id))

    return api_write(work)


_MOVES = {
    "activate": (contracts.activate_contract, "Activate a draft contract: its ceiling is committed as a hold on the "
                                              "county's care budget"),
    "suspend": (contracts.suspend_contract, "Suspend an active contract (its commitment stays)"),
    "resume": (contracts.resume_contract, "Resume a suspended contract"),
    "end": (contracts.end_contract, "End a contract: the rest of its commitment is released"),
}


def _move_view(action: str):
    service, summary = _MOVES[action]

    def move(contract_id):
        data = load_body()

        def work(_key):
            actor = current_actor()
            if action == "activate":
                contract = service(db.session, actor, contract_id)
            else:
                contract = service(db.session, actor, contract_id, reason=data["reason"])
            return _contract_body(contract)

        return api_write(work, status=200)

    move.__name__ = f"{action}_contract"
    move.__doc__ = summary + "."
    move = operation(summary, tags=["care"], path=CONTRACT_ID, body=ContractMoveIn, body_required=False,
                     idempotency_key="required",
                     responses={200: ("The contract", ContractOut), 404: "No such contract, or outside your sight",
                                409: "`illegal_transition` (not allowed from the contract's state), "
                                     "`insufficient_funds`, `contract_overlaps` or `vendor_suspended`"})(move)
    move = require_roles(*CONTRACT_WRITERS)(move)
    vendors_api.post(f"/care/contracts/<{_ID}:contract_id>/{action}", endpoint=f"{action}_contract")(move)


for _action in _MOVES:
    _move_view(_action)

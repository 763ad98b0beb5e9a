"""Resident IDs are checked the way they are issued: the code of the issuing place, any time."""
import pytest

from ledger.errors import ValidationError
from ledger.funds import services
from ledger.funds.services import Payee
from ledger.identity import (IdentityNumberError, mask_id_number, resident_id_birth_date, resident_id_sex,
                             shown_counterparty_id, validate_resident_id)
from tests.journal.factories import YUTAI, on

#: Born in 1952, registered in 鱼台县 (370827): the county code is younger than the person.
ELDERLY_YUTAI = "370827195206150021"


def test_an_id_issued_after_the_birth_under_a_younger_region_code_is_valid():
    assert validate_resident_id(ELDERLY_YUTAI) == ELDERLY_YUTAI
    assert resident_id_birth_date(ELDERLY_YUTAI).isoformat() == "1952-06-15"
    assert resident_id_sex(ELDERLY_YUTAI) == "female"


@pytest.mark.parametrize("number, says", [
    ("370827195206150022", "wrong check digit"),
    ("370827195213150021", "not a real date"),
    ("999999195206150021", "region code 999999 was never assigned"),
    ("37082719520615002", "18 characters, not 17"),
    ("37082719520615A021", "17 digits"),
    ("370827189912310021", "before 1900"),
    ("370827209912310021", "in the future"),
])
def test_a_wrong_id_is_refused_with_the_reason_in_plain_words(number, says):
    with pytest.raises(IdentityNumberError) as refused:
        validate_resident_id(number)
    assert says in str(refused.value)


@pytest.mark.parametrize("number", ["110101190001011009", "370827195206150021", "11010519491231002X"])
def test_real_ids_of_every_age_pass(number):
    assert validate_resident_id(number.lower()) == number


def test_the_elderly_person_can_be_paid(session, tree, finance):
    services.record_receipt(session, finance, YUTAI, 500_00, source="donation", payer_name="捐赠人",
                            value_on=on(3, 1))
    entry = services.disburse(session, finance, YUTAI, 200_00, payee=Payee("person", "韩进", ELDERLY_YUTAI),
                              purpose="temporary_assistance", value_on=on(3, 2))
    session.commit()
    assert entry.counterparty_id_number == ELDERLY_YUTAI
    with pytest.raises(ValidationError) as refused:
        services.disburse(session, finance, YUTAI, 1_00, payee=Payee("person", "韩进", "370827195206150022"),
                          purpose="temporary_assistance", value_on=on(3, 2))
    assert "wrong check digit" in refused.value.fields["payee_id_number"][0]


def test_every_kind_of_counterparty_number_is_masked_except_a_funds_code():
    for kind in ("person", "organisation", "donor", "government", None):
        assert shown_counterparty_id(kind, ELDERLY_YUTAI) == mask_id_number(ELDERLY_YUTAI) == "3708**********0021"
    assert shown_counterparty_id("fund", "370827-001") == "370827-001"
    assert shown_counterparty_id("person", None) == ""

"""Amounts in Chinese capital words (大写金额): what a finance officer reads back before a very large
receipt is posted, written as the People's Bank rules for vouchers and cheques write them."""
from __future__ import annotations

import pytest

from ledger.money import amount_in_words


@pytest.mark.parametrize("fen, words", [
    (500_000_00, "伍拾万元整"),                 # the confirmation threshold itself
    (0, "零元整"),
    (1_00, "壹元整"),
    (10_00, "壹拾元整"),                        # a leading ten is 壹拾, not 拾
    (1005_00, "壹仟零伍元整"),                   # two zeros inside: one 零
    (1010_00, "壹仟零壹拾元整"),
    (100010_00, "壹拾万零壹拾元整"),             # zeros across the 万 group
    (101000_00, "壹拾万壹仟元整"),               # no gap: no 零
    (1_0000_1000_00, "壹亿零壹仟元整"),          # an empty 万 group: one 零, no 万
    (1_0001_0000_00, "壹亿零壹万元整"),
    (1_1000_0000_00, "壹亿壹仟万元整"),
    (1_0000_0000_00, "壹亿元整"),
    (1_2345_0000_0000_00, "壹万贰仟叁佰肆拾伍亿元整"),
    (10**14, "壹万亿元整"),                      # the largest amount the edges accept
    (1680_32, "壹仟陆佰捌拾元叁角贰分"),          # 分: never 整 after it
    (100_10, "壹佰元壹角整"),                    # 角 without 分: 整
    (1000_05, "壹仟元零伍分"),                   # 角 zero between 元 and 分: 零
    (50, "伍角整"),
    (5, "伍分"),
    (55, "伍角伍分"),
    (-123_00, "负壹佰贰拾叁元整"),
])
def test_amount_in_words(fen, words):
    assert amount_in_words(fen) == words


@pytest.mark.parametrize("value", [12.5, "1250", True])
def test_amount_in_words_takes_integer_fen_only(value):
    with pytest.raises(TypeError):
        amount_in_words(value)

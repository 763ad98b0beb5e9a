"""Two languages: every string the interface shows is in both catalogs, and Chinese is complete."""
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ROOT / "ledger" / "translations"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|\{[a-z_]+\}")


def _marked_strings() -> set[str]:
    with open(ROOT / "babel.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _catalog(language: str):
    with open(CATALOGS / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po)


@pytest.fixture(scope="module")
def marked():
    strings = _marked_strings()
    assert "Log in" in strings and "Username" in strings
    return strings


@pytest.mark.parametrize("language", ["zh_Hans_CN", "en"])
def test_every_marked_string_is_translated(marked, language):
    catalog = _catalog(language)
    translated = {m.id for m in catalog if m.id and m.string and "fuzzy" not in m.flags}
    untranslated = sorted(marked - translated)
    assert not untranslated, (f"{len(untranslated)} strings without a {language} translation "
                              "(run `make translations-update` and translate them):\n  " + "\n  ".join(untranslated))


def test_chinese_translations_keep_every_placeholder_and_are_chinese():
    for message in _catalog("zh_Hans_CN"):
        if not message.id or not message.string:
            continue
        assert sorted(PLACEHOLDER.findall(message.id)) == sorted(PLACEHOLDER.findall(message.string)), message.id
        # Chinese characters, or Chinese punctuation for a pattern that is only punctuation around
        # placeholders ("%(name)s（%(code)s）").
        assert re.search(r"[\u4e00-\u9fff]", message.string) or (
            re.search(r"[\u3000-\u303f\uff00-\uffef]", message.string)
            and not re.search(r"[A-Za-z]", PLACEHOLDER.sub("", message.string))), \
            f"not Chinese: {message.id!r} -> {message.string!r}"


def test_the_browser_language_decides_when_nobody_chose(client):
    assert "登录" in client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert "Log in" in client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert "登录" in client.get("/login", headers={"Accept-Language": "fr-FR"}).get_data(as_text=True), \
        "a language the product does not speak falls back to Chinese"

"""Chinese text uses full-width punctuation: next to Chinese characters a comma, colon, semicolon or
parenthesis is ，：；（）, never the ASCII , : ; ( ) of English text (GB/T 15834). Checked in the
Chinese catalog's translations, in the templates, and in the Chinese texts the code writes into
reports, registers and demo data.

Allowed: placeholders (%(name)s, {name}), URLs and API paths, `code`, and the few literal codes
listed below whose ASCII punctuation is part of what they are. English texts that name a Chinese
term, "Fund statement (资金收支情况表)", are English and keep English punctuation."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LEDGER = ROOT / "ledger"
CATALOG = LEDGER / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"

#: Chinese characters and the full-width forms and CJK punctuation around them.
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef\u201c\u201d]")
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
ASCII_PUNCTUATION = ",:;()"
EXEMPT = [
    re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{[a-z_]*\}"),  # placeholders
    re.compile(r"https?://\S+|/api/v1\S*"),  # URLs and API paths
    re.compile(r"`[^`]*`"),  # code
    re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S),  # Jinja expressions, statements, comments
    re.compile(r"<[^>]*>"),  # HTML tags and their attributes
]
#: Literal codes: the text of the integrity certificate names the digest's input, "<fund code>:<head hash>",
#: whose colon is an ASCII colon by construction.
LITERAL_CODES = ("基金代码:链头摘要",)


def mixed_punctuation(text: str) -> list[str]:
    """Each ASCII , : ; ( ) whose nearest neighbour on either side (spaces skipped) is Chinese, shown
    in its context; [] when the text is clean."""
    for code in LITERAL_CODES:
        text = text.replace(code, " ")
    for pattern in EXEMPT:
        text = pattern.sub(" ", text)
    found = []
    for index, character in enumerate(text):
        if character not in ASCII_PUNCTUATION:
            continue
        left = index - 1
        while left >= 0 and text[left] == " ":
            left -= 1
        right = index + 1
        while right < len(text) and text[right] == " ":
            right += 1
        if (left >= 0 and CJK.match(text[left])) or (right < len(text) and CJK.match(text[right])):
            found.append(text[max(0, index - 8):index + 9].strip())
    return found


def is_chinese(text: str) -> bool:
    """A text written in Chinese: more Chinese characters than ASCII letters (an English sentence
    that names a Chinese term in passing is English)."""
    return len(HAN.findall(text)) > len(re.findall(r"[A-Za-z]", text))


@pytest.mark.parametrize("text", ["金额: 100", "基金 (370827)", "可用余额不足,请核对", "村(社区)级", "作废原因;原因"])
def test_the_rule_finds_ascii_punctuation_next_to_chinese(text):
    assert mixed_punctuation(text)


@pytest.mark.parametrize("text", ["金额：100", "基金（370827）", "%(name)s (%(code)s)", "找到 %(count)s 个基金",
                                  "见 https://example.org/a(b)", "填写 `a:b` 即可", "1,234.56 元",
                                  "链头合并摘要按“基金代码:链头摘要”逐行求 SHA-256"])
def test_the_rule_allows_full_width_placeholders_urls_and_codes(text):
    assert mixed_punctuation(text) == []


def test_the_chinese_catalog_uses_full_width_punctuation():
    with open(CATALOG, "rb") as handle:
        catalog = read_po(handle)
    wrong = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        for text in ([message.string] if isinstance(message.string, str) else message.string):
            if mixed_punctuation(text):
                wrong.append(f"{message.id!r} -> {text!r}: {mixed_punctuation(text)}")
    assert not wrong, f"{len(wrong)} translations mix ASCII punctuation into Chinese:\n  " + "\n  ".join(wrong)


def test_chinese_texts_in_templates_use_full_width_punctuation():
    wrong = []
    for path in sorted(LEDGER.rglob("*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            shown = EXEMPT[4].sub(" ", EXEMPT[3].sub(" ", line))  # the text, without markup
            if is_chinese(shown) and mixed_punctuation(line):
                wrong.append(f"{path.relative_to(ROOT)}:{number}: {mixed_punctuation(line)}")
    assert not wrong, "\n  ".join(["Chinese template text with ASCII punctuation:"] + wrong)


def _string_literals(path: Path):
    """The string constants of a module that are not docstrings (what the code writes, not what it says)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    # A regular expression is a pattern, not a text anyone reads: its parentheses are groups.
    patterns = {id(node.args[0]) for node in ast.walk(tree)
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "re"}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
                and id(node) not in patterns):
            yield node.lineno, node.value


def test_chinese_texts_the_code_writes_use_full_width_punctuation():
    wrong = []
    for path in sorted(LEDGER.rglob("*.py")):
        for number, text in _string_literals(path):
            if is_chinese(text) and mixed_punctuation(text):
                wrong.append(f"{path.relative_to(ROOT)}:{number}: {mixed_punctuation(text)}")
    assert not wrong, "\n  ".join(["Chinese text in the code with ASCII punctuation:"] + wrong)

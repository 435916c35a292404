#!/usr/bin/env python3
"""Fill the zh_Hans catalogue's empty (or fuzzy) entries from `msgid|中文` lists.

Workflow after adding UI text (English msgids in `_()` / `{% translate %}`):

    python manage.py makemessages -l zh_Hans --no-obsolete --ignore=.venv --ignore=tests --ignore=bench
    python scripts/po_fill.py            # fills from locale/zh_Hans/LC_MESSAGES/core_msgids.txt
    python manage.py compilemessages -l zh_Hans --ignore=.venv

Prints the msgids still lacking a translation (add them to core_msgids.txt and run again).
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
LISTS = [
    ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "core_msgids.txt",
    *sorted((ROOT / "locale" / "pending").glob("*.txt")),
]


def unquote(text: str) -> str:
    return text.encode("latin-1", "backslashreplace").decode("unicode_escape").encode("latin-1").decode("utf-8") \
        if "\\" in text else text


def quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def load_pairs() -> dict[str, str]:
    pairs = {}
    for path in LISTS:
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if "|" in line and not line.startswith("#"):
                msgid, _, text = line.rpartition("|")
                if msgid and text:
                    pairs[msgid.replace("\\n", "\n")] = text.replace("\\n", "\n")
    return pairs


def main() -> int:
    pairs = load_pairs()
    blocks = PO.read_text(encoding="utf-8").split("\n\n")
    missing = []
    for index, block in enumerate(blocks):
        lines = block.splitlines()
        msgid_parts, msgstr_at, current, plural = [], None, None, False
        for n, line in enumerate(lines):
            if line.startswith("msgid_plural"):
                plural = True
            match = re.match(r'^(msgid|msgstr(?:\[\d\])?) "(.*)"$', line)
            if match:
                current = match.group(1)
                if current == "msgid":
                    msgid_parts.append(match.group(2))
                elif msgstr_at is None:
                    msgstr_at = n
            elif line.startswith('"') and current == "msgid":
                msgid_parts.append(line[1:-1])
        msgid = unquote("".join(msgid_parts))
        if not msgid or msgstr_at is None or plural:
            continue
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        msgstr_lines = [line for line in lines[msgstr_at:] if line.startswith(('msgstr', '"'))]
        empty = "".join(re.sub(r'^msgstr "', '"', line)[1:-1] for line in msgstr_lines) == ""
        if not (empty or fuzzy):
            continue
        if msgid not in pairs:
            missing.append(msgid)
            continue
        kept = [
            line for line in lines[:msgstr_at]
            if not line.startswith("#|") and not (line.startswith("#,") and line.strip() == "#, fuzzy")
        ]
        kept = [line.replace(", fuzzy", "") if line.startswith("#,") else line for line in kept]
        blocks[index] = "\n".join([*kept, f'msgstr "{quote(pairs[msgid])}"'])
    PO.write_text("\n\n".join(blocks), encoding="utf-8")
    for msgid in missing:
        print(f"untranslated: {msgid!r}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())

"""Until the lead merges locale/pending/admin.txt into the zh_Hans catalogue, tests and screenshots compile it
into a temporary locale directory placed before the project's (a later .mo merged by the lead wins nothing
and loses nothing: the same msgids map to the same Chinese)."""

import struct
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PENDING = ROOT / "locale" / "pending" / "admin.txt"
HEADER = "Content-Type: text/plain; charset=UTF-8\nPlural-Forms: nplurals=1; plural=0;\n"


def read_pending(path: Path = PENDING) -> dict[str, str]:
    entries: dict[str, str] = {}
    if not path.exists():
        return entries
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#") or "|" not in line:
            continue
        msgid, msgstr = line.rsplit("|", 1)
        # Plural msgids are written "singular||plural|中文": gettext keys them by the singular.
        msgid = msgid.split("||", 1)[0]
        entries[msgid.replace("\\n", "\n")] = msgstr.replace("\\n", "\n")
    return entries


def write_mo(entries: dict[str, str], target: Path) -> None:
    """A GNU .mo file (the format msgfmt writes), without a hash table."""
    catalogue = {"": HEADER, **entries}
    keys = sorted(catalogue)
    ids = [k.encode() for k in keys]
    strs = [catalogue[k].encode() for k in keys]
    count = len(keys)
    originals_at = 7 * 4
    translations_at = originals_at + count * 8
    data_at = translations_at + count * 8
    offsets, blob = [], b""
    for raw in ids + strs:
        offsets.append((len(raw), data_at + len(blob)))
        blob += raw + b"\0"
    header = struct.pack("<7I", 0x950412DE, 0, count, originals_at, translations_at, 0, 0)
    table = b"".join(struct.pack("<2I", length, offset) for length, offset in offsets)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(header + table + blob)


def build(directory: Path) -> Path:
    write_mo(read_pending(), directory / "zh_Hans" / "LC_MESSAGES" / "django.mo")
    return directory

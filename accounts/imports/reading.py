"""Reading import files as a stream of (line number, cells): CSV in UTF-8 (with or without BOM) or
GB18030, or XLSX, detected by content, never by the file name alone. Memory stays bounded: CSV goes
through a text wrapper and `csv.reader`, XLSX through openpyxl's read-only `iter_rows`."""

import codecs
import contextlib
import csv
import datetime
import io
import re
import zipfile
from collections.abc import Iterator

XLSX_MAGIC = b"PK\x03\x04"
SCAN_BLOCK = 1 << 20
# What a wrongly decoded file (e.g. Latin-1 read as GB18030) produces: private-use characters and C0/C1 controls.
SUSPICIOUS_RE = re.compile("[\ue000-\uf8ff\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

MSG_EMPTY = "文件为空，没有表头行"
MSG_NOT_XLSX = "文件扩展名为 .xlsx，但内容不是 Excel 工作簿（XLSX）；请在 Excel 中另存为 .xlsx 或 CSV 后再导入"
MSG_BAD_XLSX = "无法读取 XLSX 工作簿：文件已损坏或不是 Excel 2007 及以后的格式"
MSG_ENCODING = "无法识别文件编码：CSV 文件应为 UTF-8（可带 BOM）或 GB18030 编码，也可上传 XLSX 工作簿"
MSG_CSV = "第{line}行：CSV 格式错误（{error}）"


class ImportFileError(Exception):
    """The file as a whole cannot be read (encoding, format, header). `message` is Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _decodes(stream, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    stream.seek(0)
    try:
        while block := stream.read(SCAN_BLOCK):
            decoded = decoder.decode(block)
            if encoding == "gb18030" and SUSPICIOUS_RE.search(decoded):
                return False
        decoder.decode(b"", final=True)
        return True
    except UnicodeDecodeError:
        return False
    finally:
        stream.seek(0)


def detect_encoding(stream) -> str:
    """utf-8-sig first (plain UTF-8 too), then GB18030; refuses anything else with a Chinese message."""
    for encoding in ("utf-8-sig", "gb18030"):
        if _decodes(stream, encoding):
            return encoding
    raise ImportFileError(MSG_ENCODING)


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time.min else value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _csv_rows(stream, encoding: str) -> Iterator[tuple[int, list[str]]]:
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    reader = csv.reader(text)
    line = 1
    try:
        for record in reader:
            yield line, [cell.strip() for cell in record]
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ImportFileError(MSG_CSV.format(line=reader.line_num, error=exc)) from None
    finally:
        with contextlib.suppress(ValueError):  # the caller closed the file first
            text.detach()


def _xlsx_rows(stream) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(stream, read_only=True, data_only=False)
        sheet = workbook.worksheets[0]
        # Read-only mode trusts the sheet's <dimension> element; some writers leave it stale ("A1") or too small,
        # which would silently cut columns and rows. Read the whole sheet instead (openpyxl docs, "Read-only mode").
        sheet.reset_dimensions()
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, IndexError) as exc:
        raise ImportFileError(MSG_BAD_XLSX) from exc
    try:
        for line, record in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield line, [_cell_text(value) for value in record]
    finally:
        workbook.close()


def read_table(stream, filename: str = "") -> Iterator[tuple[int, list[str]]]:
    """Yields (line number, stripped cells), header first as line 1. `stream` is a seekable binary file."""
    stream.seek(0)
    head = stream.read(4)
    stream.seek(0)
    if not head:
        raise ImportFileError(MSG_EMPTY)
    if head == XLSX_MAGIC:
        return _xlsx_rows(stream)
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise ImportFileError(MSG_NOT_XLSX)
    return _csv_rows(stream, detect_encoding(stream))

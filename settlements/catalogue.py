"""Names of the S4.2 device/consumable catalogue as the rule texts give them (domain.md S4.2 in English, seed 000
二(二) in traditional characters, its shared words "棉球、片"), each leading to the name the catalogue is seeded
with (migration 0002). A pharmacy line is matched by its code, else by its name: the exact catalogue name, or one of
these names written with any case, spacing, hyphens or a plural "s". An alias finds only an active catalogue row
of that name, so a supervisor who renames or withdraws an item withdraws its aliases too."""

import re
import unicodedata

_ALIASES: dict[str, tuple[str, ...]] = {
    "口罩": ("mask", "face mask", "medical mask"),
    "新冠病毒抗原检测试剂": ("antigen test kit", "COVID-19 antigen test kit", "新冠病毒抗原檢測試劑", "抗原检测试剂"),
    "血压计": ("blood-pressure monitor", "blood pressure meter", "sphygmomanometer", "血壓計"),
    "血糖测试仪": ("glucometer", "blood glucose meter", "glucose meter", "血糖測試儀", "血糖仪"),
    "血糖试纸": ("glucose test strip", "blood glucose test strip", "血糖試紙"),
    "一次性使用末梢采血针": ("single-use lancet", "disposable lancet", "lancet", "一次性使用末梢采血針", "采血针"),
    "笔式注射针": ("pen needle", "筆式注射針"),
    "体温计": ("thermometer", "體溫計"),
    "酒精消毒液": ("alcohol disinfectant",),
    "酒精棉球": ("alcohol cotton ball", "cotton ball", "棉球"),
    "酒精棉片": ("alcohol pad", "alcohol cotton pad", "alcohol prep pad", "棉片"),
    "碘消毒液": ("iodine disinfectant",),
    "碘棉球": ("iodine cotton ball",),
    "碘棉片": ("iodine pad", "iodine cotton pad"),
    "棉签": ("cotton swab", "棉簽"),
    "创口贴": ("adhesive bandage", "band-aid", "創口貼"),
}

_NOT_WORD = re.compile(r"[\W_]+")


def name_key(name: str) -> str:
    """A name without case, spaces, punctuation or an English plural "s": "Blood-pressure monitors" → the key of
    "blood pressure monitor"."""
    key = _NOT_WORD.sub("", unicodedata.normalize("NFKC", name or "").casefold())
    if key.isascii() and len(key) > 3 and key.endswith("s"):
        key = key[:-1]
    return key


ALIASES: dict[str, str] = {
    name_key(alias): canonical for canonical, aliases in _ALIASES.items() for alias in (canonical, *aliases)
}


def catalogue_name(name: str) -> str | None:
    """The seeded catalogue name that `name` is written for, or None."""
    return ALIASES.get(name_key(name))

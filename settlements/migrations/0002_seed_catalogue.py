"""Seeds the pharmacy device/consumable catalogue with the list of domain.md S4.2 (seed 000 二(二))."""

from django.db import migrations

CATALOGUE = [
    ("C001", "口罩", "consumable"),
    ("C002", "新冠病毒抗原检测试剂", "consumable"),
    ("D001", "血压计", "device"),
    ("D002", "血糖测试仪", "device"),
    ("C003", "血糖试纸", "consumable"),
    ("C004", "一次性使用末梢采血针", "consumable"),
    ("C005", "笔式注射针", "consumable"),
    ("D003", "体温计", "device"),
    ("C006", "酒精消毒液", "consumable"),
    ("C007", "酒精棉球", "consumable"),
    ("C008", "酒精棉片", "consumable"),
    ("C009", "碘消毒液", "consumable"),
    ("C010", "碘棉球", "consumable"),
    ("C011", "碘棉片", "consumable"),
    ("C012", "棉签", "consumable"),
    ("C013", "创口贴", "consumable"),
]


def seed(apps, schema_editor):
    CatalogueItem = apps.get_model("settlements", "CatalogueItem")
    for code, name, kind in CATALOGUE:
        CatalogueItem.objects.get_or_create(code=code, defaults={"name": name, "kind": kind})


class Migration(migrations.Migration):
    dependencies = [("settlements", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

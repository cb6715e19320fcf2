from typing import Any

from django.db import migrations

# ENISA Reference Incident Classification Taxonomy (2018), top-level classes, with our Russian
# and Kazakh names. Center admins can extend or retire entries later.
TYPES = [
    ("abusive-content", "Abusive content (spam, harmful speech)", "Оскорбительный контент (спам)", "Жағымсыз контент (спам)"),
    ("malicious-code", "Malicious code (virus, worm, trojan, ransomware)", "Вредоносный код (вирусы, черви, трояны, шифровальщики)", "Зиянды код (вирустар, құрттар, трояндар, шифрлаушылар)"),
    ("information-gathering", "Information gathering (scanning, sniffing, social engineering)", "Сбор информации (сканирование, перехват, социальная инженерия)", "Ақпарат жинау (сканерлеу, ұстап алу, әлеуметтік инженерия)"),
    ("intrusion-attempts", "Intrusion attempts (exploitation of known vulnerabilities, login attempts)", "Попытки вторжения (эксплуатация уязвимостей, подбор паролей)", "Басып кіру әрекеттері (осалдықтарды пайдалану, құпиясөз іріктеу)"),
    ("intrusions", "Intrusions (compromised accounts, applications, systems)", "Вторжения (компрометация учётных записей, приложений, систем)", "Басып кірулер (есептік жазбалардың, қосымшалардың, жүйелердің бұзылуы)"),
    ("availability", "Availability (DoS/DDoS, sabotage, outage)", "Доступность (DoS/DDoS, саботаж, сбой)", "Қолжетімділік (DoS/DDoS, диверсия, іркіліс)"),
    ("information-content-security", "Information content security (unauthorised access or modification)", "Безопасность информации (несанкционированный доступ или изменение)", "Ақпарат қауіпсіздігі (рұқсатсыз қол жеткізу немесе өзгерту)"),
    ("fraud", "Fraud (phishing, masquerade, unauthorised use of resources)", "Мошенничество (фишинг, подмена, несанкционированное использование ресурсов)", "Алаяқтық (фишинг, бүркемелеу, ресурстарды рұқсатсыз пайдалану)"),
    ("vulnerable", "Vulnerable (weak cryptography, open service, vulnerable system)", "Уязвимость (слабая криптография, открытые сервисы, уязвимые системы)", "Осалдық (әлсіз криптография, ашық сервистер, осал жүйелер)"),
    ("other", "Other", "Прочее", "Басқа"),
    ("test", "Test", "Тест", "Сынақ"),
]  # fmt: skip


def seed(apps: Any, schema_editor: Any) -> None:
    threat_type = apps.get_model("alerts", "ThreatType")
    for code, en, ru, kk in TYPES:
        threat_type.objects.update_or_create(
            code=code, defaults={"name_en": en, "name_ru": ru, "name_kk": kk}
        )


class Migration(migrations.Migration):
    dependencies = [("alerts", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

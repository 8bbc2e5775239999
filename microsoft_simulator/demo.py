"""The deterministic demo tenant: a multi-academy trust with two schools.

Everything here is a constant so app tests can import ids and addresses.
"""
import uuid

TENANT_ID = "8f3c2a1e-5b7d-4e90-a6c1-0d2e4f6a8b10"
TENANT_DOMAIN = "oaklearning.example"
TENANT_NAME = "Oak Learning Trust"

CLIENT_ID = "5e0d9a3b-2c71-4f86-b4a9-7c1e3d5f9a20"
CLIENT_SECRET = "sim~demo-client-secret-oak-learning-trust"
CLIENT_NAME = "rostersync (demo app registration)"

PASSWORD = "demo-password"

ADMIN_ID = "a0000000-0000-4000-8000-000000000001"
ADMIN_UPN = "it-sync@oaklearning.example"
PERSONAL_ID = "a0000000-0000-4000-8000-000000000002"
PERSONAL_UPN = "jo.bloggs@oaklearning.example"

NORTHFIELD_STAFF_GROUP_ID = "b0000000-0000-4000-8000-000000000101"
NORTHFIELD_TA_GROUP_ID = "b0000000-0000-4000-8000-000000000102"
SOUTHFIELD_STAFF_GROUP_ID = "b0000000-0000-4000-8000-000000000201"
MAIL_SECURITY_GROUP_ID = "b0000000-0000-4000-8000-000000000301"
EVERYONE_GROUP_ID = "b0000000-0000-4000-8000-000000000401"
DYNAMIC_GROUP_ID = "b0000000-0000-4000-8000-000000000501"
GENERATED_STAFF_GROUP_ID = "b0000000-0000-4000-8000-000000000901"

DEVICE_ID = "d0000000-0000-4000-8000-000000000001"
ORG_CONTACT_ID = "c0000000-0000-4000-8000-000000000001"
SERVICE_PRINCIPAL_ID = "e0000000-0000-4000-8000-000000000001"

# Special people, all in Northfield Staff unless noted.
GUEST_ID = "a0000000-0000-4000-8000-000000000010"
GUEST_UPN = "sam.visitor_partner.example#EXT#@oaklearning.example"
DISABLED_ID = "a0000000-0000-4000-8000-000000000011"
NO_MAILBOX_ID = "a0000000-0000-4000-8000-000000000012"
NO_MAILBOX_UPN = "no.mailbox@oaklearning.example"
DUPLICATE_MAIL = "office@northfield.oaklearning.example"
DUPLICATE_MAIL_IDS = ("a0000000-0000-4000-8000-000000000013", "a0000000-0000-4000-8000-000000000014")
OBRIEN_ID = "a0000000-0000-4000-8000-000000000015"
MARKUP_ID = "a0000000-0000-4000-8000-000000000016"
RTL_ID = "a0000000-0000-4000-8000-000000000017"

CLUTTER_GROUP_COUNT = 150
_NS = uuid.UUID("6f1d4b4e-2a37-4c0e-9a51-3c8e2f7d9b11")

_FIRST = ["Amelia", "Ben", "Chloe", "Daniel", "Emily", "Farah", "George", "Hannah", "Isaac",
          "Jasmine", "Kieran", "Lucy", "Mohammed", "Nina", "Oliver", "Priya", "Quentin",
          "Rosa", "Samuel", "Tara", "Umar", "Violet", "William", "Xena", "Yusuf", "Zara"]
_LAST = ["Archer", "Begum", "Clarke", "Dunn", "Evans", "Fletcher", "Gray", "Hughes", "Iqbal",
         "Jones", "Khan", "Lewis", "Morgan", "Nowak", "Owen", "Patel", "Quinn", "Reid",
         "Singh", "Turner", "Usman", "Vance", "Walsh", "Young", "Zielinski"]
_TITLES = ["Teacher", "Head of Year", "Teaching Assistant", "Business Manager", "SENCo",
           "Site Manager", "Receptionist", "Headteacher"]
_DEPARTMENTS = ["English", "Maths", "Science", "Humanities", "Support", "Office", "Leadership"]


def _uid(name):
    return str(uuid.uuid5(_NS, name))


def _person(uid, display, upn, mail="same", title=None, department=None, **extra):
    first, _, last = display.partition(" ")
    return dict(id=uid, displayName=display, givenName=first or None, surname=last or None,
                userPrincipalName=upn, mail=upn if mail == "same" else mail,
                jobTitle=title, department=department, **extra)


def _staff(school, count, domain_prefix, offset):
    people = []
    for i in range(count):
        first = _FIRST[(i + offset) % len(_FIRST)]
        last = _LAST[(i * 7 + offset) % len(_LAST)]
        upn = f"{first}.{last}{i + offset}@{TENANT_DOMAIN}".lower()
        title = None if i % 9 == 4 else _TITLES[i % len(_TITLES)]
        dept = None if i % 9 == 4 else _DEPARTMENTS[i % len(_DEPARTMENTS)]
        people.append(_person(_uid(f"{school}:{i}"), f"{first} {last}", upn,
                              mail=f"{first}.{last}@{domain_prefix}.{TENANT_DOMAIN}".lower(),
                              title=title, department=dept))
    return people


def _northfield_specials():
    d = TENANT_DOMAIN
    return [
        _person(GUEST_ID, "Sam Visitor", GUEST_UPN, mail="sam.visitor@partner.example",
                title="Visiting Examiner", userType="Guest"),
        _person(DISABLED_ID, "Dana Departed", f"dana.departed@{d}", title="Teacher",
                department="Science", accountEnabled=False),
        _person(NO_MAILBOX_ID, "Nadia Nomail", NO_MAILBOX_UPN, mail=None, title="Cover Supervisor"),
        _person(DUPLICATE_MAIL_IDS[0], "Pat Office", f"pat.office@{d}", mail=DUPLICATE_MAIL,
                title="Receptionist", department="Office"),
        _person(DUPLICATE_MAIL_IDS[1], "Chris Office", f"chris.office@{d}", mail=DUPLICATE_MAIL,
                title="Receptionist", department="Office"),
        _person(OBRIEN_ID, "Siobhán O'Brien", f"siobhan.obrien@{d}", mail=f"s.o'brien@{d}",
                title="Teacher", department="English"),
        _person(MARKUP_ID, "<b>Ms</b> Script", f"ms.script@{d}", title="<i>Teacher</i>",
                department="Computing & \"IT\""),
        _person(RTL_ID, "ليلى حداد", f"layla.haddad@{d}", title="Teacher", department="Languages"),
        _person(_uid("zoe"), "Zoë Ångström", f"zoe.angstrom@{d}", title="Teacher", department="Maths"),
        _person(_uid("jose"), "José Núñez", f"jose.nunez@{d}", title="Teacher", department="Languages"),
    ]


def demo_users():
    """Return (all users, northfield ids, ta ids, southfield ids, mail-security ids)."""
    admin = _person(ADMIN_ID, "IT Sync Admin", ADMIN_UPN, title="Trust IT Manager",
                    department="IT", _admin=True)
    personal = _person(PERSONAL_ID, "Jo Bloggs", PERSONAL_UPN, title="Teacher", department="Maths")
    north = _northfield_specials() + _staff("north", 15, "northfield", 0)
    tas = _staff("north-ta", 6, "northfield", 40)
    for ta in tas:
        ta["jobTitle"], ta["department"] = "Teaching Assistant", "Support"
    south = _staff("south", 19, "southfield", 80) + [personal]
    users = [admin] + north + tas + south
    mail_security = [admin["id"], north[3]["id"], south[0]["id"]]
    return users, [u["id"] for u in north], [u["id"] for u in tas], [u["id"] for u in south], mail_security


def demo_others():
    return [
        {"@odata.type": "#microsoft.graph.device", "id": DEVICE_ID, "displayName": "NF-STAFFROOM-PC01",
         "deviceId": _uid("device"), "operatingSystem": "Windows", "accountEnabled": True},
        {"@odata.type": "#microsoft.graph.orgContact", "id": ORG_CONTACT_ID,
         "displayName": "Northfield Catering (external)", "mail": "catering@supplier.example",
         "companyName": "Supplier Ltd"},
        {"@odata.type": "#microsoft.graph.servicePrincipal", "id": SERVICE_PRINCIPAL_ID,
         "displayName": "Northfield Timetable Connector", "appId": _uid("sp-app"),
         "servicePrincipalType": "Application"},
    ]


def _group(gid, name, kind, description=None):
    types, mail_enabled, security = {
        "security": ([], False, True), "mail-security": ([], True, True),
        "distribution": ([], True, False), "unified": (["Unified"], True, False),
        "dynamic": (["DynamicMembership"], False, True)}[kind]
    nickname = "".join(c for c in name.lower() if c.isalnum())[:60]
    return dict(id=gid, displayName=name, description=description, groupTypes=types,
                mailEnabled=mail_enabled, securityEnabled=security, mailNickname=nickname,
                mail=f"{nickname}@{TENANT_DOMAIN}" if mail_enabled else None,
                membershipRule="user.department -ne null" if kind == "dynamic" else None,
                membershipRuleProcessingState="On" if kind == "dynamic" else None,
                visibility="Private" if kind == "unified" else None)


def demo_groups():
    groups = [
        _group(NORTHFIELD_STAFF_GROUP_ID, "Northfield Staff", "security", "All staff at Northfield Academy"),
        _group(NORTHFIELD_TA_GROUP_ID, "Northfield Teaching Assistants", "security"),
        _group(SOUTHFIELD_STAFF_GROUP_ID, "Southfield Staff", "distribution", "Southfield Academy staff mailing list"),
        _group(MAIL_SECURITY_GROUP_ID, "Oak Mail-enabled Security", "mail-security"),
        _group(EVERYONE_GROUP_ID, "Oak Trust Everyone", "unified", "Microsoft 365 group for the whole trust"),
        _group(DYNAMIC_GROUP_ID, "Oak Staff With Department (dynamic)", "dynamic"),
    ]
    kinds = ["security", "distribution", "unified", "mail-security"]
    subjects = ["Maths", "English", "Science", "History", "Geography", "Art", "Music", "PE", "Drama", "Computing"]
    for i in range(CLUTTER_GROUP_COUNT):
        name = f"{'Northfield' if i % 2 else 'Southfield'} {subjects[i % 10]} Team {i // 10 + 1:02d}"
        groups.append(_group(_uid(f"clutter:{i}"), name, kinds[i % 4]))
    return groups


def dynamic_rule(user):
    return user.get("department") is not None


def load_demo(directory):
    users, north, tas, south, mail_security = demo_users()
    for user in users:
        directory.add_user(user)
    for other in demo_others():
        directory.add_other(other)
    for group in demo_groups():
        directory.add_group(group)
    members = {
        NORTHFIELD_STAFF_GROUP_ID: north + [NORTHFIELD_TA_GROUP_ID, DEVICE_ID, ORG_CONTACT_ID, SERVICE_PRINCIPAL_ID],
        NORTHFIELD_TA_GROUP_ID: tas,
        SOUTHFIELD_STAFF_GROUP_ID: south,
        MAIL_SECURITY_GROUP_ID: mail_security,
        EVERYONE_GROUP_ID: [u["id"] for u in users if u.get("userType") != "Guest"],
    }
    for gid, ids in members.items():
        directory.set_members(gid, ids)
    directory.set_dynamic_rule(DYNAMIC_GROUP_ID, dynamic_rule)

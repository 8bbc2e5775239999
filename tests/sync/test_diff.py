"""The sync's decision rules as a pure function (no database, no Microsoft)."""
from webapp.user_sync import models as m
from webapp.user_sync.engine.diff import (Existing, MicrosoftUser, counted_emails, decide,
                                          needs_review, plan_changes, removal_limit)


def user(uid, mail=None, upn=None, name="Person", enabled=True, user_type="Member", title=None):
    return MicrosoftUser(uid, name, mail, upn or f"{uid}@tenant.example", title, None, enabled,
                         user_type)


def existing(row_id, uid, email, status="active", excluded=False, in_group=True, membership_id=None,
             name="Person", role="member"):
    membership_id = membership_id or row_id + 100
    return Existing(row_id, uid, membership_id, row_id + 1000, role, email, name, None, None,
                    status, excluded, in_group)


def test_email_falls_back_to_the_sign_in_name_and_the_account_type_decides_who_is_a_guest():
    """Microsoft's userType decides (B2B collaboration: an external member has userType Member
    and an #EXT# sign-in name); only when Microsoft gives no type does #EXT# mark a guest."""
    plan = plan_changes([user("a", upn="a@t.example"),
                         user("g1", mail="g@x.example", user_type="Guest"),
                         user("b2b", mail="h@x.example", upn="h_x.example#EXT#@t.example"),
                         user("typeless", mail="i@x.example", upn="i_x.example#EXT#@t.example",
                              user_type=None),
                         user("plain-typeless", upn="p@t.example", user_type=None)], [], {})
    assert sorted((p.microsoft_id, p.email) for p, _ in plan.adds) == [
        ("a", "a@t.example"), ("b2b", "h@x.example"), ("plain-typeless", "p@t.example")]
    assert {(p.microsoft_id, reason) for p, reason, _ in plan.skips} == {
        ("g1", m.GUEST), ("typeless", m.INVITED)}
    with_guests = plan_changes([user("g1", mail="g@x.example", user_type="Guest")], [], {},
                               include_guests=True)
    assert len(with_guests.adds) == 1


def test_an_invited_accounts_ext_name_is_no_email_address():
    """mail null means no mailbox: the sign-in name stands in for it, unless it is an #EXT#
    name, which no mail reaches."""
    plan = plan_changes([user("member", upn="h_x.example#EXT#@t.example"),
                         user("no-mailbox", upn="cover.teacher@t.example")], [], {})
    assert [(p.microsoft_id, p.email) for p, _ in plan.adds] == [("no-mailbox", "cover.teacher@t.example")]
    assert [(p.microsoft_id, r) for p, r, _ in plan.skips] == [("member", m.NO_EMAIL)]


def test_a_member_named_by_id_alone_is_never_added_and_a_synced_one_keeps_their_details():
    """Graph's limited information: only @odata.type and id, every other property null."""
    limited = MicrosoftUser("known", None, None, None, None, None, None, None)
    stranger = MicrosoftUser("new", None, None, None, None, None, None, None)
    row = existing(1, "known", "known@t.example", name="Known Person")
    plan = plan_changes([limited, stranger], [row], {})
    assert not plan.adds and not plan.updates and not plan.suspends
    assert [(p.microsoft_id, r) for p, r, _ in plan.skips] == [("new", m.LIMITED_INFO)]
    assert [(r.id, p.display_name, p.email, reason) for r, p, reason in plan.keeps] == [
        (1, "Known Person", "known@t.example", m.LIMITED_INFO)]


def test_names_in_any_script_are_kept_whole_up_to_microsofts_256_characters():
    names = ["ليلى حداد", "王小明", "Zoë Ångström", "Jose\u0301 Nu\u0301n\u0303ez", "Ana 🎓 Silva",
             "ك" * 256]
    plan = plan_changes([user(f"u{i}", mail=f"u{i}@t.example", name=n) for i, n in enumerate(names)],
                        [], {})
    assert [p.display_name for p, _ in plan.adds] == names


def test_two_people_with_one_email_are_both_skipped_but_a_disabled_twin_does_not_count():
    plan = plan_changes([user("a", mail="Office@t.example"), user("b", mail="office@t.example")],
                        [], {})
    assert [reason for _, reason, _ in plan.skips] == [m.DUPLICATE_EMAIL, m.DUPLICATE_EMAIL]
    plan = plan_changes([user("old", mail="jo@t.example", enabled=False),
                         user("new", mail="jo@t.example")], [], {})
    assert [p.microsoft_id for p, _ in plan.adds] == ["new"]
    assert [(p.microsoft_id, r) for p, r, _ in plan.skips] == [("old", m.DISABLED)]


def test_keyed_by_microsoft_id_a_changed_email_is_an_update_not_a_new_person():
    plan = plan_changes([user("a", mail="new@t.example", name="Person")],
                        [existing(1, "a", "old@t.example")], {})
    assert plan.adds == [] and [(row.id, changed) for row, _, changed in plan.updates] == [
        (1, ("email",))]


def test_leavers_are_suspended_unless_protected_excluded_or_already_suspended():
    rows = [existing(1, "a", "a@t"), existing(2, "b", "b@t"), existing(3, "c", "c@t", excluded=True),
            existing(4, "d", "d@t", status="suspended", in_group=False)]
    plan = plan_changes([], rows, {102: m.PROTECTED_ADMIN})
    assert [(row.id, reason) for row, _, reason in plan.suspends] == [(1, m.LEFT_GROUP)]
    assert [(row.id, reason) for row, _, reason in plan.keeps] == [(2, m.PROTECTED_ADMIN)]
    assert plan.presence == {1: False, 2: False, 3: False}


def test_a_returning_person_is_reinstated_and_a_same_again_person_is_unchanged():
    rows = [existing(1, "a", "a@t", status="suspended", in_group=False), existing(2, "b", "b@t")]
    plan = plan_changes([user("a", mail="a@t"), user("b", mail="b@t")], rows, {})
    assert [row.id for row, _, _ in plan.reinstates] == [1]
    assert plan.unchanged == 1 and plan.presence == {1: True}
    assert not plan_changes([user("b", mail="b@t")], [rows[1]], {}).has_changes


def test_the_removal_limit_is_a_share_but_never_below_the_minimum():
    assert removal_limit(20, 10, 5) == 5 and removal_limit(1000, 10, 5) == 100
    rows = [existing(i, f"u{i}", f"u{i}@t") for i in range(1, 61)]
    seven_leave = plan_changes([user(f"u{i}", mail=f"u{i}@t") for i in range(8, 61)], rows, {})
    assert len(seven_leave.suspends) == 7
    assert needs_review(seven_leave, 60, 10, 5)  # limit: 10% of 60 = 6
    assert not needs_review(seven_leave, 60, 10, 7)


def test_a_person_with_neither_a_mailbox_nor_a_sign_in_name_is_skipped_not_added():
    nameless = MicrosoftUser("x", "No Address", None, None, None, None, True, "Member")
    plan = plan_changes([nameless, user("y", mail="y@t.example")], [], {})
    assert [(p.microsoft_id, reason) for p, reason, _ in plan.skips] == [("x", m.NO_EMAIL)]
    assert [p.microsoft_id for p, _ in plan.adds] == ["y"]


def test_one_persons_decision_is_the_one_the_plan_records():
    rows = [existing(1, "a", "a@t", status="suspended"), existing(2, "b", "b@t")]
    fetched = [user("a", mail="a@t"), user("b", mail="b2@t"), user("c", mail="c@t", enabled=False)]
    emails = counted_emails(fetched)
    decided = {u.id: decide(u, {r.microsoft_id: r for r in rows}.get(u.id), {}, False,
                            emails[u.mail]).action for u in fetched}
    assert decided == {"a": m.REINSTATE, "b": m.UPDATE, "c": m.SKIP}
    plan = plan_changes(fetched, rows, {})
    assert ([r.id for r, _, _ in plan.reinstates], [r.id for r, _, _ in plan.updates],
            [p.microsoft_id for p, _, _ in plan.skips]) == ([1], [2], ["c"])


def test_the_chosen_groups_are_part_of_the_one_decision():
    from webapp.microsoft.selection import ChosenGroup, Selection
    selection = Selection((ChosenGroup("A", "Teaching Staff", "sync"),
                           ChosenGroup("B", "Support Staff", "sync"),
                           ChosenGroup("P", "All Pupils", "exclude")))
    memberships = {"A": {"t", "both", "pupil", "twin"}, "B": {"both", "was_pupil"},
                   "P": {"pupil", "was_pupil", "twin"}}
    fetched = [user("t", mail="t@t"), user("both", mail="both@t"), user("pupil", mail="p@t"),
               user("was_pupil", mail="w@t"), user("twin", mail="t@t")]
    rows = [existing(1, "both", "both@t"), existing(2, "was_pupil", "w@t")]
    emails = counted_emails(fetched, False, memberships, selection)
    assert emails["t@t"] == 1  # the excluded twin does not make t a duplicate
    pupil = decide(fetched[2], None, {}, False, emails["p@t"], memberships, selection)
    assert (pupil.action, pupil.reason, pupil.scope.excluding.name) == (
        m.SKIP, m.EXCLUDED_GROUP, "All Pupils")
    plan = plan_changes(fetched, rows, {}, False, memberships, selection)
    assert [p.microsoft_id for p, _ in plan.adds] == ["t"]
    assert [(row.id, reason) for row, _, reason in plan.suspends] == [(2, m.EXCLUDED_GROUP)]
    assert {p.microsoft_id: reason for p, reason, _ in plan.skips} == {
        "pupil": m.EXCLUDED_GROUP, "twin": m.EXCLUDED_GROUP}
    assert plan.excluded_by == dict.fromkeys(["pupil", "was_pupil", "twin"], "All Pupils")
    assert plan.via == {"t": "Teaching Staff", "both": "Teaching Staff, Support Staff"}
    assert plan.via_changes == {1: "Teaching Staff, Support Staff"} and plan.presence == {2: False}


def test_without_a_selection_everyone_fetched_is_in_scope_and_via_is_left_alone():
    plan = plan_changes([user("a", mail="a@t")], [existing(1, "a", "a@t")], {})
    assert plan.via == {} and plan.via_changes == {} and not plan.has_changes


def test_sync_this_person_now_counts_an_address_in_any_unicode_form_as_the_sync_does():
    """Two people share "zoë@..." (one typed with a combining diaeresis): the sync skips both,
    but Sync this person now looked the count up by lower() alone, found 0 sharing it, and
    added one (the sync matches addresses trimmed, in NFC and in lower case)."""
    from webapp.user_sync.engine.one_person import _plan
    from webapp.user_sync.engine.person_lookup import FoundPerson
    composed, decomposed = "zo\u00eb@t.example", "Zoe\u0308@t.example"
    one, twin = user("a", mail=composed), user("b", mail=decomposed)
    full = plan_changes([one, twin], [], {})
    assert not full.adds and {(p.microsoft_id, reason) for p, reason, _ in full.skips} == {
        ("a", m.DUPLICATE_EMAIL), ("b", m.DUPLICATE_EMAIL)}
    for asked, other in ((one, twin), (twin, one)):
        alone = _plan(FoundPerson(asked, [other], None), None, {}, False, None)
        assert not alone.adds
        assert [(p.microsoft_id, reason) for p, reason, _ in alone.skips] == [
            (asked.id, m.DUPLICATE_EMAIL)]

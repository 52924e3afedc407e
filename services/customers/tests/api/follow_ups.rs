//! Contacts, follow-ups, managers' comments and the morning reminder lists.

use crm_proto::customers as pb;
use prost_types::{FieldMask, Timestamp};
use tonic::Code;

use crate::helpers::{assert_field, company, create, spawn};

fn ts(micros: i64) -> Timestamp {
    crm_kit::time::to_proto(micros)
}

#[tokio::test]
async fn contacts_keep_exactly_one_primary() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let c = create(&mut alice, company("Contacts Ltd")).await;
    let add = |name: &str, primary: bool| pb::CreateContactRequest {
        contact: Some(pb::Contact {
            customer_id: c.id.clone(),
            name: name.into(),
            is_primary: primary,
            ..Default::default()
        }),
        request_id: String::new(),
    };
    let first = alice
        .create_contact(add("First", false))
        .await
        .unwrap()
        .into_inner()
        .contact
        .unwrap();
    assert!(first.is_primary, "the first contact becomes primary");
    let second = alice
        .create_contact(add("Second", true))
        .await
        .unwrap()
        .into_inner()
        .contact
        .unwrap();
    assert!(second.is_primary);
    let list = alice
        .list_contacts(pb::ListContactsRequest {
            customer_id: c.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .contacts;
    assert_eq!(list.iter().filter(|c| c.is_primary).count(), 1);
    assert_eq!(list[0].id, second.id, "primary first");
    // Un-setting the primary directly is refused; deleting it promotes the oldest remaining.
    let mut edit = second.clone();
    edit.is_primary = false;
    assert_field(
        alice
            .update_contact(pb::UpdateContactRequest {
                contact: Some(edit),
                update_mask: Some(FieldMask {
                    paths: vec!["is_primary".into()],
                }),
            })
            .await,
        Code::InvalidArgument,
        "contact.is_primary",
    );
    alice
        .delete_contact(pb::DeleteContactRequest { id: second.id.clone() })
        .await
        .unwrap();
    let list = alice
        .list_contacts(pb::ListContactsRequest {
            customer_id: c.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .contacts;
    assert_eq!(list.len(), 1);
    assert!(list[0].is_primary);
    // Mobile validation names the field.
    let mut bad = add("Bad", false);
    bad.contact.as_mut().unwrap().mobile = "12345".into();
    assert_field(alice.create_contact(bad).await, Code::InvalidArgument, "contact.mobile");
}

#[tokio::test]
async fn follow_ups_move_the_customer_clock_and_take_comments() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let c = create(&mut alice, company("Follow Up Ltd")).await;
    let now = crm_kit::time::now_micros();
    let next = now + 2 * crm_kit::time::DAY_MICROS;
    let f = alice
        .create_follow_up(pb::CreateFollowUpRequest {
            follow_up: Some(pb::FollowUp {
                customer_id: c.id.clone(),
                method: pb::FollowUpMethod::Visit as i32,
                occur_time: Some(ts(now - 3_600_000_000)),
                summary: "Visited the plant".into(),
                next_contact_time: Some(ts(next)),
                next_plan: "send the quote".into(),
                check_in: Some(pb::CheckIn {
                    check_in_time: None,
                    latitude: "22.543096".into(),
                    longitude: "114.057865".into(),
                    address: "深圳福田".into(),
                }),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .follow_up
        .unwrap();
    assert_eq!(f.author_id, "alice");
    assert_eq!(f.check_in.as_ref().unwrap().latitude, "22.543096");
    let got = alice
        .get_customer(pb::GetCustomerRequest { id: c.id.clone() })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap();
    assert_eq!(got.last_follow_up_time, Some(ts(now - 3_600_000_000)));
    assert_eq!(got.next_follow_up_time, Some(ts(next)));

    // A check-in needs a visit.
    let mut bad = pb::FollowUp {
        customer_id: c.id.clone(),
        method: pb::FollowUpMethod::Phone as i32,
        summary: "x".into(),
        ..Default::default()
    };
    bad.check_in = Some(pb::CheckIn {
        latitude: "1".into(),
        longitude: "1".into(),
        ..Default::default()
    });
    assert_field(
        alice
            .create_follow_up(pb::CreateFollowUpRequest {
                follow_up: Some(bad),
                request_id: String::new(),
            })
            .await,
        Code::InvalidArgument,
        "follow_up.check_in",
    );

    // Only managers comment; the salesperson sees it.
    let status = alice
        .comment_follow_up(pb::CommentFollowUpRequest {
            follow_up_id: f.id.clone(),
            text: "ok".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let mut manager = app.manager().await;
    manager
        .comment_follow_up(pb::CommentFollowUpRequest {
            follow_up_id: f.id.clone(),
            text: "Push for Q4 delivery".into(),
        })
        .await
        .unwrap();
    let seen = alice
        .get_follow_up(pb::GetFollowUpRequest { id: f.id.clone() })
        .await
        .unwrap()
        .into_inner()
        .follow_up
        .unwrap();
    assert_eq!(seen.comments.len(), 1);
    assert_eq!(seen.comments[0].author_id, "boss");
}

#[tokio::test]
async fn reminder_lists() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let now = crm_kit::time::now_micros();
    let day = crm_kit::time::DAY_MICROS;
    let today = crm_kit::time::local_day_start(now, 480);
    let follow = |id: String, next: i64| pb::CreateFollowUpRequest {
        follow_up: Some(pb::FollowUp {
            customer_id: id,
            method: pb::FollowUpMethod::Phone as i32,
            summary: "call".into(),
            occur_time: Some(ts(now - 60_000_000)),
            next_contact_time: Some(ts(next)),
            ..Default::default()
        }),
        request_id: String::new(),
    };
    let t = create(&mut alice, company("Due Today Ltd")).await;
    let tm = create(&mut alice, company("Due Tomorrow Ltd")).await;
    let od = create(&mut alice, company("Overdue Ltd")).await;
    let quiet = create(&mut alice, company("Quiet Ltd")).await;
    // "Due today" late in the local day; "overdue" an hour ago but it is not yet due when now
    // is in the first hour of the day, so make it a past day to keep the test stable.
    alice
        .create_follow_up(follow(t.id.clone(), (today + day - 1).max(now)))
        .await
        .unwrap();
    alice
        .create_follow_up(follow(tm.id.clone(), today + day + 3_600_000_000))
        .await
        .unwrap();
    let mut overdue = follow(od.id.clone(), now);
    overdue.follow_up.as_mut().unwrap().occur_time = Some(ts(now - 3 * day));
    overdue.follow_up.as_mut().unwrap().next_contact_time = Some(ts(now - 2 * day));
    alice.create_follow_up(overdue).await.unwrap();
    crate::helpers::age_ownership(&app.database_url, 40).await;

    let list = |kind: pb::ReminderKind, days: i32| pb::ListRemindersRequest {
        kind: kind as i32,
        days,
        utc_offset_minutes: Some(480),
        ..Default::default()
    };
    let ids = |r: pb::ListRemindersResponse| {
        r.reminders
            .into_iter()
            .map(|r| r.customer.unwrap().id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(alice
            .list_reminders(list(pb::ReminderKind::Today, 0))
            .await
            .unwrap()
            .into_inner()),
        vec![t.id.clone()]
    );
    assert_eq!(
        ids(alice
            .list_reminders(list(pb::ReminderKind::Tomorrow, 0))
            .await
            .unwrap()
            .into_inner()),
        vec![tm.id.clone()]
    );
    assert_eq!(
        ids(alice
            .list_reminders(list(pb::ReminderKind::Overdue, 0))
            .await
            .unwrap()
            .into_inner()),
        vec![od.id.clone()]
    );
    // Quiet has had no follow-up since it was created 40 days ago.
    assert_eq!(
        ids(alice
            .list_reminders(list(pb::ReminderKind::NotContacted, 30))
            .await
            .unwrap()
            .into_inner()),
        vec![quiet.id.clone()]
    );
    assert_eq!(
        ids(alice
            .list_reminders(list(pb::ReminderKind::NoOrder, 30))
            .await
            .unwrap()
            .into_inner())
        .len(),
        4
    );
    // Someone else's morning list is their own.
    let mut bob = app.sales("bob").await;
    assert!(
        bob.list_reminders(list(pb::ReminderKind::Today, 0))
            .await
            .unwrap()
            .into_inner()
            .reminders
            .is_empty()
    );
    assert_eq!(
        bob.list_reminders(pb::ListRemindersRequest {
            kind: pb::ReminderKind::Today as i32,
            team: true,
            ..Default::default()
        })
        .await
        .unwrap_err()
        .code(),
        Code::PermissionDenied
    );

    // Birthdays this week: today's month-day in UTC+8.
    let (_, m, d) = crm_kit::time::civil_from_days((now + 480 * 60_000_000).div_euclid(day));
    alice
        .create_contact(pb::CreateContactRequest {
            contact: Some(pb::Contact {
                customer_id: quiet.id.clone(),
                name: "生日快乐".into(),
                birthday: format!("--{m:02}-{d:02}"),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
    let birthdays = alice
        .list_reminders(list(pb::ReminderKind::BirthdaysThisWeek, 0))
        .await
        .unwrap()
        .into_inner()
        .reminders;
    assert_eq!(birthdays.len(), 1);
    assert_eq!(birthdays[0].contact.as_ref().unwrap().name, "生日快乐");
    assert_eq!(birthdays[0].customer.as_ref().unwrap().id, quiet.id);
}

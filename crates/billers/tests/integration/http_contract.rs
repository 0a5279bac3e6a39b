//! The biller clients against the simulators over real loopback HTTP: every wire outcome maps to
//! exactly one answer, and the simulators' ledgers prove "never twice".

use crate::common;

use billers::sim::{DEMO_CARD, JOINT_ACCOUNT};
use billers::{
    AccountKind, BillerError, HouseholdAccount, PurchaseRequest, ReconKind, WriteOffExpectation,
    WriteOffRequest,
};
use common::{admin_post, billed, billed_in, env, fresh_account, fresh_card_account, write_off_for, Billed};
use kiosk_core::{AccountNo, Channel, ConfirmReply, Fen, Ts, Utility, WriteOffReply, WriteOffStatus};
use serde_json::json;
use simkit::Fault;
use std::time::Duration;

fn written_off_txn(reply: &WriteOffReply) -> String {
    match reply {
        WriteOffReply::WrittenOff { biller_txn, .. } => biller_txn.clone(),
        other => panic!("expected WrittenOff, got {other:?}"),
    }
}

/// The biller's definite refusal of a write-off to a closed account.
fn account_closed() -> Fault {
    Fault::WriteOffReject { code: "ACCOUNT_CLOSED".into() }
}

#[tokio::test]
async fn fetches_the_bill_of_an_account() {
    let env = env().await;
    let account = AccountNo::from_trusted(common::account_no(Utility::Water, 1));
    let seed = json!({ "account": account.as_str(), "amount_due_fen": 3150, "holder_masked": "赵*" });
    assert!(admin_post(&env.sims.water.url(), "/admin/accounts", seed).await.status().is_success());
    let bill = env.billers.get(Utility::Water).fetch_bill(&account).await.unwrap();
    assert_eq!(bill.utility, Utility::Water);
    assert_eq!(bill.account, account);
    assert_eq!(bill.amount_due, Fen(3150));
    assert_eq!(bill.version, 1);
    assert_eq!(bill.holder_masked, "赵*");
    assert_eq!(bill.period.as_deref(), Some("2026-11"), "the simulator's default period");
    assert!(bill.recent_payments.is_empty());

    // A biller that names no period: the bill comes without one.
    let seed = json!({ "account": account.as_str(), "amount_due_fen": 3150, "period": "" });
    assert!(admin_post(&env.sims.water.url(), "/admin/accounts", seed).await.status().is_success());
    let bill = env.billers.get(Utility::Water).fetch_bill(&account).await.unwrap();
    assert_eq!((bill.period, bill.amount_due), (None, Fen(3150)));
}

#[tokio::test]
async fn an_unknown_account_is_reported_as_such() {
    let env = env().await;
    let unknown = AccountNo::from_trusted(common::account_no(Utility::Power, 999));
    let error = env.billers.get(Utility::Power).fetch_bill(&unknown).await.unwrap_err();
    assert_eq!(error, BillerError::UnknownAccount);
    assert_eq!(error.message().in_lang(catalogue::Lang::Zh), "未查到该户号，请对照账单核对户号。");
}

#[tokio::test]
async fn a_repeated_write_off_is_already_written_off_with_the_same_txn() {
    let Billed { env, client: water, account, request } = billed(Utility::Water, 2, 3150).await;

    let first = written_off_txn(&water.write_off(&request).await);
    let again = written_off_txn(&water.write_off(&request).await);
    assert_eq!(first, again);

    let ledger = env.sims.water.sim.ledger();
    assert_eq!(ledger.count(&request.reference), 1);
    assert_eq!(ledger.write_off(&request.reference).unwrap().amount_fen, 3150);
    let after = water.fetch_bill(&account).await.unwrap();
    assert_eq!((after.amount_due, after.version), (Fen(0), 2));
    assert_eq!(
        water.write_off_status(&(&request).into()).await,
        WriteOffStatus::WrittenOff { biller_txn: first, card: None }
    );
}

#[tokio::test]
async fn a_reply_lost_after_commit_is_unknown_and_the_status_query_finds_it() {
    let Billed { env, client: power, request, .. } = billed(Utility::Power, 3, 12680).await;
    env.sims.power.sim.faults().inject("write_off", Fault::DropReply, 1);

    assert!(matches!(power.write_off(&request).await, WriteOffReply::Unknown { .. }));
    let WriteOffStatus::WrittenOff { biller_txn, .. } = power.write_off_status(&(&request).into()).await
    else {
        panic!("the biller committed the write-off");
    };
    // Resending under the same reference is safe: the same transaction, still one entry.
    assert_eq!(written_off_txn(&power.write_off(&request).await), biller_txn);
    assert_eq!(env.sims.power.sim.ledger().count(&request.reference), 1);
}

#[tokio::test]
async fn a_request_lost_before_the_biller_saw_it_is_not_found() {
    let Billed { env, client: gas, request, .. } = billed(Utility::Gas, 4, 4560).await;
    env.sims.gas.sim.faults().inject("write_off", Fault::DropRequest, 1);

    assert!(matches!(gas.write_off(&request).await, WriteOffReply::Unknown { .. }));
    assert_eq!(gas.write_off_status(&(&request).into()).await, WriteOffStatus::NotFound);
    assert!(env.sims.gas.sim.ledger().write_offs.is_empty());
}

#[tokio::test]
async fn a_slow_biller_is_unknown_then_found_written_off() {
    let Billed { env, client: water, request, .. } = billed(Utility::Water, 5, 2000).await;
    env.sims.water.sim.faults().inject("write_off", Fault::Delay { ms: 1_500 }, 1);

    assert!(matches!(water.write_off(&request).await, WriteOffReply::Unknown { .. }));
    let mut status = WriteOffStatus::NotFound;
    for _ in 0..30 {
        status = water.write_off_status(&(&request).into()).await;
        if status != WriteOffStatus::NotFound {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(matches!(status, WriteOffStatus::WrittenOff { .. }), "{status:?}");
}

#[tokio::test]
async fn a_bill_changed_elsewhere_is_rejected_with_bill_changed() {
    let Billed { env, client: water, account, request } = billed(Utility::Water, 6, 5820).await;
    let path = format!("/admin/accounts/{}/pay-elsewhere", account.as_str());
    let changed = admin_post(&env.sims.water.url(), &path, json!({ "amount_fen": 2000 })).await;
    assert!(changed.status().is_success());

    let reply = water.write_off(&request).await;
    assert!(matches!(&reply, WriteOffReply::Rejected { code, .. } if code == "BILL_CHANGED"), "{reply:?}");
    assert!(matches!(
        water.write_off_status(&(&request).into()).await,
        WriteOffStatus::Rejected { code, .. } if code == "BILL_CHANGED"
    ));
    let fresh = water.fetch_bill(&account).await.unwrap();
    assert_eq!((fresh.amount_due, fresh.version), (Fen(3820), 2));
}

#[tokio::test]
async fn a_definite_refusal_is_rejected_and_remembered() {
    let Billed { env, client: power, request, .. } = billed(Utility::Power, 7, 8935).await;
    env.sims.power.sim.faults().inject("write_off", account_closed(), 1);

    let closed =
        WriteOffReply::Rejected { code: "ACCOUNT_CLOSED".into(), message: "refused by the biller".into() };
    assert_eq!(power.write_off(&request).await, closed);
    // The refusal is remembered: a repeat gets the same answer, not a write-off.
    assert_eq!(power.write_off(&request).await, closed);
    assert_eq!(env.sims.power.sim.ledger().rejected.len(), 1);
    assert!(env.sims.power.sim.ledger().write_offs.is_empty());
}

#[tokio::test]
async fn a_reply_with_a_bad_signature_is_unknown_even_though_the_biller_committed() {
    let Billed { env, client: gas, account, request } = billed(Utility::Gas, 8, 3870).await;
    env.sims.gas.sim.faults().inject("write_off", Fault::BadSignature, 1);
    env.sims.gas.sim.faults().inject("bill", Fault::BadSignature, 1);

    let reply = gas.write_off(&request).await;
    assert!(matches!(&reply, WriteOffReply::Unknown { detail } if detail.contains("signature")), "{reply:?}");
    assert_eq!(env.sims.gas.sim.ledger().count(&request.reference), 1);
    assert!(matches!(gas.fetch_bill(&account).await, Err(BillerError::BadReply { .. })));
}

#[tokio::test]
async fn a_server_error_is_unknown_and_nothing_is_written_off() {
    let Billed { env, client: water, account, request } = billed(Utility::Water, 9, 3150).await;
    let rules = json!([
        { "endpoint": "write_off", "fault": "status", "code": 503 },
        { "endpoint": "bill", "fault": "status", "code": 502 }
    ]);
    assert!(admin_post(&env.sims.water.url(), "/admin/faults", rules).await.status().is_success());

    assert!(
        matches!(water.write_off(&request).await, WriteOffReply::Unknown { detail } if detail == "HTTP 503")
    );
    assert!(matches!(water.fetch_bill(&account).await, Err(BillerError::Unavailable { .. })));
    let ledger: serde_json::Value =
        reqwest::get(format!("{}/admin/ledger", env.sims.water.url())).await.unwrap().json().await.unwrap();
    assert_eq!(ledger["write_offs"], json!([]));
}

#[tokio::test]
async fn a_client_with_the_wrong_key_is_refused_and_learns_nothing_definite() {
    let env = env().await;
    let mut entry = env.sims.water.client_entry();
    entry.key = "some-other-key-0123456789".into();
    let client = billers::BillerClient::new(Utility::Water, &entry, common::KIOSK).unwrap();
    let (account, request) = billed_in(&env, Utility::Water, 10, 3150).await;

    assert!(matches!(client.fetch_bill(&account).await, Err(BillerError::BadReply { .. })));
    assert!(matches!(client.write_off(&request).await, WriteOffReply::Unknown { .. }));
    assert!(env.sims.water.sim.ledger().write_offs.is_empty());
}

#[tokio::test]
async fn a_prepaid_purchase_is_idempotent_and_waits_for_the_meter() {
    let env = env().await;
    let gas = env.billers.get(Utility::Gas);
    let account = fresh_card_account(&env, 11, "8800000110", 3);
    let purchase = |reference: &str, purchase_count| PurchaseRequest {
        reference: reference.into(),
        account: account.clone(),
        card_no: "8800000110".into(),
        purchase_count,
        amount: Fen(5000),
        channel: Channel::Alipay,
        channel_txn: "2026112322001".into(),
        paid_at: Ts(1_764_000_000_000),
    };

    let first = gas.prepaid_purchase(&purchase("YZTEST00000011-1", 3)).await;
    let WriteOffReply::WrittenOff { biller_txn, card: Some(card) } = &first else {
        panic!("expected a purchase with card data, got {first:?}");
    };
    assert_eq!(card.purchase_seq, 4);
    assert_eq!(gas.prepaid_purchase(&purchase("YZTEST00000011-1", 3)).await, first);
    let expected = WriteOffExpectation::from(&purchase("YZTEST00000011-1", 3));
    assert!(matches!(
        gas.write_off_status(&expected).await,
        WriteOffStatus::WrittenOff { biller_txn: t, card: Some(c) } if &t == biller_txn && c.purchase_seq == 4
    ));
    assert_eq!(gas.purchase_status(&expected).await, gas.write_off_status(&expected).await);
    assert_eq!(gas.confirm_card_write("YZTEST00000011-1").await, ConfirmReply::Confirmed);
    assert_eq!(gas.confirm_card_write("YZTEST00000011-1").await, ConfirmReply::Confirmed);
    assert!(matches!(gas.confirm_card_write("YZNOSUCHREF-1").await, ConfirmReply::Unknown { .. }));

    // The card now says 4, but the meter has not loaded purchase 4: no new sale.
    let refused = gas.prepaid_purchase(&purchase("YZTEST00000012-1", 4)).await;
    assert!(matches!(&refused, WriteOffReply::Rejected { code, .. } if code == "LAST_PURCHASE_NOT_LOADED"));
    let loaded = admin_post(&env.sims.gas.url(), "/admin/cards/8800000110/loaded", json!({})).await;
    assert!(loaded.status().is_success());
    let next = gas.prepaid_purchase(&purchase("YZTEST00000013-1", 4)).await;
    assert!(matches!(next, WriteOffReply::WrittenOff { card: Some(c), .. } if c.purchase_seq == 5));

    let ledger = env.sims.gas.sim.ledger();
    assert_eq!(ledger.purchases.len(), 2);
    assert!(ledger.purchase("YZTEST00000011-1").unwrap().card_written);
}

#[tokio::test]
async fn the_reconciliation_file_lists_what_was_booked() {
    let Billed { env, client: gas, account, request } = billed(Utility::Gas, 14, 4560).await;
    written_off_txn(&gas.write_off(&request).await);
    let demo_card = AccountNo::from_trusted("3300000019");
    let purchase = PurchaseRequest {
        reference: "YZTEST00000015-1".into(),
        account: demo_card,
        card_no: DEMO_CARD.into(),
        purchase_count: 3,
        amount: Fen(10000),
        channel: Channel::WeChat,
        channel_txn: "4200000002".into(),
        paid_at: Ts(1_764_000_000_000),
    };
    written_off_txn(&gas.prepaid_purchase(&purchase).await);

    let date = env.sims.gas.sim.ledger().write_offs[0].date.clone();
    let rows = gas.reconciliation(&date).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0].reference.as_str(), rows[0].amount, &rows[0].kind),
        ("YZTEST00000014-1", Fen(4560), &ReconKind::Pay)
    );
    assert_eq!(
        (rows[1].reference.as_str(), rows[1].amount, &rows[1].kind),
        ("YZTEST00000015-1", Fen(10000), &ReconKind::Prepaid)
    );
    assert_eq!(rows[0].account, account);
    assert!(gas.reconciliation("2001-01-01").await.unwrap().is_empty());
    assert!(matches!(gas.reconciliation("yesterday").await, Err(BillerError::BadReply { .. })));
}

#[tokio::test]
async fn the_joint_bill_shows_each_utility_live() {
    let env = env().await;
    let joint = env.billers.joint().expect("joint service configured");
    let household = AccountNo::from_trusted(JOINT_ACCOUNT);
    let bill = joint.fetch_joint_bill(&household).await.unwrap();
    let utilities: Vec<Utility> = bill.bills.iter().map(|b| b.utility).collect();
    assert_eq!(utilities, [Utility::Water, Utility::Power, Utility::Gas]);
    assert_eq!(bill.total(), Some(Fen(2740 + 10420 + 3870)));

    // Paying the water sub-bill at the water biller shows on the joint bill at once.
    let water_bill = bill.bills[0].clone();
    written_off_txn(
        &env.billers.get(Utility::Water).write_off(&write_off_for(&water_bill, "YZTEST00000016")).await,
    );
    let after = joint.fetch_joint_bill(&household).await.unwrap();
    assert_eq!((after.bills[0].amount_due, after.bills[0].version), (Fen(0), 2));
    assert_eq!(after.total(), Some(Fen(10420 + 3870)));

    let stranger = AccountNo::from_trusted("3900000013");
    assert_eq!(joint.fetch_joint_bill(&stranger).await, Err(BillerError::UnknownAccount));

    // A household without power, created over the admin endpoint.
    let water = fresh_account(&env, Utility::Water, 17, 1500);
    let gas = fresh_account(&env, Utility::Gas, 17, 2500);
    let household = json!({
        "joint_account": "3900000013", "holder_masked": "孙*", "water": water.as_str(), "gas": gas.as_str()
    });
    assert!(admin_post(&env.sims.joint.url(), "/admin/households", household).await.status().is_success());
    let small = joint.fetch_joint_bill(&stranger).await.unwrap();
    assert_eq!(small.bills.iter().map(|b| b.utility).collect::<Vec<_>>(), [Utility::Water, Utility::Gas]);
    assert_eq!(small.total(), Some(Fen(4000)));
}

#[tokio::test]
async fn a_prepaid_card_resolves_to_its_account_and_its_counts_follow_the_purchases() {
    let env = env().await;
    let gas = env.billers.get(Utility::Gas);
    let counts = |card: &billers::PrepaidCard| (card.issued_seq, card.loaded_seq);

    let card = gas.prepaid_card(DEMO_CARD).await.unwrap();
    assert_eq!(card.card_no, DEMO_CARD);
    assert_eq!(card.account, AccountNo::from_trusted("3300000019"));
    assert_eq!(card.holder_masked, "刘*国");
    assert_eq!(counts(&card), (3, 3));

    // The kiosk sells to the account it learned from the card.
    let purchase = |reference: &str, purchase_count| PurchaseRequest {
        reference: reference.into(),
        account: card.account.clone(),
        card_no: DEMO_CARD.into(),
        purchase_count,
        amount: Fen(8000),
        channel: Channel::WeChat,
        channel_txn: "4200000018".into(),
        paid_at: Ts(1_764_000_000_000),
    };
    written_off_txn(&gas.prepaid_purchase(&purchase("YZTEST00000018-1", 3)).await);
    assert_eq!(counts(&gas.prepaid_card(DEMO_CARD).await.unwrap()), (4, 3), "issued, not yet loaded");
    assert!(env.sims.gas.sim.mark_card_loaded(DEMO_CARD).is_some());
    assert_eq!(counts(&gas.prepaid_card(DEMO_CARD).await.unwrap()), (4, 4));

    // A card seeded on another account resolves to that one.
    let account = fresh_card_account(&env, 19, "8800000190", 7);
    let other = gas.prepaid_card("8800000190").await.unwrap();
    assert_eq!((&other.account, counts(&other)), (&account, (7, 7)));
}

#[tokio::test]
async fn an_unknown_card_is_reported_as_such() {
    let env = env().await;
    let gas = env.billers.get(Utility::Gas);
    let error = gas.prepaid_card("8800000999").await.unwrap_err();
    assert_eq!(error, BillerError::UnknownCard);
    assert_eq!(
        error.message().in_lang(catalogue::Lang::Zh),
        "未查到该卡对应的户号，请核对卡片或到营业厅咨询。"
    );
    // Only the gas biller holds cards in the demo data; an empty number is asked of no one.
    assert_eq!(env.billers.get(Utility::Water).prepaid_card(DEMO_CARD).await, Err(BillerError::UnknownCard));
    assert_eq!(gas.prepaid_card("").await, Err(BillerError::UnknownCard));
}

#[tokio::test]
async fn a_card_lookup_with_a_bad_signature_or_a_failing_biller_is_not_trusted() {
    let env = env().await;
    let gas = env.billers.get(Utility::Gas);
    env.sims.gas.sim.faults().inject("card", Fault::BadSignature, 1);
    let error = gas.prepaid_card(DEMO_CARD).await.unwrap_err();
    assert!(matches!(&error, BillerError::BadReply { detail } if detail.contains("signature")), "{error:?}");

    let rules = json!([{ "endpoint": "card", "fault": "status", "code": 503 }]);
    assert!(admin_post(&env.sims.gas.url(), "/admin/faults", rules).await.status().is_success());
    assert!(matches!(gas.prepaid_card(DEMO_CARD).await, Err(BillerError::Unavailable { .. })));

    let mut entry = env.sims.gas.client_entry();
    entry.key = "some-other-key-0123456789".into();
    let stranger = billers::BillerClient::new(Utility::Gas, &entry, common::KIOSK).unwrap();
    assert!(matches!(stranger.prepaid_card(DEMO_CARD).await, Err(BillerError::BadReply { .. })));
    // The faults were for one request each: the biller answers again.
    assert_eq!(gas.prepaid_card(DEMO_CARD).await.unwrap().issued_seq, 3);
}

#[tokio::test]
async fn an_id_card_holder_finds_the_household_joint_account_without_typing_it() {
    let env = env().await;
    let joint = env.billers.joint().expect("joint service configured");
    let accounts = joint.household(billers::sim::DEMO_HOLDER).await.unwrap();
    let found: Vec<(AccountKind, &str)> = accounts.iter().map(|a| (a.kind, a.account.as_str())).collect();
    assert_eq!(
        found,
        [
            (AccountKind::Joint, JOINT_ACCOUNT),
            (AccountKind::Utility(Utility::Water), "310000021"),
            (AccountKind::Utility(Utility::Power), "3200000036"),
            (AccountKind::Utility(Utility::Gas), "3300000027"),
        ]
    );
    // The joint account found is one the joint bill answers.
    assert_eq!(joint.fetch_joint_bill(&accounts[0].account).await.unwrap().bills.len(), 3);

    // A holder registered over the admin endpoint, with one water account only; the digest is
    // all the simulator ever learns.
    let holder = billers::holder_digest("11010519491231002X").unwrap();
    let water = fresh_account(&env, Utility::Water, 20, 1500);
    let seed = json!({ "holder": holder, "accounts": [{ "utility": "water", "account": water.as_str() }] });
    assert!(admin_post(&env.sims.joint.url(), "/admin/holders", seed).await.status().is_success());
    let only_water = joint.household(&holder).await.unwrap();
    assert_eq!(
        only_water,
        [HouseholdAccount { kind: AccountKind::Utility(Utility::Water), account: water.clone() }]
    );
    let not_a_digest = json!({ "holder": "11010519491231002X", "accounts": [] });
    let refused = admin_post(&env.sims.joint.url(), "/admin/holders", not_a_digest).await;
    assert_eq!(refused.status().as_u16(), 400);
}

#[tokio::test]
async fn an_unknown_holder_is_reported_as_such_and_an_id_number_is_never_sent() {
    let env = env().await;
    let joint = env.billers.joint().expect("joint service configured");
    let stranger = billers::holder_digest("11010519491231002X").unwrap();
    let error = joint.household(&stranger).await.unwrap_err();
    assert_eq!(error, BillerError::UnknownHolder);
    assert_eq!(
        error.message().in_lang(catalogue::Lang::Zh),
        "未查到与该身份证关联的户号，请输入账单上的户号。"
    );
    // Not a digest (an ID number by mistake, an upper-case digest): asked of no one. A fault
    // queued for the endpoint stays unused, which proves no request was made.
    env.sims.joint.sim.faults().inject("household", Fault::Status { code: 503 }, 1);
    for not_a_digest in ["11010519491231002X", &stranger.to_uppercase(), ""] {
        assert_eq!(joint.household(not_a_digest).await, Err(BillerError::UnknownHolder));
    }
    assert!(matches!(joint.household(&stranger).await, Err(BillerError::Unavailable { .. })));
}

#[tokio::test]
async fn a_household_reply_with_a_bad_signature_or_from_a_failing_biller_is_not_trusted() {
    let env = env().await;
    let joint = env.billers.joint().expect("joint service configured");
    env.sims.joint.sim.faults().inject("household", Fault::BadSignature, 1);
    let error = joint.household(billers::sim::DEMO_HOLDER).await.unwrap_err();
    assert!(matches!(&error, BillerError::BadReply { detail } if detail.contains("signature")), "{error:?}");

    let rules = json!([{ "endpoint": "household", "fault": "status", "code": 502 }]);
    assert!(admin_post(&env.sims.joint.url(), "/admin/faults", rules).await.status().is_success());
    assert!(matches!(joint.household(billers::sim::DEMO_HOLDER).await, Err(BillerError::Unavailable { .. })));
    env.sims.joint.sim.faults().inject("household", Fault::DropReply, 1);
    assert!(matches!(joint.household(billers::sim::DEMO_HOLDER).await, Err(BillerError::Unavailable { .. })));

    let mut entry = env.sims.joint.client_entry();
    entry.key = "some-other-key-0123456789".into();
    let stranger = billers::JointClient::new(&entry, common::KIOSK).unwrap();
    assert!(matches!(stranger.household(billers::sim::DEMO_HOLDER).await, Err(BillerError::BadReply { .. })));
    // The faults were for one request each: the biller answers again.
    assert_eq!(joint.household(billers::sim::DEMO_HOLDER).await.unwrap().len(), 4);
}

#[tokio::test]
async fn an_odd_household_reply_is_not_believed() {
    let env = env().await;
    let joint = env.billers.joint().expect("joint service configured");
    // The biller lists a joint account that fails the joint account rule, or nothing at all.
    for accounts in [
        json!([{ "utility": "joint", "account": "3900000006" }]),
        json!([{ "utility": "heating", "account": "3900000005" }]),
        json!([]),
    ] {
        let holder = billers::holder_digest("11010519491231002X").unwrap();
        let seed = json!({ "holder": holder, "accounts": accounts });
        assert!(admin_post(&env.sims.joint.url(), "/admin/holders", seed).await.status().is_success());
        let result = joint.household(&holder).await;
        assert!(matches!(result, Err(BillerError::BadReply { .. })), "{accounts}: {result:?}");
    }
}

#[tokio::test]
async fn a_reference_held_for_another_write_off_is_never_read_as_written_off() {
    let Billed { env, client: water, request: theirs, .. } = billed(Utility::Water, 50, 3150).await;
    written_off_txn(&water.write_off(&theirs).await);

    // Our write-off of another account, under the reference the biller already holds.
    let (second, ours) = billed_in(&env, Utility::Water, 51, 5820).await;
    let ours = WriteOffRequest { reference: theirs.reference.clone(), ..ours };
    let reply = water.write_off(&ours).await;
    assert!(
        matches!(&reply, WriteOffReply::Unknown { detail }
            if detail.contains("409 REFERENCE_CONFLICT") && detail.contains("not taken as written off")),
        "{reply:?}"
    );
    // The status names the write-off the biller holds, which is not ours: unknown, never written off.
    let status = water.write_off_status(&(&ours).into()).await;
    assert!(
        matches!(&status, WriteOffStatus::Unknown { detail } if detail.contains("names another account")),
        "{status:?}"
    );
    let other_amount = WriteOffExpectation { amount: Fen(3000), ..(&theirs).into() };
    let status = water.write_off_status(&other_amount).await;
    assert!(
        matches!(&status, WriteOffStatus::Unknown { detail } if detail.contains("names another amount")),
        "{status:?}"
    );
    assert!(matches!(water.write_off_status(&(&theirs).into()).await, WriteOffStatus::WrittenOff { .. }));
    // Nothing was written off for the second account.
    assert_eq!(water.fetch_bill(&second).await.unwrap().amount_due, Fen(5820));
    assert_eq!(env.sims.water.sim.ledger().write_offs.len(), 1);
}

#[tokio::test]
async fn a_refusal_status_names_the_refused_account_and_amount() {
    let Billed { env, client: power, request, .. } = billed(Utility::Power, 52, 8935).await;
    env.sims.power.sim.faults().inject("write_off", account_closed(), 1);
    assert!(matches!(power.write_off(&request).await, WriteOffReply::Rejected { .. }));
    assert!(matches!(power.write_off_status(&(&request).into()).await, WriteOffStatus::Rejected { .. }));
    // Believed to be a refusal of another amount under this reference: not one to refund on.
    let other = WriteOffExpectation { amount: Fen(1), ..(&request).into() };
    assert!(matches!(power.write_off_status(&other).await, WriteOffStatus::Unknown { .. }));
}

#[tokio::test]
async fn transport_failures_are_described_once() {
    let Billed { env, client: water, request, .. } = billed(Utility::Water, 53, 2000).await;
    env.sims.water.sim.faults().inject("write_off", Fault::Delay { ms: 1_500 }, 1);
    // Not "timed out: operation timed out".
    assert_eq!(water.write_off(&request).await, WriteOffReply::Unknown { detail: "timed out".into() });
    env.sims.water.sim.faults().inject("write_off", Fault::DropReply, 1);
    let dropped = water.write_off(&request).await;
    assert!(
        matches!(&dropped, WriteOffReply::Unknown { detail }
            if detail.starts_with("no reply: ") && !detail.contains("client error")),
        "{dropped:?}"
    );
    let mut entry = env.sims.water.client_entry();
    entry.base_url = "http://127.0.0.1:1".into();
    let nowhere = billers::BillerClient::new(Utility::Water, &entry, common::KIOSK).unwrap();
    let refused = nowhere.write_off(&request).await;
    assert!(
        matches!(&refused, WriteOffReply::Unknown { detail }
            if detail.starts_with("could not connect: ") && !detail.contains("connect error")),
        "{refused:?}"
    );
}

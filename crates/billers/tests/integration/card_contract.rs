//! The prepaid card lookup as the kiosk uses it before selling and for 补写卡: the purchase limits
//! the biller publishes (and enforces), and the purchases waiting for their card write, whichever
//! kiosk sold them.

use crate::common;

use billers::sim::{CardLimits, DEMO_CARD};
use billers::{AmountError, BillerClient, PendingPurchase, PurchaseRequest, WriteOffExpectation};
use common::{admin_post, env, fresh_card_account, KIOSK};
use kiosk_core::{
    AccountNo, CardWriteData, Channel, ConfirmReply, Fen, Ts, Utility, WriteOffReply, WriteOffStatus,
};
use serde_json::json;

fn purchase(reference: &str, account: &AccountNo, card_no: &str, count: u32, amount: i64) -> PurchaseRequest {
    PurchaseRequest {
        reference: reference.into(),
        account: account.clone(),
        card_no: card_no.into(),
        purchase_count: count,
        amount: Fen(amount),
        channel: Channel::WeChat,
        channel_txn: "4200000060".into(),
        paid_at: Ts(1_764_000_000_000),
    }
}

#[tokio::test]
async fn the_card_lookup_publishes_the_limits_the_biller_enforces() {
    let env = env().await;
    let gas = env.billers.get(Utility::Gas);
    let card = gas.prepaid_card(DEMO_CARD).await.unwrap();
    assert_eq!(
        (card.limits.min(), card.limits.max(), card.limits.step()),
        (Fen(1_000), Fen(100_000), Fen(100))
    );

    // The issue's `yizhan gas topup --amount 9223372036854775807`: refused before anything is
    // journaled, with the limits named.
    let error = card.check_amount(Fen(i64::MAX)).unwrap_err();
    assert!(matches!(error, AmountError::AboveMaximum { .. }));
    assert!(
        error.message().in_lang(catalogue::Lang::Zh).contains("10.00元至1000.00元"),
        "{}",
        error.message().in_lang(catalogue::Lang::Zh)
    );
    assert!(
        error.message().in_lang(catalogue::Lang::En).contains("¥10.00 to ¥1000.00, in steps of ¥1.00"),
        "{}",
        error.message().in_lang(catalogue::Lang::En)
    );
    assert!(matches!(card.check_amount(Fen(1_050)), Err(AmountError::OffStep { .. })));
    assert_eq!(card.check_amount(Fen(1_000)), Ok(()));

    // Had it got through, the biller refuses it for good, as a real one would: nothing is sold.
    for (reference, amount) in
        [("YZTEST00000060-1", i64::MAX), ("YZTEST00000061-1", 1_050), ("YZTEST00000062-1", 999)]
    {
        let reply = gas.prepaid_purchase(&purchase(reference, &card.account, DEMO_CARD, 3, amount)).await;
        assert!(
            matches!(&reply, WriteOffReply::Rejected { code, message } if code == "AMOUNT_OUT_OF_LIMITS"
                && message.contains("1000 to 100000 fen, in steps of 100 fen")),
            "{amount}: {reply:?}"
        );
    }
    assert!(env.sims.gas.sim.ledger().purchases.is_empty());
    let bought =
        gas.prepaid_purchase(&purchase("YZTEST00000063-1", &card.account, DEMO_CARD, 3, 100_000)).await;
    assert!(matches!(bought, WriteOffReply::WrittenOff { card: Some(_), .. }), "{bought:?}");

    // A card seeded with limits of its own publishes those.
    let account = common::account_no(Utility::Gas, 64);
    let limits = CardLimits { min_fen: 5_000, max_fen: 20_000, step_fen: 5_000 };
    let seed = json!({
        "account": account, "amount_due_fen": 0,
        "card": { "card_no": "8800000640", "purchase_count": 1, "limits": limits }
    });
    assert!(admin_post(&env.sims.gas.url(), "/admin/accounts", seed).await.status().is_success());
    let other = gas.prepaid_card("8800000640").await.unwrap();
    assert_eq!(
        (other.limits.min(), other.limits.max(), other.limits.step()),
        (Fen(5_000), Fen(20_000), Fen(5_000))
    );
    assert!(other.check_amount(Fen(1_000)).is_err());
}

#[tokio::test]
async fn a_purchase_not_confirmed_is_pending_at_any_kiosk_until_its_card_write_is_confirmed() {
    let env = env().await;
    let account = fresh_card_account(&env, 65, "8800000650", 3);
    let here = env.billers.get(Utility::Gas);
    // Another kiosk, where the customer brings the card for 补写卡.
    let there = BillerClient::new(Utility::Gas, &env.sims.gas.client_entry(), "SH-XH-0002").unwrap();
    assert_ne!(KIOSK, "SH-XH-0002");
    assert!(there.prepaid_card("8800000650").await.unwrap().pending.is_empty());

    let reply = here.prepaid_purchase(&purchase("YZTEST00000065-1", &account, "8800000650", 3, 5_000)).await;
    let WriteOffReply::WrittenOff { card: Some(data), .. } = reply else {
        panic!("a purchase with card data: {reply:?}");
    };
    let card = there.prepaid_card("8800000650").await.unwrap();
    assert_eq!(
        card.pending,
        [PendingPurchase { reference: "YZTEST00000065-1".into(), amount: Fen(5_000), card: data.clone() }]
    );
    assert_eq!(data, CardWriteData { purchase_seq: 4, data_hex: data.data_hex.clone() });
    assert_eq!((card.issued_seq, card.loaded_seq), (4, 3));

    // The other kiosk writes the card and confirms: the purchase is no longer pending anywhere.
    assert_eq!(there.confirm_card_write("YZTEST00000065-1").await, ConfirmReply::Confirmed);
    assert!(here.prepaid_card("8800000650").await.unwrap().pending.is_empty());
    assert!(there.prepaid_card("8800000650").await.unwrap().pending.is_empty());
}

#[tokio::test]
async fn a_purchase_status_names_the_purchase_held_under_the_reference() {
    let env = env().await;
    let gas = env.billers.get(Utility::Gas);
    let account = fresh_card_account(&env, 66, "8800000660", 3);
    let request = purchase("YZTEST00000066-1", &account, "8800000660", 3, 5_000);
    assert!(matches!(gas.prepaid_purchase(&request).await, WriteOffReply::WrittenOff { .. }));
    let ours = WriteOffExpectation::from(&request);
    assert!(matches!(gas.purchase_status(&ours).await, WriteOffStatus::WrittenOff { card: Some(_), .. }));

    // The same reference, believed to be another purchase: not ours, whatever the biller holds.
    for (label, expected) in [
        ("another amount", WriteOffExpectation { amount: Fen(9_000), ..ours.clone() }),
        (
            "another account",
            WriteOffExpectation { account: common::fresh_account(&env, Utility::Gas, 67, 0), ..ours.clone() },
        ),
        ("another count of the card", WriteOffExpectation { purchase_count: Some(5), ..ours.clone() }),
    ] {
        let status = gas.purchase_status(&expected).await;
        assert!(matches!(status, WriteOffStatus::Unknown { .. }), "{label}: {status:?}");
    }
}

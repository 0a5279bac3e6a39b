//! Devices II end to end: gas-card top-up through the IC card slot (F16, 补写卡), bank card
//! payments through the terminal (F15), and the ID card's forced eject — the runtime and the
//! real drivers against the simulators on ptys, checked against the simulators' books.

use crate::support;

use iccard::sim::{MeterModel, MeterOutcome};
use kiosk_core::{Fen, Payment, State, Utility};
use support::*;
use yizhan::commands::customer::{bank_card_customer, insert_demo_gas_card};
use yizhan::runtime::{GasError, Observer, PayMethod, Quiet, Rewritten};

fn iccard_sim(kiosk: &TestKiosk) -> &iccard::sim::Crt310Sim {
    kiosk.runtime().devices.sims.iccard.as_ref().expect("a simulated IC card slot")
}

/// Takes the card out of the kiosk and into the meter; returns what the meter did.
fn load_into_meter(kiosk: &TestKiosk, meter: &mut MeterModel) -> MeterOutcome {
    let mut card = iccard_sim(kiosk).take().expect("a card in the slot");
    let outcome = meter.insert(&mut card);
    iccard_sim(kiosk).insert(card).expect("the card goes back in");
    outcome
}

#[tokio::test]
async fn a_gas_top_up_is_paid_written_to_the_card_confirmed_and_credited_once() {
    let kiosk = TestKiosk::start().await;
    assert!(insert_demo_gas_card(&kiosk.backend));
    let code = wechat_code();
    let payment = kiosk.runtime().gas_top_up(Fen(5000), PayMethod::Code(code.clone()), &Quiet).await.unwrap();
    assert_eq!(payment.state, State::Done);
    assert_eq!(kiosk.channel_money(&code, payment.id()), (vec![Fen(5000)], vec![], vec![]));
    let transitions = kiosk.runtime().journal.transitions(payment.id()).await.unwrap();
    let states: Vec<&str> = transitions.iter().map(|t| t.to_state.as_str()).collect();
    let writing = states.iter().position(|s| *s == "CARD_WRITING").expect("CARD_WRITING journaled");
    assert!(writing < states.iter().position(|s| *s == "DONE").unwrap(), "{states:?}");
    let ledger = kiosk.sims().billers.gas.sim.ledger();
    let purchase = ledger.purchase(&payment.order.lines[0].biller_ref).expect("a purchase");
    assert!(purchase.card_written, "the card write was confirmed to the biller");
    let mut meter = MeterModel::new();
    assert!(matches!(load_into_meter(&kiosk, &mut meter), MeterOutcome::Credited { seq: 1 }));
    assert!(matches!(load_into_meter(&kiosk, &mut meter), MeterOutcome::Replayed { .. }));
}

#[tokio::test]
async fn f16_a_card_pulled_mid_write_waits_and_the_rewrite_credits_exactly_once() {
    // A few offsets across the write: the driver's own tests pull at every byte.
    for pull_after in [0usize, 3, 10, 18] {
        let kiosk = TestKiosk::start().await;
        insert_demo_gas_card(&kiosk.backend);
        iccard_sim(&kiosk).pull_out_after(pull_after);
        let code = alipay_code();
        let payment =
            kiosk.runtime().gas_top_up(Fen(3000), PayMethod::Code(code.clone()), &Quiet).await.unwrap();
        assert!(
            matches!(payment.state, State::AwaitCardWrite { .. }),
            "pulled after {pull_after}: {:?}",
            payment.state
        );
        assert!(!payment.state.blocks_new_sales());
        assert_eq!(
            kiosk.channel_money(&code, payment.id()),
            (vec![Fen(3000)], vec![], vec![]),
            "paid once, never refunded"
        );
        // A new top-up for this card is refused until the waiting purchase is written.
        let refused =
            kiosk.runtime().gas_top_up(Fen(1000), PayMethod::Code(wechat_code()), &Quiet).await.unwrap_err();
        assert!(matches!(refused, GasError::RewriteFirst | GasError::Card(_)), "{refused}");
        // The customer puts the card back (at this or any kiosk) and asks for 补写卡.
        let sim = iccard_sim(&kiosk);
        sim.no_pull_out();
        assert!(sim.captured().is_empty(), "a pulled card is never captured");
        let card = sim.take().expect("the customer holds the pulled card");
        assert!(sim.insert(card).is_ok(), "the card goes back in");
        let Rewritten::Journaled(rewritten) = kiosk.runtime().rewrite_gas_card(&Quiet).await.unwrap() else {
            panic!("this kiosk's own purchase is rewritten from its journal");
        };
        assert_eq!(rewritten.state, State::Done, "pulled after {pull_after}");
        let mut meter = MeterModel::new();
        assert!(matches!(load_into_meter(&kiosk, &mut meter), MeterOutcome::Credited { .. }));
        assert!(matches!(load_into_meter(&kiosk, &mut meter), MeterOutcome::Replayed { .. }));
        assert_eq!(meter.loads().len(), 1, "credited exactly once");
        assert_eq!(kiosk.channel_money(&code, payment.id()).0, [Fen(3000)]);
    }
}

#[tokio::test]
async fn a_second_top_up_before_the_meter_loaded_the_first_is_refused_before_paying() {
    let kiosk = TestKiosk::start().await;
    insert_demo_gas_card(&kiosk.backend);
    let first = kiosk.runtime().gas_top_up(Fen(2000), PayMethod::Code(wechat_code()), &Quiet).await.unwrap();
    assert_eq!(first.state, State::Done);
    let code = wechat_code();
    let refused =
        kiosk.runtime().gas_top_up(Fen(2000), PayMethod::Code(code.clone()), &Quiet).await.unwrap_err();
    assert!(matches!(refused, GasError::LastPurchaseNotLoaded), "{refused}");
    assert_eq!(kiosk.runtime().journal.list(10, 0).await.unwrap().len(), 1, "nothing journaled for it");
    // The meter reads the card, and the gas company learns it (the meter's read-back): the
    // next purchase goes through.
    load_into_meter(&kiosk, &mut MeterModel::new());
    kiosk.sims().billers.gas.sim.mark_card_loaded(yizhan::commands::customer::DEMO_GAS_CARD);
    let second = kiosk.runtime().gas_top_up(Fen(2000), PayMethod::Code(code), &Quiet).await.unwrap();
    assert_eq!(second.state, State::Done);
}

#[tokio::test]
async fn a_card_that_is_not_a_gas_card_is_refused_before_paying() {
    let kiosk = TestKiosk::start().await;
    iccard_sim(&kiosk).insert(iccard::sim::SimCard::cpu_card()).unwrap();
    let error =
        kiosk.runtime().gas_top_up(Fen(2000), PayMethod::Code(wechat_code()), &Quiet).await.unwrap_err();
    assert!(matches!(error, GasError::Card(_)), "{error}");
    assert!(kiosk.runtime().journal.list(10, 0).await.unwrap().is_empty());
}

fn terminal_sim(kiosk: &TestKiosk) -> &bankcard::sim::TerminalSim {
    kiosk.runtime().devices.sims.bankcard.as_ref().expect("a simulated terminal")
}

/// A customer pays a new account's bill of `fen` at `utility` with a bank card at the terminal
/// (taking it back from the slot in time if `takes_it_back`), `observer` hearing of it.
async fn pay_by_bank_card(
    kiosk: &TestKiosk,
    takes_it_back: bool,
    utility: Utility,
    fen: i64,
    observer: &dyn Observer,
) -> Payment {
    bank_card_customer(&kiosk.backend, takes_it_back);
    let order = kiosk.order_for(utility, fen).await;
    kiosk.runtime().pay_order_with(order, PayMethod::BankCard, observer).await.unwrap()
}

#[tokio::test]
async fn a_bank_card_pays_a_bill_through_the_terminal() {
    let kiosk = TestKiosk::start().await;
    let payment = pay_by_bank_card(&kiosk, true, Utility::Power, 12680, &Quiet).await;
    assert_eq!(payment.state, State::Done);
    let entry = terminal_sim(&kiosk).entry(payment.id());
    assert_eq!((entry.charges, entry.approved), (1, Fen(12680)));
    assert_eq!(kiosk.write_offs(Utility::Power, &payment.order.lines[0].biller_ref), 1);
    // Issue 11 item 8: the receipt names the card by its last four digits (the terminal sent
    // 622202******0018), printed and rebuilt from the journal alike; nothing more of it.
    let printed = kiosk.printer_sim().last_receipt().expect("a receipt").text();
    let rebuilt = kiosk.runtime().receipt(&kiosk.runtime().load(payment.id()).await.unwrap()).await.to_text();
    for text in [&printed, &rebuilt] {
        assert!(text.contains("****0018") && !text.contains("622202"), "{text}");
    }
}

#[tokio::test]
async fn f15_terminal_approved_but_the_answer_was_lost_is_found_by_last_result_and_charged_once() {
    let kiosk = TestKiosk::start().await;
    terminal_sim(&kiosk).push_fault(bankcard::sim::TerminalFault::DropResponse);
    let payment = pay_by_bank_card(&kiosk, true, Utility::Water, 5820, &Quiet).await;
    assert_eq!(payment.state, State::Done);
    let transitions = kiosk.runtime().journal.transitions(payment.id()).await.unwrap();
    assert!(transitions.iter().any(|t| t.to_state == "PAY_PENDING"), "the last result was asked for");
    assert_eq!(terminal_sim(&kiosk).entry(payment.id()).charges, 1, "no second charge");
}

#[tokio::test]
async fn f15_a_sale_the_terminal_never_got_is_reversed_and_not_charged() {
    let kiosk = TestKiosk::start().await;
    terminal_sim(&kiosk).push_fault(bankcard::sim::TerminalFault::LoseRequest);
    let payment = pay_by_bank_card(&kiosk, true, Utility::Water, 2740, &Quiet).await;
    assert!(matches!(payment.state, State::Reversed { .. } | State::PayFailed { .. }), "{:?}", payment.state);
    let entry = terminal_sim(&kiosk).entry(payment.id());
    assert_eq!(entry.net(), Fen(0), "{entry:?}");
    assert_eq!(kiosk.write_offs(Utility::Water, &payment.order.lines[0].biller_ref), 0);
}

#[tokio::test]
async fn forced_eject_during_a_payment_returns_the_id_card_and_moves_no_money_twice() {
    let kiosk = TestKiosk::start().await;
    let runtime = kiosk.runtime();
    let id_sim = runtime.devices.sims.idcard.clone().expect("a simulated ID reader");
    id_sim.set_read_delay(std::time::Duration::from_secs(10));
    yizhan::commands::customer::insert_id_card_when_allowed(&kiosk.backend);
    let account = kiosk.account(Utility::Water, 3150);
    let code = wechat_code();
    kiosk.channel(&code).faults().inject("pay", Fault::UserPaying { ms: Some(300) }, 1);
    let reading = async {
        let mut reader = runtime.devices.idcard.as_ref().unwrap().driver.lock().await;
        reader.read_card(tokio::time::Instant::now() + std::time::Duration::from_secs(20)).await
    };
    let button = async {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        id_sim.press_button();
        tokio::time::sleep(std::time::Duration::from_millis(3_200)).await;
        id_sim.release_button();
    };
    let (read, payment, ()) =
        tokio::join!(reading, kiosk.pay(Utility::Water, &account, code.clone()), button);
    assert!(matches!(read, Err(idcard::IdError::ForceEjected)), "{:?}", read.map(|_| "a card"));
    assert_eq!(payment.state, State::Done, "the payment finished on its own");
    assert_eq!(kiosk.channel_money(&code, payment.id()).0, [Fen(3150)], "charged once");
    let place = id_sim.card_place();
    assert!(
        matches!(place, idcard::sim::CardPlace::Gate | idcard::sim::CardPlace::FrontNoHold),
        "the ID card is at the gate for its owner, never kept: {place:?}"
    );
}

#[tokio::test]
async fn a_bank_card_left_at_the_gate_is_kept_and_the_customer_is_told_on_screen_and_paper() {
    let kiosk = TestKiosk::start().await;
    struct Told(std::sync::atomic::AtomicBool);
    impl Observer for Told {
        fn bank_card_kept(&self, _payment: Option<&Payment>) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
    let told = Told(Default::default());
    let payment = pay_by_bank_card(&kiosk, false, Utility::Gas, 4560, &told).await;
    assert_eq!(payment.state, State::Done, "the payment itself is unaffected");
    assert!(told.0.load(std::sync::atomic::Ordering::SeqCst), "told on screen");
    let slot = kiosk.runtime().devices.sims.bankcard_slot.as_ref().unwrap();
    assert_eq!(slot.captured(), 1, "kept in the bin");
    let slip = kiosk.runtime().devices.sims.printer.as_ref().unwrap().last_receipt().unwrap().text();
    assert!(slip.contains("保管") && slip.contains(payment.id()), "told on paper: {slip}");
}

#[tokio::test]
async fn a_bank_card_taken_back_in_time_is_never_kept() {
    let kiosk = TestKiosk::start().await;
    let payment = pay_by_bank_card(&kiosk, true, Utility::Gas, 4560, &Quiet).await;
    assert_eq!(payment.state, State::Done);
    assert_eq!(kiosk.runtime().devices.sims.bankcard_slot.as_ref().unwrap().captured(), 0);
}

/// 补写卡 for gas bought at another kiosk (or counter): this kiosk's journal knows nothing of it,
/// so the gas company's list of the card's purchases waiting for their card write is asked, the
/// purchase is written once, the gas company is told, and every step is journaled.
#[tokio::test]
async fn the_rewrite_writes_a_purchase_another_kiosk_sold_from_the_gas_company_list() {
    let kiosk = TestKiosk::start().await;
    assert!(insert_demo_gas_card(&kiosk.backend));
    let card_no = yizhan::commands::customer::DEMO_GAS_CARD;
    // Another kiosk sold 40 yuan for this card; its card write never happened.
    let sim = &kiosk.sims().billers.gas;
    let elsewhere =
        billers::BillerClient::new(Utility::Gas, &sim.client_entry(), "HALL2-KIOSK-0001").unwrap();
    let known = elsewhere.prepaid_card(card_no).await.unwrap();
    let request = billers::PurchaseRequest {
        reference: "YZ7777000123".into(),
        account: known.account.clone(),
        card_no: card_no.into(),
        purchase_count: known.issued_seq,
        amount: Fen(4000),
        channel: kiosk_core::Channel::WeChat,
        channel_txn: "4200000000000000000001".into(),
        paid_at: yizhan::clock::now(),
    };
    assert!(matches!(
        elsewhere.prepaid_purchase(&request).await,
        kiosk_core::WriteOffReply::WrittenOff { .. }
    ));
    assert!(sim.sim.ledger().purchase("YZ7777000123").is_some_and(|p| !p.card_written));

    let rewritten = kiosk.runtime().rewrite_gas_card(&Quiet).await.unwrap();
    let Rewritten::FromBiller { reference, amount, confirmed } = rewritten else {
        panic!("{rewritten:?}");
    };
    assert_eq!((reference.as_str(), amount, confirmed), ("YZ7777000123", Fen(4000), true));
    assert!(sim.sim.ledger().purchase("YZ7777000123").is_some_and(|p| p.card_written));
    let mut meter = MeterModel::new();
    assert!(matches!(load_into_meter(&kiosk, &mut meter), MeterOutcome::Credited { .. }));
    // Nothing is left to write: a second 补写卡 says so and writes nothing.
    let again = kiosk.runtime().rewrite_gas_card(&Quiet).await.unwrap_err();
    assert!(matches!(again, GasError::NothingToRewrite), "{again}");
    assert!(matches!(load_into_meter(&kiosk, &mut meter), MeterOutcome::Replayed { .. }));
    let steps = kiosk.runtime().journal.staff_actions(10, 0).await.unwrap();
    let rewrite: Vec<&str> =
        steps.iter().filter(|a| a.action == "card-rewrite").map(|a| a.detail.as_str()).collect();
    assert_eq!(rewrite.len(), 2, "{rewrite:?}");
    assert!(rewrite.iter().any(|d| d.starts_with("YZ7777000123: writing purchase")), "{rewrite:?}");
    assert!(rewrite.iter().any(|d| d.contains("gas company told")), "{rewrite:?}");
    assert!(kiosk.runtime().journal.list(10, 0).await.unwrap().is_empty(), "no payment of this kiosk");
}

/// Issue 11, item 8: a gas top-up's receipt names the card (masked) and says the gas is on it.
#[tokio::test]
async fn a_gas_receipt_names_the_card_masked_and_says_it_was_written() {
    let kiosk = TestKiosk::start().await;
    assert!(insert_demo_gas_card(&kiosk.backend));
    let payment =
        kiosk.runtime().gas_top_up(Fen(3000), PayMethod::Code(wechat_code()), &Quiet).await.unwrap();
    assert_eq!(payment.state, State::Done);
    let text = kiosk.runtime().receipt(&payment).await.to_text();
    assert!(text.contains("燃气卡 Gas card: 88******21"), "{text}");
    assert!(text.contains("写卡 Card written: 已写卡 Written to the card"), "{text}");
    assert!(!text.contains(yizhan::commands::customer::DEMO_GAS_CARD), "the card number is masked");
}

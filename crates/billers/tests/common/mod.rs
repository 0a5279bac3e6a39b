//! Shared set-up of the HTTP tests: all four simulators on loopback and clients pointed at them.

#![allow(dead_code)]

use billers::sim::{AccountSeed, CardSeed};
use billers::{BillerClient, BillerSimsConfig, Billers, RunningBillerSims, WriteOffRequest};
use kiosk_core::utility::luhn_check_digit;
use kiosk_core::{AccountNo, Bill, Channel, Order, OrderRef, Ts, Utility};

pub const KIOSK: &str = "SH-PD-0001";

pub struct Env {
    pub sims: RunningBillerSims,
    pub billers: Billers,
}

/// Fresh simulators with the demo data, and clients with a short timeout.
pub async fn env() -> Env {
    let sims = billers::start_all(&BillerSimsConfig::default()).await.expect("simulators start");
    let mut config = sims.client_config();
    for entry in [&mut config.water, &mut config.power, &mut config.gas] {
        entry.request_timeout_ms = 1_000;
    }
    let billers = Billers::new(&config, KIOSK).expect("valid config");
    Env { sims, billers }
}

/// A valid account number of `utility` ending (before the check digit) in `n`.
pub fn account_no(utility: Utility, n: u32) -> String {
    let body = match utility {
        Utility::Water => format!("38{n:06}"),
        Utility::Power | Utility::Gas => format!("38{n:07}"),
    };
    let check = luhn_check_digit(&body).expect("digits");
    format!("{body}{check}")
}

/// Creates a fresh postpaid account with `amount_fen` due and returns its number.
pub fn fresh_account(env: &Env, utility: Utility, n: u32, amount_fen: i64) -> AccountNo {
    let account = account_no(utility, n);
    env.sims.get(utility).sim.put_account(seed(&account, amount_fen, None));
    AccountNo::from_trusted(account)
}

/// Creates a fresh gas account with a prepaid card at `purchase_count`.
pub fn fresh_card_account(env: &Env, n: u32, card_no: &str, purchase_count: u32) -> AccountNo {
    let account = account_no(Utility::Gas, n);
    let card = CardSeed { card_no: card_no.into(), purchase_count, limits: None };
    env.sims.gas.sim.put_account(seed(&account, 0, Some(card)));
    AccountNo::from_trusted(account)
}

fn seed(account: &str, amount_due_fen: i64, card: Option<CardSeed>) -> AccountSeed {
    AccountSeed {
        account: account.into(),
        amount_due_fen,
        holder_masked: "赵*".into(),
        address_masked: "上海市**区".into(),
        due_date: "2026-12-15".into(),
        period: "2026-11".into(),
        closed: false,
        prepayment: false,
        card,
    }
}

/// The write-off the kiosk would send for `bill` paid under order `order_no`.
pub fn write_off_for(bill: &Bill, order_no: &str) -> WriteOffRequest {
    let order =
        Order::for_bill(OrderRef::new(order_no).expect("order ref"), KIOSK, Ts(1_764_000_000_000), bill)
            .expect("order");
    WriteOffRequest::for_line(&order.lines[0], Channel::WeChat, "4200000001", Ts(1_764_000_000_000))
        .expect("bill line")
}

/// Fresh simulators ([`env`]) in which a fresh account of one utility has a bill due: the client of
/// that utility's biller, the account, and the write-off the kiosk would send for its bill.
pub struct Billed {
    pub env: Env,
    /// `env.billers.get(utility)`, cloned (a client keeps no state of its own).
    pub client: BillerClient,
    pub account: AccountNo,
    pub request: WriteOffRequest,
}

/// [`Billed`] with account `n` of `utility`, `amount_fen` due ([`billed_in`]).
pub async fn billed(utility: Utility, n: u32, amount_fen: i64) -> Billed {
    let env = env().await;
    let client = env.billers.get(utility).clone();
    let (account, request) = billed_in(&env, utility, n, amount_fen).await;
    Billed { env, client, account, request }
}

/// A fresh account of `utility` in `env` with `amount_fen` due ([`fresh_account`]), and the
/// write-off the kiosk would send for the bill fetched for it, under order `YZTEST` and `n` in
/// eight digits.
pub async fn billed_in(env: &Env, utility: Utility, n: u32, amount_fen: i64) -> (AccountNo, WriteOffRequest) {
    let account = fresh_account(env, utility, n, amount_fen);
    let bill = env.billers.get(utility).fetch_bill(&account).await.expect("the fresh account's bill");
    (account, write_off_for(&bill, &format!("YZTEST{n:08}")))
}

/// Posts JSON to an admin endpoint of a simulator.
pub async fn admin_post(base: &str, path: &str, body: serde_json::Value) -> reqwest::Response {
    reqwest::Client::new().post(format!("{base}{path}")).json(&body).send().await.expect("admin call")
}

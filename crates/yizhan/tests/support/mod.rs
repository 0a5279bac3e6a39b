//! A kiosk for tests: the real runtime, journal (a SQLite file in a temp dir), clients and
//! simulators on loopback, with every timer divided by 100 so that a 45 s WeChat deadline takes
//! 450 ms. Helpers make fresh accounts and payment codes so that tests never share state.

#![allow(dead_code)]

use kiosk_core::utility::luhn_check_digit;
use kiosk_core::{route_payment_code, Fen, Order, Payment, PaymentCode, Utility};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use yizhan::backend::{Backend, EmbeddedSims};
use yizhan::runtime::{Quiet, Runtime};

pub mod cli;
pub mod debian;

#[allow(unused_imports)]
pub use simkit::Fault;

pub fn repo_config_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config")
}

pub struct TestKiosk {
    /// Shared, so that the UI tests can hand it to the screens' controller.
    pub backend: std::sync::Arc<Backend>,
    pub dir: tempfile::TempDir,
}

static COUNTER: AtomicU64 = AtomicU64::new(1);

fn unique() -> u64 {
    let pid = u64::from(std::process::id() % 1000);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos() as u64;
    (pid * 1_000_000 + nanos % 1_000_000) * 100 + COUNTER.fetch_add(1, Ordering::Relaxed) % 100
}

/// A fresh account number of `utility` that passes its default rule.
pub fn fresh_account(utility: Utility) -> String {
    let (prefix, len) = match utility {
        Utility::Water => ("7", 9),
        Utility::Power => ("8", 10),
        Utility::Gas => ("9", 10),
    };
    let body = format!("{prefix}{:0width$}", unique() % 10u64.pow(len as u32 - 2), width = len - 2);
    let check = luhn_check_digit(&body).unwrap();
    format!("{body}{check}")
}

/// A fresh WeChat payment code (18 digits, 13…).
pub fn wechat_code() -> PaymentCode {
    route_payment_code(&format!("13{:016}", unique())).unwrap()
}

/// A fresh Alipay payment code (18 digits, 28…).
pub fn alipay_code() -> PaymentCode {
    route_payment_code(&format!("28{:016}", unique())).unwrap()
}

/// A fresh UnionPay payment code (19 digits, 62…).
pub fn unionpay_code() -> PaymentCode {
    route_payment_code(&format!("62{:017}", unique())).unwrap()
}

impl TestKiosk {
    pub async fn start() -> TestKiosk {
        TestKiosk::start_with_divisor(100).await
    }

    pub async fn start_with_divisor(divisor: u32) -> TestKiosk {
        let dir = tempfile::tempdir().unwrap();
        let keys = repo_config_dir().join("sim-keys");
        let backend = Backend::start_embedded(&keys, dir.path(), divisor, true).await.unwrap();
        TestKiosk { backend: std::sync::Arc::new(backend), dir }
    }

    pub fn scanner_sim(&self) -> &scanner::sim::SimScanner {
        self.backend.runtime.devices.sims.scanner.as_ref().expect("a simulated scanner")
    }

    pub fn printer_sim(&self) -> &printer::sim::PrinterSim {
        self.backend.runtime.devices.sims.printer.as_ref().expect("a simulated printer")
    }

    /// Runs the kiosk's background settler until `payment` leaves REFUND_PENDING: a WeChat
    /// refund is only accepted at first, and its refund query says when the money is back.
    pub async fn until_refund_arrives(&self, payment: &kiosk_core::Payment) -> kiosk_core::Payment {
        self.settle_until(payment.id(), |now| now.state != kiosk_core::State::RefundPending).await
    }

    /// Runs the background settler until the payment `id` is as `done` says (at most 20 s).
    pub async fn settle_until(&self, id: &str, done: impl Fn(&Payment) -> bool) -> Payment {
        let mut payment = self.runtime().load(id).await.unwrap();
        for _ in 0..400 {
            self.runtime().settle_due(&Quiet).await.unwrap();
            payment = self.runtime().load(id).await.unwrap();
            if done(&payment) {
                return payment;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the settler never got {id} there; it is {:?}", payment.state);
    }

    pub fn runtime(&self) -> &Runtime {
        &self.backend.runtime
    }

    pub fn sims(&self) -> &EmbeddedSims {
        self.backend.sims.as_ref().unwrap()
    }

    /// A new account with `fen` due at `utility`'s simulator.
    pub fn account(&self, utility: Utility, fen: i64) -> String {
        let account = fresh_account(utility);
        let seed: billers::sim::AccountSeed =
            serde_json::from_value(serde_json::json!({ "account": account, "amount_due_fen": fen })).unwrap();
        self.sims().billers.get(utility).sim.put_account(seed);
        account
    }

    /// A household with one account per utility, for the joint bill.
    pub fn household(&self, water: i64, power: i64, gas: i64) -> String {
        let joint = fresh_account(Utility::Power);
        let household: billers::sim::Household = serde_json::from_value(serde_json::json!({
            "joint_account": joint,
            "holder_masked": "李*",
            "water": self.account(Utility::Water, water),
            "power": self.account(Utility::Power, power),
            "gas": self.account(Utility::Gas, gas),
        }))
        .unwrap();
        self.sims().billers.joint.sim.put_household(household);
        joint
    }

    pub async fn order(&self, utility: Utility, account: &str) -> Order {
        let bill = self.runtime().fetch_bill(utility, account).await.unwrap();
        Order::for_bill(self.runtime().new_order_ref(), "SH-TEST-0001", yizhan::clock::now(), &bill).unwrap()
    }

    /// The order of a new account with `fen` due at `utility`, for a test that needs only the order.
    pub async fn order_for(&self, utility: Utility, fen: i64) -> Order {
        let account = self.account(utility, fen);
        self.order(utility, &account).await
    }

    pub async fn pay(&self, utility: Utility, account: &str, code: PaymentCode) -> Payment {
        let order = self.order(utility, account).await;
        self.runtime().pay_order(order, code, &Quiet).await.unwrap()
    }

    /// A new `utility` account with `fen` due, paid with `code`; the channel answers the first pay
    /// as `fault` says.
    pub async fn pay_with_fault(
        &self,
        utility: Utility,
        fen: i64,
        code: &PaymentCode,
        fault: Fault,
    ) -> Payment {
        let account = self.account(utility, fen);
        self.channel(code).faults().inject("pay", fault, 1);
        self.pay(utility, &account, code.clone()).await
    }

    /// payments.md F19: a WeChat payment of a `fen` water bill whose customer never enters the
    /// PIN and whose reverse the channel never answers (503) ends in SUSPENSE with its slip.
    /// Returns it and its code; the faults stay until `self.channel(&code).faults().clear()`.
    pub async fn pay_into_suspense(&self, fen: i64) -> (Payment, PaymentCode) {
        let account = self.account(Utility::Water, fen);
        let code = wechat_code();
        let faults = self.channel(&code).faults();
        faults.inject("pay", Fault::UserPaying { ms: None }, 1);
        faults.inject("reverse", Fault::Status { code: 503 }, 100);
        let payment = self.pay(Utility::Water, &account, code.clone()).await;
        (payment, code)
    }

    pub fn channel(&self, code: &PaymentCode) -> &payments::sim::SimHandle {
        let sims = &self.sims().channels;
        match code.channel() {
            kiosk_core::Channel::WeChat => &sims.wechat,
            kiosk_core::Channel::Alipay => &sims.alipay,
            _ => &sims.unionpay,
        }
    }

    /// (charges, reversals of paid orders, refunds) the channel booked for `order`, in fen.
    pub fn channel_money(&self, code: &PaymentCode, order: &str) -> (Vec<Fen>, Vec<Fen>, Vec<Fen>) {
        use payments::sim::LedgerKind;
        let ledger = self.channel(code).ledger();
        let of = |kind: LedgerKind| -> Vec<Fen> {
            ledger.iter().filter(|e| e.out_trade_no == order && e.kind == kind).map(|e| e.amount).collect()
        };
        (of(LedgerKind::Charge), of(LedgerKind::Reversal), of(LedgerKind::Refund))
    }

    /// How many times `utility`'s biller wrote off `reference`.
    pub fn write_offs(&self, utility: Utility, reference: &str) -> usize {
        let ledger = self.sims().billers.get(utility).sim.ledger();
        ledger.write_offs.iter().filter(|e| e.reference == reference).count()
    }

    pub async fn verify_chain(&self) {
        let report = self.runtime().journal.verify_chain().await.unwrap();
        assert!(report.first_broken.is_none(), "journal chain broken: {report:?}");
    }
}

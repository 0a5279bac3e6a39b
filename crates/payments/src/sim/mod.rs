//! Stateful simulators of the three channels (payments.md §9), and of the card acquirer's host
//! and portal (`card_acquirer`: what the simulated terminals approved, as the settlement file
//! lists it), served on loopback with
//! [`simkit::serve`]. Each has its own [`FaultPlan`] (queued rules via `POST /admin/faults`, or the
//! `x-sim-fault` header per request) and its own ledger of the money it moved, readable in process
//! ([`SimHandle::ledger`]) and at `GET /admin/ledger`.
//!
//! Fault endpoints are named alike on every channel: `pay`, `query`, `reverse`, `refund`,
//! `refund_query` (WeChat `refundquery`, Alipay `fastpay.refund.query`; the acquirer has one query
//! endpoint, `query`, for consumes and refunds alike), `statement`.
//!
//! Refunds: Alipay pays a refund out at once. WeChat and the acquirer take it on and pay it out
//! later: the refund query says PROCESSING (origRespCode 05) until it is due (by default at once;
//! see [`WeChatSimConfig::refund_pending_queries`]), then SUCCESS (00), or the failure queued by
//! [`SimHandle::end_next_refund`] (`CHANGE`, `REFUNDCLOSE`; the acquirer answers 01). The ledger
//! shows a refund when it is paid out.
//!
//! Admin routes of every simulator: `GET /admin/ledger`; `POST /admin/ledger` (a [`LedgerEntry`]
//! to add, e.g. a channel-only statement row); `POST /admin/ledger/amend`
//! (`{"out_trade_no":…,"amount":fen}`: change a charge as the statement reports it);
//! `POST /admin/pin` (`{"out_trade_no":…}`: the customer enters the PIN now);
//! `POST /admin/refund-ending` (`{"ending":"CHANGE"}`: how the next refund taken on ends).

mod admin;
mod alipay;
mod alipay_bill;
mod book;
mod card_acquirer;
mod faults;
mod unionpay;
mod unionpay_file;
mod wechat;
pub mod wire;

pub use book::{LedgerEntry, LedgerKind, RefundEnding};
pub use card_acquirer::{host_line, HostTransaction};

use crate::config::{ConfigError, PaymentsConfig, Secret};
use crate::{AlipayConfig, CardAcquirerConfig, UnionPayConfig, WeChatConfig};
use book::{Book, RefundTiming};
use kiosk_core::Fen;
use serde::Deserialize;
use simkit::{FaultPlan, Served};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use tokio::net::TcpListener;

/// File names of the demo keys in `config/sim-keys/`.
pub const APP_PRIVATE_KEY_FILE: &str = "alipay-app-private.pem";
pub const APP_PUBLIC_KEY_FILE: &str = "alipay-app-public.pem";
pub const PLATFORM_PRIVATE_KEY_FILE: &str = "alipay-platform-private.pem";
pub const PLATFORM_PUBLIC_KEY_FILE: &str = "alipay-platform-public.pem";

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeChatSimConfig {
    pub appid: String,
    pub mch_id: String,
    pub api_key: Secret,
    /// 0 picks a free port.
    #[serde(default)]
    pub port: u16,
    /// Whether the orderquery of a reversed (`REVOKED`) order that had been paid carries its
    /// `time_end`. WeChat's reply need not carry it, so the default is `false`: a client must not
    /// read its absence as "never paid".
    #[serde(default)]
    pub revoked_time_end: bool,
    /// A refund stays `PROCESSING` until this many refund queries have seen it so (default 0)…
    #[serde(default)]
    pub refund_pending_queries: u32,
    /// …and at least this many milliseconds after it was taken on (default 0).
    #[serde(default)]
    pub refund_pending_ms: u64,
    /// The merchant's fee, parts per million of each payment (default 0.60%).
    #[serde(default = "wallet_fee_ppm")]
    pub fee_ppm: u32,
}

fn wallet_fee_ppm() -> u32 {
    6_000
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlipaySimConfig {
    pub app_id: String,
    /// Verifies the kiosk's requests.
    pub app_public_key_path: PathBuf,
    /// Signs the simulator's replies.
    pub platform_private_key_path: PathBuf,
    #[serde(default)]
    pub port: u16,
    /// The merchant's fee, parts per million of each payment (default 0.60%).
    #[serde(default = "wallet_fee_ppm")]
    pub fee_ppm: u32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnionPaySimConfig {
    pub mer_id: String,
    pub secure_key: Secret,
    #[serde(default)]
    pub port: u16,
    /// The merchant's fee, parts per million of each consume (default 0.38%).
    #[serde(default = "unionpay_fee_ppm")]
    pub fee_ppm: u32,
}

fn unionpay_fee_ppm() -> u32 {
    3_800
}

/// The card acquirer: the host the simulated terminals report to and the portal of the
/// merchant's settlement files.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardAcquirerSimConfig {
    /// The merchant id the simulated terminals report (`898310048990001`).
    pub merchant_id: String,
    /// The portal key.
    pub key: Secret,
    #[serde(default)]
    pub port: u16,
    /// The merchant's fee, parts per million of each sale (default 0.50%, a debit card's).
    #[serde(default = "card_fee_ppm")]
    pub fee_ppm: u32,
}

fn card_fee_ppm() -> u32 {
    5_000
}

impl CardAcquirerSimConfig {
    fn demo() -> CardAcquirerSimConfig {
        CardAcquirerSimConfig {
            merchant_id: "898310048990001".into(),
            key: Secret::from("YizhanSimulatorPortalKey"),
            port: 0,
            fee_ppm: card_fee_ppm(),
        }
    }
}

/// The simulators' settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelSimsConfig {
    pub wechat: WeChatSimConfig,
    pub alipay: AlipaySimConfig,
    pub unionpay: UnionPaySimConfig,
    #[serde(default = "CardAcquirerSimConfig::demo")]
    pub card_acquirer: CardAcquirerSimConfig,
}

impl ChannelSimsConfig {
    /// Demo ids and secrets, with the Alipay keys from `keys_dir` (the repository's
    /// `config/sim-keys`), on free ports.
    pub fn demo(keys_dir: &Path) -> ChannelSimsConfig {
        ChannelSimsConfig {
            wechat: WeChatSimConfig {
                appid: "wx2421b1c4370ec43b".into(),
                mch_id: "10000100".into(),
                api_key: Secret::from("YizhanSimulatorApiKey0123456789a"),
                port: 0,
                revoked_time_end: false,
                refund_pending_queries: 0,
                refund_pending_ms: 0,
                fee_ppm: wallet_fee_ppm(),
            },
            alipay: AlipaySimConfig {
                app_id: "2021000000000001".into(),
                app_public_key_path: keys_dir.join(APP_PUBLIC_KEY_FILE),
                platform_private_key_path: keys_dir.join(PLATFORM_PRIVATE_KEY_FILE),
                port: 0,
                fee_ppm: wallet_fee_ppm(),
            },
            unionpay: UnionPaySimConfig {
                mer_id: "777290058110048".into(),
                secure_key: Secret::from("YizhanSimulatorSecureKey"),
                port: 0,
                fee_ppm: unionpay_fee_ppm(),
            },
            card_acquirer: CardAcquirerSimConfig::demo(),
        }
    }
}

/// Why a simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: std::io::Error },
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// A running simulator: its address, fault plan and order book. Dropping it stops the server.
#[derive(Debug)]
pub struct SimHandle {
    served: Served,
    plan: FaultPlan,
    book: Book,
}

impl SimHandle {
    /// "http://127.0.0.1:PORT"
    pub fn url(&self) -> String {
        self.served.url()
    }

    pub fn addr(&self) -> SocketAddr {
        self.served.addr
    }

    /// The fault plan, to queue faults in process.
    pub fn faults(&self) -> &FaultPlan {
        &self.plan
    }

    /// Every money movement so far (PINs that are due are settled first).
    pub fn ledger(&self) -> Vec<LedgerEntry> {
        self.book.ledger()
    }

    /// The customer enters the PIN for `out_trade_no` now; false if the order no longer waits
    /// for one (paid, failed, or reversed: a late PIN cannot succeed).
    pub fn enter_pin(&self, out_trade_no: &str) -> bool {
        self.book.enter_pin(out_trade_no)
    }

    /// The next refund this channel takes on ends this way instead of `SUCCESS` (WeChat and the
    /// acquirer pay refunds out later; Alipay pays out at once and ignores it).
    pub fn end_next_refund(&self, ending: RefundEnding) {
        self.book.end_next_refund(ending);
    }

    /// Adds a row only the channel knows (reconciliation tests).
    pub fn add_ledger_entry(&self, entry: LedgerEntry) {
        self.book.add_entry(entry);
    }

    /// Leaves the `kind` row of `out_trade_no` out of the statement (seeded discrepancy: a
    /// missing row). False if there is none.
    pub fn omit_from_statement(&self, out_trade_no: &str, kind: LedgerKind) -> bool {
        self.book.omit_entry(out_trade_no, kind)
    }

    /// The statement states the fee on `out_trade_no`'s charge off by `fen` (seeded discrepancy).
    pub fn misstate_fee(&self, out_trade_no: &str, fen: i64) {
        self.book.misstate_fee(out_trade_no, fen);
    }

    /// Changes the amount the statement reports for the charge of `out_trade_no`.
    pub fn amend_charge(&self, out_trade_no: &str, amount: Fen) -> bool {
        self.book.amend_charge(out_trade_no, amount)
    }
}

async fn bind(port: u16) -> Result<TcpListener, SimError> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await.map_err(|source| SimError::Bind { port, source })
}

fn start(
    listener: TcpListener,
    router: axum::Router,
    plan: FaultPlan,
    book: Book,
) -> Result<SimHandle, SimError> {
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let router = router.merge(simkit::admin_router(plan.clone())).merge(admin::router(book.clone()));
    let served = simkit::serve(listener, router).map_err(|source| SimError::Bind { port, source })?;
    Ok(SimHandle { served, plan, book })
}

/// Starts the WeChat Pay v2 simulator.
pub async fn start_wechat(config: &WeChatSimConfig) -> Result<SimHandle, SimError> {
    let listener = bind(config.port).await?;
    let timing = RefundTiming {
        pending_queries: config.refund_pending_queries,
        pending_for: std::time::Duration::from_millis(config.refund_pending_ms),
    };
    let (plan, book) = (FaultPlan::default(), Book::with_deferred_refunds("4200", timing));
    let router = wechat::router(config.clone(), plan.clone(), book.clone());
    start(listener, router, plan, book)
}

/// Starts the Alipay simulator.
pub async fn start_alipay(config: &AlipaySimConfig) -> Result<SimHandle, SimError> {
    let listener = bind(config.port).await?;
    let url = format!(
        "http://{}",
        listener.local_addr().map_err(|source| SimError::Bind { port: config.port, source })?
    );
    let (plan, book) = (FaultPlan::default(), Book::new("2026"));
    let router = alipay::router(config, url, plan.clone(), book.clone())?;
    start(listener, router, plan, book)
}

/// Starts the UnionPay acquirer simulator.
pub async fn start_unionpay(config: &UnionPaySimConfig) -> Result<SimHandle, SimError> {
    let listener = bind(config.port).await?;
    let (plan, book) = (FaultPlan::default(), Book::with_deferred_refunds("62", RefundTiming::default()));
    let router = unionpay::router(config.clone(), plan.clone(), book.clone());
    start(listener, router, plan, book)
}

/// Starts the card acquirer's host and portal simulator.
pub async fn start_card_acquirer(config: &CardAcquirerSimConfig) -> Result<SimHandle, SimError> {
    let listener = bind(config.port).await?;
    let (plan, book) = (FaultPlan::default(), Book::new("31"));
    let router = card_acquirer::router(config.clone(), plan.clone(), book.clone());
    start(listener, router, plan, book)
}

/// The simulators, running.
#[derive(Debug)]
pub struct RunningChannelSims {
    pub wechat: SimHandle,
    pub alipay: SimHandle,
    pub unionpay: SimHandle,
    /// The card acquirer: its ledger is what the simulated terminals reported.
    pub card_acquirer: SimHandle,
    config: ChannelSimsConfig,
}

/// Starts the simulators on loopback.
pub async fn start_all(config: &ChannelSimsConfig) -> Result<RunningChannelSims, SimError> {
    Ok(RunningChannelSims {
        wechat: start_wechat(&config.wechat).await?,
        alipay: start_alipay(&config.alipay).await?,
        unionpay: start_unionpay(&config.unionpay).await?,
        card_acquirer: start_card_acquirer(&config.card_acquirer).await?,
        config: config.clone(),
    })
}

impl RunningChannelSims {
    /// A client configuration pointing at these simulators, with the same ids and secrets; the
    /// Alipay client keys are read from `keys_dir` (the app private key and the platform public
    /// key).
    pub fn client_config(&self, keys_dir: &Path) -> PaymentsConfig {
        PaymentsConfig {
            wechat: Some(WeChatConfig {
                base_url: self.wechat.url(),
                appid: self.config.wechat.appid.clone(),
                mch_id: self.config.wechat.mch_id.clone(),
                api_key: self.config.wechat.api_key.clone(),
                spbill_create_ip: "127.0.0.1".into(),
                client_identity_pem: None,
                client_cert_pem: None,
                client_key_pem: None,
                sign_type: crate::wechat::sign::SignType::HmacSha256,
                connect_timeout_ms: 1_000,
                request_timeout_ms: 3_000,
                pay_timeout_ms: 3_000,
                fee_rate_ppm: Some(self.config.wechat.fee_ppm),
            }),
            alipay: Some(AlipayConfig {
                base_url: self.alipay.url(),
                app_id: self.config.alipay.app_id.clone(),
                app_private_key_path: keys_dir.join(APP_PRIVATE_KEY_FILE),
                alipay_public_key_path: keys_dir.join(PLATFORM_PUBLIC_KEY_FILE),
                connect_timeout_ms: 1_000,
                request_timeout_ms: 3_000,
                pay_timeout_ms: 3_000,
                fee_rate_ppm: Some(self.config.alipay.fee_ppm),
            }),
            unionpay: Some(UnionPayConfig {
                base_url: self.unionpay.url(),
                mer_id: self.config.unionpay.mer_id.clone(),
                secure_key: self.config.unionpay.secure_key.clone(),
                connect_timeout_ms: 1_000,
                request_timeout_ms: 3_000,
                pay_timeout_ms: 3_000,
                fee_rate_ppm: Some(self.config.unionpay.fee_ppm),
            }),
            card_acquirer: Some(CardAcquirerConfig {
                base_url: self.card_acquirer.url(),
                merchant_id: self.config.card_acquirer.merchant_id.clone(),
                key: self.config.card_acquirer.key.clone(),
                connect_timeout_ms: 1_000,
                request_timeout_ms: 3_000,
                fee_rate_ppm: Some(self.config.card_acquirer.fee_ppm),
            }),
        }
    }
}

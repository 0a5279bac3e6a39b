//! What kiosk and hub say to each other: JSON bodies, gzip on the wire ([`crate::gzip`]).
//!
//! | request                         | body            | answer            |
//! |---------------------------------|-----------------|-------------------|
//! | `POST /api/v1/pair`             | [`PairRequest`] | [`PairReply`]     |
//! | `POST /api/v1/journal`          | [`ShipBatch`]   | [`ShipAck`]       |
//! | `POST /api/v1/heartbeat`        | [`Heartbeat`]   | [`HeartbeatReply`]|
//! | `POST /api/v1/commands/ack`     | [`CommandAck`]  | `204`             |
//! | `GET /api/v1/packages/{p}/{v}`  |                 | the .deb's bytes  |
//! | `GET /api/v1/packages/{p}/{v}/signature` |        | [`crate::package::PackageSignature`] |
//!
//! Everything but pairing is mutual TLS: the hub knows the kiosk by its client certificate,
//! never by anything the kiosk writes in a body.

use serde::{Deserialize, Serialize};

/// Paths of the kiosk API.
pub mod path {
    pub const CA: &str = "/api/v1/ca";
    pub const PAIR: &str = "/api/v1/pair";
    pub const JOURNAL: &str = "/api/v1/journal";
    pub const HEARTBEAT: &str = "/api/v1/heartbeat";
    pub const COMMAND_ACK: &str = "/api/v1/commands/ack";
    /// Followed by `/{package}/{version}` (the .deb) or `/{package}/{version}/signature`.
    pub const PACKAGES: &str = "/api/v1/packages";
}

/// One chained transition of a kiosk's journal, as shipped: every column the chain hash covers,
/// and the hashes, so the hub can recompute the chain without trusting the kiosk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippedTransition {
    pub seq: i64,
    pub payment_id: String,
    /// Milliseconds since the epoch (UTC), the kiosk's clock.
    pub at: i64,
    pub from_state: String,
    pub to_state: String,
    pub event: String,
    pub effects: String,
    pub snapshot: String,
    pub prev_hash: String,
    pub hash: String,
}

impl From<journal::TransitionRow> for ShippedTransition {
    fn from(r: journal::TransitionRow) -> Self {
        ShippedTransition {
            seq: r.seq,
            payment_id: r.payment_id,
            at: r.at,
            from_state: r.from_state,
            to_state: r.to_state,
            event: r.event,
            effects: r.effects,
            snapshot: r.snapshot,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

/// Where a kiosk's chain ends now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
}

/// A batch of transitions, in seq order, with where the kiosk's journal stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipBatch {
    /// The journal's identity: a kiosk whose journal was replaced ships another one.
    pub journal_id: String,
    /// The newest row of the kiosk's journal when the batch was read.
    pub head: Head,
    /// The kiosk's cursor: it believes the hub holds every row up to here.
    pub after_seq: i64,
    pub rows: Vec<ShippedTransition>,
}

/// The hub's answer to a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipAck {
    /// The hub holds every row of this kiosk up to and including this seq: the kiosk's next batch
    /// starts after it (earlier than the kiosk's cursor when the hub lost rows).
    pub stored_through: i64,
}

/// How a device is, as the kiosk sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceHealth {
    Ok,
    /// Working, but needs attention soon (paper near its end, box nearly full).
    Warning,
    Fault,
    /// Not answering, or not fitted.
    Absent,
}

/// One device's line in a heartbeat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceReport {
    /// `printer`, `scanner`, `idcard`, `iccard`, `bankcard` or `cash`.
    pub device: String,
    pub health: DeviceHealth,
    /// What staff read: "paper near end", "jammed", …; never personal data.
    pub detail: String,
}

/// The receipt printer's paper.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Paper {
    Ok,
    NearEnd,
    Out,
    Unknown,
}

/// The banknote box.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashBoxReport {
    /// In its place.
    pub present: bool,
    /// The acceptor reports its box full (it takes no more notes).
    pub full: bool,
    /// Notes in the box since the last collection, and their sum, as journaled.
    pub notes: u32,
    pub total_fen: i64,
}

/// A payment the kiosk holds in suspense (its outcome unknown or not yet settled).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuspenseReport {
    pub order_ref: String,
    pub amount_fen: i64,
    pub state: String,
    /// When the payment began (ms since the epoch).
    pub since_ms: i64,
}

/// What a kiosk reports every 30 seconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub software_version: String,
    /// The kiosk's clock (ms since the epoch), to see a clock that drifts.
    pub sent_at_ms: i64,
    /// Taking customers (false when staff or the hub took it out of service, or a fault did).
    pub in_service: bool,
    pub head: Head,
    pub journal_bytes: u64,
    pub disk_free_bytes: u64,
    pub paper: Paper,
    pub devices: Vec<DeviceReport>,
    pub cash_box: Option<CashBoxReport>,
    pub suspense: Vec<SuspenseReport>,
    /// The pushed configuration version the kiosk runs (0: the file it was installed with).
    #[serde(default)]
    pub config_version: i64,
    /// Its software package and where an update stands (none from older kiosks).
    #[serde(default)]
    pub update: Option<UpdateReport>,
    /// The merchant accounts it takes money into, per statement: reconciliation settles its
    /// payments only from those accounts' files.
    #[serde(default)]
    pub merchants: Vec<MerchantAccount>,
    /// The newest cash collections (清机) as the journal counted them: the hub compares each with
    /// the amount counted out of the box.
    #[serde(default)]
    pub cash_collections: Vec<CashCollectionReport>,
    /// A customer pressed 呼叫工作人员 at this time (ms since the epoch) and no staff member has
    /// signed in at the kiosk since: the hub raises `help_called` (none from older kiosks).
    #[serde(default)]
    pub help_called_at_ms: Option<i64>,
}

/// One collection of the cash box, as the kiosk's journal counted what it took out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashCollectionReport {
    /// The journal's collection number (one sequence per kiosk).
    pub id: i64,
    pub at_ms: i64,
    pub staff_id: String,
    /// Notes the journal holds as in the box, and the sum of those of known value.
    pub notes: u32,
    pub sum_fen: i64,
    /// Notes in the box of unknown value (anomalies), and notes held for staff that may be.
    pub unknown: u32,
    pub uncertain: u32,
}

/// A merchant account a kiosk is configured with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerchantAccount {
    /// The statement's source (`wechat`, `alipay`, `unionpay-acquirer`, `bankcard-settlement`).
    pub source: String,
    /// `mch_id`, the Alipay app id, `merId`, the card acquirer's 商户号.
    pub merchant: String,
}

/// The kiosk's package and its updater's state, for the hub's roll-outs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateReport {
    /// The version of the `yizhan` package installed (none: not installed from a package).
    pub installed: Option<String>,
    /// `idle`, `staged`, `installing`, `awaiting_health`, `healthy`, `rolled_back` or `refused`.
    pub phase: String,
    /// The version the phase is about.
    pub version: Option<String>,
    pub detail: String,
}

/// A command for one kiosk, from an operator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    /// The hub's id: the kiosk acknowledges it, and journals it, under this id.
    pub id: i64,
    /// The operator who asked (account name), journaled by the kiosk with the action.
    pub operator: String,
    pub action: CommandAction,
}

/// What an operator can ask a kiosk to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CommandAction {
    TakeOutOfService {
        reason: String,
    },
    ReturnToService,
    /// Every device's status, the journal's head and the unsettled payments, answered in the
    /// acknowledgement.
    Diagnostics,
    /// Settle a payment in suspense as finance decided from the statements: `outcome` is
    /// `delivered` (the billers have the money), `returned` (the customer has it back) or
    /// `not-charged`. The kiosk journals it as a staff resolution by `hub:<operator>`; one that
    /// contradicts what the kiosk itself saw is refused there.
    SettleSuspense {
        order_ref: String,
        outcome: String,
        reason: String,
    },
    /// Settle a payment in suspense from the statements the hub read (reconciliation): the kiosk
    /// feeds `evidence` to the payment as its `Reconciled` event, exactly as its own `yizhan
    /// recon` would, and journals it naming `evidence.files` (the SHA-256 of each statement and
    /// biller file it comes from). Evidence that does not settle the payment changes nothing.
    ReconcileSuspense {
        order_ref: String,
        evidence: kiosk_core::payment::StatementEvidence,
    },
    /// The biller's final files lack a write-off the kiosk journaled as done (`NOT_AT_BILLER`):
    /// the kiosk asks the biller about the line with this write-off `reference`, and sends the
    /// same write-off again (same reference, so the biller cannot take it twice) only when the
    /// biller says it never had it. The kiosk's journal must hold the line as written off.
    ResendWriteOff {
        order_ref: String,
        reference: String,
    },
    /// A channel's statement shows a charge of an order the kiosk holds as never charged
    /// (`CHANNEL_ONLY`): the kiosk gives the whole order back through the channel, as its payment
    /// machine's `ChargedPerStatement` (journaled first, the order's whole-order refund number),
    /// and only if its journal holds the order as never charged and `source` (the statement,
    /// `wechat`…) and `amount_fen` are its channel's and its total. `files`: the statements'
    /// SHA-256, journaled with the transition.
    RefundPerStatement {
        order_ref: String,
        source: String,
        amount_fen: i64,
        files: Vec<String>,
    },
    /// A whole `kiosk.toml`, numbered by the hub (each kiosk's versions count up from 1). The
    /// kiosk checks it as it checks its own file at start-up, stages it, and applies it between
    /// customers; the heartbeat's `config_version` says when it runs.
    PushConfig {
        version: i64,
        /// The file's text.
        config: String,
        /// SHA-256 of `config` (hex), journaled by the kiosk in place of the text.
        sha256: String,
    },
    /// Install a software package the operator signed (the kiosk fetches it and its signature
    /// from the hub, checks both against the operator's key, and installs it when idle).
    InstallUpdate {
        package: String,
        version: String,
        /// SHA-256 of the .deb (hex), as the hub holds it.
        sha256: String,
    },
    /// The roll-out of `version` was stopped: drop it if it is staged and its install not asked
    /// for yet.
    CancelUpdate {
        version: String,
    },
    /// A kind this build does not know, from a newer hub: the kiosk acknowledges it as not done,
    /// and the commands after it still come (one unknown kind must not stop them all).
    #[serde(other)]
    Unsupported,
}

impl CommandAction {
    /// A configuration to push, its hash computed here so hub and kiosk agree on it.
    pub fn push_config(version: i64, config: String) -> CommandAction {
        let sha256 = config_sha256(&config);
        CommandAction::PushConfig { version, config, sha256 }
    }
}

/// SHA-256 (lowercase hex) of a pushed configuration's text.
pub fn config_sha256(config: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(config.as_bytes()))
}

/// The hub's answer to a heartbeat: the commands waiting for this kiosk, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatReply {
    pub commands: Vec<Command>,
}

/// How a command ended on the kiosk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandAck {
    pub id: i64,
    pub done: bool,
    /// What happened, or why not; diagnostics carry their report here.
    pub detail: String,
}

/// Pairing: the code an operator was given, and the kiosk's new public key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairRequest {
    pub code: String,
    /// The kiosk's ECDSA P-256 public key, uncompressed point, hex.
    pub public_key: String,
}

/// The hub's answer to pairing: who the kiosk is now and its certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairReply {
    pub kiosk_id: String,
    /// The client certificate the hub signed, PEM.
    pub certificate_pem: String,
}

/// An error body from the hub: a sentence for the log, and a stable code for the program.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_kind_this_build_does_not_know_leaves_the_others_readable() {
        // As a newer hub would send it: literal JSON, not this build's serialisation.
        let reply = r#"{"commands":[
            {"id":7,"operator":"wang","action":{"kind":"reboot_printer","after_s":30}},
            {"id":8,"operator":"wang","action":{"kind":"take_out_of_service","reason":"glass cracked"}}
        ]}"#;
        let reply: HeartbeatReply = serde_json::from_str(reply).unwrap();
        assert_eq!(reply.commands[0].action, CommandAction::Unsupported);
        assert_eq!(
            reply.commands[1].action,
            CommandAction::TakeOutOfService { reason: "glass cracked".into() }
        );
    }
}

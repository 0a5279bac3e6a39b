//! Reconciliation (对账, payments.md §6), the pure part: which statement can hold a payment's rows,
//! what the files that were read say about it (the [`StatementEvidence`] fed to the payment machine
//! as `Event::Reconciled`), and the flags of one accounting day. The runtime fetches the files,
//! journals and prints; nothing here does I/O or reads a clock.
//!
//! The rule everything follows: the absence of a row proves nothing unless the file could contain
//! it. Each channel's money is booked in its own statement ([`Source::of`], an exhaustive match),
//! and a payment's files are *complete* only when that source is one the kiosk reads and its files
//! of every day the payment could be booked on (its order's day D and D+1: a PIN entered after
//! midnight) were read in full after the day was closed. A WeChat or Alipay file therefore never
//! says anything about a UnionPay or bank-card payment.
//!
//! Days are Beijing calendar days (UTC+8, no daylight saving), as the channels and billers cut them.

use crate::channel::{acp_order_id, Channel};
use crate::money::{Fen, MilliFen};
use crate::payment::{LineState, Payment, RefundStatus, State, StatementEvidence};
use crate::time::Ts;
use crate::utility::Utility;
use catalogue::{tr, Lang};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

const DAY_MS: i64 = 86_400_000;
const BEIJING_OFFSET_MS: i64 = crate::time::BEIJING_OFFSET_SECS as i64 * 1_000;
/// WeChat publishes day D's bill at about 09:00 on D+1 and Alipay after 10:00 (payments.md §6).
const PUBLISHED_AFTER_MS: i64 = 10 * 3_600_000;

/// A Beijing calendar day, counted in days since 1970-01-01.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Day(pub i64);

impl Day {
    /// The day of a Beijing calendar date (days since 1970-01-01, chrono's default date).
    pub fn from_date(date: chrono::NaiveDate) -> Day {
        Day(date.signed_duration_since(chrono::NaiveDate::default()).num_days())
    }

    /// The Beijing calendar date of this day.
    pub fn date(self) -> chrono::NaiveDate {
        let epoch = chrono::NaiveDate::default();
        epoch.checked_add_signed(chrono::Duration::days(self.0)).unwrap_or(epoch)
    }

    /// The Beijing day of an instant.
    pub fn of(ts: Ts) -> Day {
        Day(ts.0.saturating_add(BEIJING_OFFSET_MS).div_euclid(DAY_MS))
    }

    pub fn next(self) -> Day {
        Day(self.0.saturating_add(1))
    }

    pub fn previous(self) -> Day {
        Day(self.0.saturating_sub(1))
    }

    /// 00:00 Beijing time of this day.
    pub fn starts_at(self) -> Ts {
        Ts(self.0.saturating_mul(DAY_MS).saturating_sub(BEIJING_OFFSET_MS))
    }

    /// From when this day's files are final: 10:00 of the next day. A file fetched earlier (or
    /// a "no bill" answer) may still grow, so it can show that money moved, never that it did not.
    pub fn final_at(self) -> Ts {
        Ts(self.next().starts_at().0.saturating_add(PUBLISHED_AFTER_MS))
    }

    /// The days on which a payment whose order was created on this day can be booked.
    pub fn booking_days(self) -> [Day; 2] {
        [self, self.next()]
    }

    /// The latest day whose every file, its own and the next day's, is final at `now`: the day a
    /// reconciliation run at `now` can settle completely.
    pub fn latest_complete(now: Ts) -> Day {
        let mut day = Day::of(now);
        while day.next().final_at() > now {
            day = day.previous();
        }
        day
    }
}

/// Where a channel books its money: one statement per channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// WeChat Pay's downloadbill file.
    WeChatBill,
    /// Alipay's trade bill (a GBK CSV in a zip).
    AlipayBill,
    /// The UnionPay acquirer's daily file (ACP txnType 76, the fixed-width ZM file).
    UnionPayAcquirerFile,
    /// The card acquirer's settlement file (POS 对账单) of the certified terminals: sales, voids
    /// and refunds under the order number the kiosk gave the terminal.
    BankCardSettlementFile,
    /// The cash box's collection count (清机, `yizhan cash collect`): staff count the notes
    /// against the journal's custody records; there is no file to read.
    CashCollection,
}

impl Source {
    pub const ALL: [Source; 5] = [
        Source::WeChatBill,
        Source::AlipayBill,
        Source::UnionPayAcquirerFile,
        Source::BankCardSettlementFile,
        Source::CashCollection,
    ];

    /// The one statement that can contain the rows of a payment made through `channel`.
    pub fn of(channel: Channel) -> Source {
        match channel {
            Channel::WeChat => Source::WeChatBill,
            Channel::Alipay => Source::AlipayBill,
            Channel::UnionPay => Source::UnionPayAcquirerFile,
            Channel::BankCard => Source::BankCardSettlementFile,
            Channel::Cash => Source::CashCollection,
        }
    }

    /// The channel whose payments this statement holds (the inverse of [`Source::of`]).
    pub fn channel(self) -> Channel {
        match self {
            Source::WeChatBill => Channel::WeChat,
            Source::AlipayBill => Channel::Alipay,
            Source::UnionPayAcquirerFile => Channel::UnionPay,
            Source::BankCardSettlementFile => Channel::BankCard,
            Source::CashCollection => Channel::Cash,
        }
    }

    /// Whether this kiosk reads this statement. A source it does not read can never make a
    /// payment's files complete: its payments stay in suspense until their own file is read.
    pub fn is_read(self) -> bool {
        match self {
            Source::WeChatBill
            | Source::AlipayBill
            | Source::UnionPayAcquirerFile
            | Source::BankCardSettlementFile => true,
            Source::CashCollection => false,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Source::WeChatBill => "wechat",
            Source::AlipayBill => "alipay",
            Source::UnionPayAcquirerFile => "unionpay-acquirer",
            Source::BankCardSettlementFile => "bankcard-settlement",
            Source::CashCollection => "cash-collection",
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// One money movement as a channel's statement reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementRow {
    /// Our order number.
    pub out_trade_no: String,
    /// The channel's transaction id (WeChat `transaction_id`, Alipay `trade_no`); on a WeChat
    /// refund row, the refund's own id (`refund_id`).
    pub channel_txn: String,
    /// Always positive; `kind` says which way the money went.
    pub amount: Fen,
    pub kind: StatementKind,
    /// Our refund number, for refund rows.
    pub refund_no: Option<String>,
    /// When the channel booked it.
    pub time: Ts,
    /// The fee the channel took on this row (手续费, 服务费, 商户手续费), when its file states one.
    #[serde(default)]
    pub fee: Option<MilliFen>,
}

impl StatementRow {
    /// Whether this row books our refund `refund_no`: the acquirer's file names a refund by the
    /// order id it was sent under ([`acp_order_id`]), the wallets by the number itself.
    pub fn names_refund(&self, refund_no: &str) -> bool {
        self.refund_no.as_deref().is_some_and(|own| own == refund_no || own == acp_order_id(refund_no))
    }
}

/// What a merchant account pays a channel: parts per million of each payment's amount
/// (WeChat's "0.60%" is 6,000). Set per source in [`Files::set_fee_rate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeRate {
    pub ppm: u32,
}

impl FeeRate {
    /// A fee may differ from the rate's exact value by the channel's rounding: half a fen.
    pub const TOLERANCE: MilliFen = MilliFen(500);

    /// The rate's exact fee on `amount`.
    pub fn fee_on(self, amount: Fen) -> MilliFen {
        // fen × ppm / 10⁶ fen = fen × ppm / 10³ thousandths of a fen.
        MilliFen(amount.0.saturating_mul(i64::from(self.ppm)) / 1_000)
    }

    /// Whether `charged` is the fee on `amount`, give or take the channel's rounding. (Wide
    /// arithmetic: a hostile file's fee cannot wrap into agreement.)
    pub fn agrees(self, amount: Fen, charged: MilliFen) -> bool {
        (i128::from(charged.0) - i128::from(self.fee_on(amount).0)).abs() <= i128::from(Self::TOLERANCE.0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementKind {
    /// The customer paid.
    Payment,
    /// Money went back through a refund.
    Refund,
    /// A paid order was reversed (撤销): money went back without a refund number.
    Reversed,
}

impl StatementKind {
    pub fn code(self) -> &'static str {
        match self {
            StatementKind::Payment => "payment",
            StatementKind::Refund => "refund",
            StatementKind::Reversed => "reversed",
        }
    }
}

/// One line of a biller's reconciliation file, reduced to what matching needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BillerRow {
    /// Our write-off reference (`OrderLine::biller_ref`).
    pub reference: String,
    pub amount: Fen,
    /// The line records a write-off or a prepaid purchase (not, say, a counter cancellation).
    pub credited: bool,
}

/// A file's row names what it is of: the order number (a statement's) or the write-off
/// reference (a biller's).
trait Named {
    fn name(&self) -> &str;
}

impl Named for StatementRow {
    fn name(&self) -> &str {
        &self.out_trade_no
    }
}

impl Named for BillerRow {
    fn name(&self) -> &str {
        &self.reference
    }
}

#[derive(Clone, Debug)]
struct File<R> {
    rows: Vec<R>,
    /// Read in full after its day was closed ([`Day::final_at`]).
    whole: bool,
    /// The rows of each name: a fleet's day is millions of rows, looked up once per payment.
    by_name: HashMap<String, Vec<usize>>,
}

impl<R: Named> File<R> {
    fn new(rows: Vec<R>, whole: bool) -> File<R> {
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, row) in rows.iter().enumerate() {
            by_name.entry(row.name().to_string()).or_default().push(index);
        }
        File { rows, whole, by_name }
    }

    fn named<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a R> + 'a {
        self.by_name.get(name).into_iter().flatten().map(move |&index| &self.rows[index])
    }
}

/// The rows named `name` in the files `key` has for `days` (the booking day and the next).
fn rows_named<'a, K: Ord + Copy + 'a, R: Named>(
    files: &'a BTreeMap<(K, Day), File<R>>,
    key: K,
    days: [Day; 2],
    name: &'a str,
) -> impl Iterator<Item = &'a R> + 'a {
    days.into_iter().filter_map(move |day| files.get(&(key, day))).flat_map(move |file| file.named(name))
}

/// The statements and biller files a reconciliation run has read.
#[derive(Clone, Debug, Default)]
pub struct Files {
    statements: BTreeMap<(Source, Day), File<StatementRow>>,
    /// The sources this run reads (an account of theirs is configured): a payment of any other
    /// channel is not covered, not unverified.
    read: BTreeSet<Source>,
    biller: BTreeMap<(Utility, Day), File<BillerRow>>,
    fee_rates: BTreeMap<Source, FeeRate>,
}

impl Files {
    pub fn new() -> Files {
        Files::default()
    }

    /// Records the statement of `source` for `day`. `whole`: it was fetched after the day was
    /// final and read without error, so a row it lacks is a row the channel did not book.
    pub fn add_statement(&mut self, source: Source, day: Day, rows: Vec<StatementRow>, whole: bool) {
        self.read.insert(source);
        self.statements.insert((source, day), File::new(rows, whole));
    }

    /// `source` is read by this run, though a file of it could not be: its payments are
    /// unverified until a later run reads it (never "not covered").
    pub fn expect_statement(&mut self, source: Source) {
        self.read.insert(source);
    }

    /// Whether this run reads `source`'s statements: a source with a file ([`Files::is_read`]
    /// as well) whose account is configured.
    fn reads(&self, source: Source) -> bool {
        source.is_read() && self.read.contains(&source)
    }

    /// The order numbers the statements and the billers' files name: a reader that loads the
    /// journal by day adds the older orders among them (a refund days later, a write-off sent
    /// again at finance's command) before matching. A write-off reference is its order's number
    /// and the line's (`<order>-<n>`, `OrderRef::biller_ref`).
    pub fn order_numbers(&self) -> impl Iterator<Item = &str> {
        let statements = self.statements.values().flat_map(|file| file.by_name.keys().map(String::as_str));
        let billers = self.biller.values().flat_map(|file| {
            file.by_name.keys().filter_map(|reference| reference.rsplit_once('-').map(|(order, _)| order))
        });
        statements.chain(billers)
    }

    /// Records `utility`'s biller file for `day`; `whole` as for [`Files::add_statement`].
    pub fn add_biller_file(&mut self, utility: Utility, day: Day, rows: Vec<BillerRow>, whole: bool) {
        self.biller.insert((utility, day), File::new(rows, whole));
    }

    /// The fee the merchant account agreed with `source`'s channel: each charge's fee is checked
    /// against it ([`Flag::FeeDiffers`]). Without one, fees are not checked.
    pub fn set_fee_rate(&mut self, source: Source, rate: FeeRate) {
        self.fee_rates.insert(source, rate);
    }

    fn statement_whole(&self, source: Source, day: Day) -> bool {
        source.is_read() && self.statements.get(&(source, day)).is_some_and(|f| f.whole)
    }

    fn biller_whole(&self, utility: Utility, day: Day) -> bool {
        self.biller.get(&(utility, day)).is_some_and(|f| f.whole)
    }

    /// The rows of `order` in `source`'s files of `days`.
    fn rows_of<'a>(
        &'a self,
        source: Source,
        days: [Day; 2],
        order: &'a str,
    ) -> impl Iterator<Item = &'a StatementRow> + 'a {
        rows_named(&self.statements, source, days, order)
    }

    /// Rows naming `order` in the statement of any *other* source: never evidence for it.
    fn foreign_rows<'a>(
        &'a self,
        own: Option<Source>,
        order: &'a str,
    ) -> impl Iterator<Item = &'a StatementRow> + 'a {
        self.statements
            .iter()
            .filter(move |((source, _), _)| Some(*source) != own)
            .flat_map(move |(_, file)| file.named(order))
    }

    fn biller_rows_of<'a>(
        &'a self,
        utility: Utility,
        days: [Day; 2],
        reference: &'a str,
    ) -> impl Iterator<Item = &'a BillerRow> + 'a {
        rows_named(&self.biller, utility, days, reference)
    }

    /// Whether the files read cover every file that could hold `payment`'s rows: its channel's
    /// statement (a source the kiosk reads) and its lines' billers' files, of its order's day and
    /// the next, each whole.
    pub fn cover(&self, payment: &Payment) -> bool {
        let Some(channel) = payment.channel else {
            return false;
        };
        let source = Source::of(channel);
        let days = Day::of(payment.order.created_at).booking_days();
        days.iter().all(|&day| self.statement_whole(source, day))
            && payment
                .order
                .lines
                .iter()
                .all(|line| days.iter().all(|&day| self.biller_whole(line.utility, day)))
    }

    /// Rows that name `payment` but disagree with it: a charge or reverse of another amount, a
    /// refund of ours of another amount, a write-off of another amount, or the order number in
    /// another channel's statement. Such a file is no evidence for the order either way.
    fn conflicts(&self, payment: &Payment) -> bool {
        let id = payment.id();
        let total = payment.order.total();
        let days = Day::of(payment.order.created_at).booking_days();
        let own = payment.channel.map(Source::of);
        let channel_conflict = own.is_some_and(|source| {
            self.rows_of(source, days, id).any(|row| match row.kind {
                StatementKind::Payment | StatementKind::Reversed => row.amount != total,
                StatementKind::Refund => {
                    payment.refunds.iter().any(|r| row.names_refund(&r.refund_no) && r.amount != row.amount)
                }
            })
        });
        let biller_conflict = payment.order.lines.iter().any(|line| {
            self.biller_rows_of(line.utility, days, &line.biller_ref).any(|r| r.amount != line.amount)
        });
        channel_conflict || biller_conflict || self.foreign_rows(own, id).next().is_some()
    }

    /// What the files say about `payment`, for `Event::Reconciled`. Only rows of the payment's own
    /// channel's statement, naming its order number with its amount, count; `complete` only when
    /// [`Files::cover`] holds and no row contradicts the journal (then nothing is taken from the
    /// files at all: staff look).
    pub fn evidence_for(&self, payment: &Payment) -> StatementEvidence {
        let lines = payment.order.lines.len();
        let nothing = StatementEvidence {
            charged: false,
            reversed: false,
            refunds: Vec::new(),
            written_off: vec![false; lines],
            complete: false,
            files: Vec::new(),
        };
        let Some(channel) = payment.channel else {
            return nothing;
        };
        if self.conflicts(payment) {
            return nothing;
        }
        let source = Source::of(channel);
        let id = payment.id();
        let days = Day::of(payment.order.created_at).booking_days();
        let mine = || self.rows_of(source, days, id);
        // Named as the journal names them (the acquirer's file may carry a derived id).
        let mut refunds: Vec<String> = mine()
            .filter(|r| r.kind == StatementKind::Refund)
            .filter_map(|row| {
                let ours = payment.refunds.iter().find(|r| row.names_refund(&r.refund_no));
                ours.map(|r| r.refund_no.clone()).or_else(|| row.refund_no.clone())
            })
            .collect();
        refunds.sort();
        refunds.dedup();
        StatementEvidence {
            charged: mine().any(|r| r.kind == StatementKind::Payment),
            reversed: mine().any(|r| r.kind == StatementKind::Reversed),
            refunds,
            written_off: payment
                .order
                .lines
                .iter()
                .map(|line| self.biller_rows_of(line.utility, days, &line.biller_ref).any(|r| r.credited))
                .collect(),
            complete: self.cover(payment),
            files: Vec::new(),
        }
    }
}

/// What reconciliation found about one order, line or row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Flag {
    /// The journal and the files agree.
    Matched { order: String },
    /// 渠道多: the channel booked money for an order number the journal does not hold in that
    /// channel, or a charge the journal does not hold as taken.
    ChannelOnly { source: Source, order: String, kind: StatementKind, amount: Fen },
    /// 缴费单位多: the biller booked a write-off the journal does not hold.
    BillerOnly { reference: String, amount: Fen },
    /// 本地多: the journal holds money taken that the channel's complete files do not show.
    LocalOnly { order: String, amount: Fen },
    /// The journal holds a line as written off that the biller's complete files do not show.
    NotAtBiller { reference: String, amount: Fen },
    /// The biller's files credit one write-off of ours more than once (重复销账): the account
    /// was credited `times` over for one payment.
    WrittenOffTwice { reference: String, amount: Fen, times: usize },
    /// The files name the order (or line) with another amount: never taken as evidence.
    AmountDiffers { key: String, local: Fen, external: Fen },
    /// The channel took another fee on a charge than the merchant account's rate makes it
    /// (beyond half a fen of rounding).
    FeeDiffers { order: String, expected: MilliFen, charged: MilliFen },
    /// 退款渠道多: the channel booked a refund of a known order under a refund number the
    /// journal does not hold (money went back that the kiosk did not send back).
    RefundChannelOnly { order: String, refund_no: String, amount: Fen },
    /// 退款本地多: the journal holds a refund as arrived that the channel's complete files of
    /// its days (the day it was sent and the next) do not show.
    RefundNotAtChannel { order: String, refund_no: String, amount: Fen },
    /// Still in SUSPENSE after the files were read: staff (or a later run) settle it.
    InSuspense { order: String },
    /// A file that could hold the order's rows is not final or could not be read: run again.
    Unverified { order: String },
    /// No statement of this channel is read (cash: the box's count is staff's): not checked.
    NotCovered { order: String, source: Source },
    /// 清机: the amount counted out of the cash box is not what the journal says the collection
    /// took out. `doubtful`: notes of unknown value or held for staff, which may explain it.
    CashDiffers { collection: String, journaled: Fen, counted: Fen, doubtful: u32 },
}

impl Flag {
    /// Whether the flag asks for staff or a later run (the run's exit code says so).
    pub fn is_exception(&self) -> bool {
        match self {
            Flag::Matched { .. } | Flag::NotCovered { .. } => false,
            Flag::ChannelOnly { .. }
            | Flag::BillerOnly { .. }
            | Flag::LocalOnly { .. }
            | Flag::NotAtBiller { .. }
            | Flag::WrittenOffTwice { .. }
            | Flag::AmountDiffers { .. }
            | Flag::FeeDiffers { .. }
            | Flag::RefundChannelOnly { .. }
            | Flag::RefundNotAtChannel { .. }
            | Flag::InSuspense { .. }
            | Flag::Unverified { .. }
            | Flag::CashDiffers { .. } => true,
        }
    }

    /// What the flag is about: an order number, a refund number or a write-off reference.
    pub fn subject(&self) -> &str {
        match self {
            Flag::Matched { order }
            | Flag::ChannelOnly { order, .. }
            | Flag::LocalOnly { order, .. }
            | Flag::FeeDiffers { order, .. }
            | Flag::RefundChannelOnly { order, .. }
            | Flag::RefundNotAtChannel { order, .. }
            | Flag::InSuspense { order }
            | Flag::Unverified { order }
            | Flag::NotCovered { order, .. } => order,
            Flag::CashDiffers { collection, .. } => collection,
            Flag::BillerOnly { reference, .. }
            | Flag::NotAtBiller { reference, .. }
            | Flag::WrittenOffTwice { reference, .. } => reference,
            Flag::AmountDiffers { key, .. } => key,
        }
    }

    /// One line for staff.
    pub fn describe(&self) -> String {
        match self {
            Flag::Matched { order } => format!("MATCHED        {order}"),
            Flag::ChannelOnly { source, order, kind, amount } => {
                format!(
                    "CHANNEL_ONLY   {order} {amount} {} in the {source} statement ({})",
                    kind.code(),
                    tr(Lang::Zh, "channel only")
                )
            }
            Flag::BillerOnly { reference, amount } => {
                format!("BILLER_ONLY    {reference} {amount} ({})", tr(Lang::Zh, "biller only"))
            }
            Flag::LocalOnly { order, amount } => {
                format!("LOCAL_ONLY     {order} {amount} ({})", tr(Lang::Zh, "local only"))
            }
            Flag::NotAtBiller { reference, amount } => {
                format!("NOT_AT_BILLER  {reference} {amount} (written off per the journal, not in the biller's file)")
            }
            Flag::WrittenOffTwice { reference, amount, times } => {
                format!("WRITTEN_TWICE  {reference} {amount} credited {times} times in the biller's file")
            }
            Flag::AmountDiffers { key, local, external } => {
                format!("AMOUNT_DIFFERS {key} local {local} external {external}")
            }
            Flag::FeeDiffers { order, expected, charged } => {
                format!("FEE_DIFFERS    {order} fee {charged}, the account's rate makes it {expected}")
            }
            Flag::RefundChannelOnly { order, refund_no, amount } => {
                format!("REFUND_CHANNEL {order} refund {refund_no} {amount} (booked by the channel, not in the journal)")
            }
            Flag::RefundNotAtChannel { order, refund_no, amount } => {
                format!("REFUND_LOCAL   {order} refund {refund_no} {amount} (arrived per the journal, not in the statement)")
            }
            Flag::InSuspense { order } => format!("IN_SUSPENSE    {order} (for staff: yizhan suspense)"),
            Flag::Unverified { order } => {
                format!("UNVERIFIED     {order} (a file of its days is not final or was not read: reconcile again later)")
            }
            Flag::NotCovered { order, source } => {
                format!("NOT_COVERED    {order} (the {source} file is not read by this kiosk)")
            }
            Flag::CashDiffers { collection, journaled, counted, doubtful } => {
                format!("CASH_DIFFERS   {collection} journaled {journaled} counted {counted} ({doubtful} notes of unknown value or held for staff)")
            }
        }
    }
}

/// 清机: the journal's account of a collection (`journaled`, the notes of known value it took out
/// of the box) against the amount counted out of it. Any difference is for staff: `doubtful`
/// notes (of unknown value, or held for staff) may explain it, and the flag says how many.
pub fn cash_count_flag(collection: &str, journaled: Fen, counted: Fen, doubtful: u32) -> Option<Flag> {
    (journaled != counted).then(|| Flag::CashDiffers {
        collection: collection.to_string(),
        journaled,
        counted,
        doubtful,
    })
}

/// The flags of accounting day `day`: each payment of the journal whose order was created that
/// day against the files of its days (D and D+1), and every row of day `day`'s own files that no
/// journal payment accounts for. Rows of D+1's files that belong to payments of D+1 or later are
/// theirs, not exceptions of D; rows of D+1's files that no payment accounts for are reported by
/// D+1's own run.
///
/// `journal` is every payment the journal holds (so that a row of an older payment — a refund
/// days later, a charge after midnight — is not taken for an unknown one). Refunds are judged
/// by the run of the day they were sent or booked, whatever the order's day: a refund row under
/// a refund number the journal does not hold ([`Flag::RefundChannelOnly`]), a refund booked with
/// another amount, and a refund the journal holds as arrived that the complete files of its days
/// do not show ([`Flag::RefundNotAtChannel`]).
pub fn match_day(day: Day, journal: &[Payment], files: &Files) -> Vec<Flag> {
    let mut flags = Vec::new();
    for payment in journal.iter().filter(|p| Day::of(p.order.created_at) == day) {
        flags.extend(payment_flags(payment, files));
    }
    let known: HashMap<&str, &Payment> = journal.iter().map(|p| (p.id(), p)).collect();
    for ((source, file_day), file) in &files.statements {
        if *file_day != day {
            continue;
        }
        for row in &file.rows {
            let payment =
                known.get(row.out_trade_no.as_str()).filter(|p| p.channel.map(Source::of) == Some(*source));
            match payment {
                None => flags.push(Flag::ChannelOnly {
                    source: *source,
                    order: row.out_trade_no.clone(),
                    kind: row.kind,
                    amount: row.amount,
                }),
                Some(payment) if row.kind == StatementKind::Refund => {
                    flags.extend(refund_row_flag(payment, row, day))
                }
                Some(_) => {}
            }
        }
    }
    // Refunds the journal holds as arrived, sent on this day: in this day's or the next day's file.
    for payment in journal {
        flags.extend(refunds_missing(payment, day, files));
    }
    let references: HashSet<&str> =
        journal.iter().flat_map(|p| p.order.lines.iter().map(|l| l.biller_ref.as_str())).collect();
    for ((_, file_day), file) in &files.biller {
        if *file_day != day {
            continue;
        }
        for row in file.rows.iter().filter(|r| !references.contains(r.reference.as_str())) {
            flags.push(Flag::BillerOnly { reference: row.reference.clone(), amount: row.amount });
        }
    }
    flags
}

/// A refund row of a known order, read in its day's file: a refund number the journal does not
/// hold, or (booked after the order's own days, where [`payment_flags`] does not look) another
/// amount.
fn refund_row_flag(payment: &Payment, row: &StatementRow, file_day: Day) -> Option<Flag> {
    let order = payment.id().to_string();
    let Some(refund) = payment.refunds.iter().find(|r| row.names_refund(&r.refund_no)) else {
        let refund_no = row.refund_no.clone().unwrap_or_else(|| row.channel_txn.clone());
        return Some(Flag::RefundChannelOnly { order, refund_no, amount: row.amount });
    };
    let order_days = Day::of(payment.order.created_at).booking_days();
    (refund.amount != row.amount && !order_days.contains(&file_day)).then(|| Flag::AmountDiffers {
        key: refund.refund_no.clone(),
        local: refund.amount,
        external: row.amount,
    })
}

/// The refunds of `payment` sent on `day` that the journal holds as arrived and the channel's
/// complete files of `day` and the next do not show. Files not read in full prove nothing.
fn refunds_missing(payment: &Payment, day: Day, files: &Files) -> Vec<Flag> {
    let Some(source) = payment.channel.map(Source::of) else { return Vec::new() };
    let days = day.booking_days();
    if !days.iter().all(|&d| files.statement_whole(source, d)) {
        return Vec::new();
    }
    payment
        .refunds
        .iter()
        .filter(|r| r.status == RefundStatus::Refunded && r.sent_at.is_some_and(|at| Day::of(at) == day))
        .filter(|r| {
            !files
                .rows_of(source, days, payment.id())
                .any(|row| row.kind == StatementKind::Refund && row.names_refund(&r.refund_no))
        })
        .map(|r| Flag::RefundNotAtChannel {
            order: payment.id().to_string(),
            refund_no: r.refund_no.clone(),
            amount: r.amount,
        })
        .collect()
}

/// A charge whose fee is not what the merchant account's rate makes it.
fn fee_flag(files: &Files, source: Source, order: &str, row: &StatementRow) -> Option<Flag> {
    let (rate, charged) = (files.fee_rates.get(&source)?, row.fee?);
    (row.kind == StatementKind::Payment && !rate.agrees(row.amount, charged)).then(|| Flag::FeeDiffers {
        order: order.to_string(),
        expected: rate.fee_on(row.amount),
        charged,
    })
}

/// The flags of one payment of the day.
fn payment_flags(payment: &Payment, files: &Files) -> Vec<Flag> {
    let id = payment.id().to_string();
    let total = payment.order.total();
    let days = Day::of(payment.order.created_at).booking_days();
    let taken = payment.settlement().taken;
    let in_doubt = matches!(payment.state, State::Suspense { .. });
    let mut flags = Vec::new();
    let mut unverified = false;
    let mut charged = false;
    // What the channel gave back of its own (a reverse, refunds of the whole amount): a charge
    // given back is no money the channel holds.
    let mut reversed_at_channel = false;
    let mut refunded_at_channel = Fen::ZERO;
    if let Some(channel) = payment.channel {
        let source = Source::of(channel);
        // A card sale reversed (冲正) before it settled is in no file of the acquirer's.
        let reversed_unsettled = source == Source::BankCardSettlementFile
            && matches!(payment.state, State::Reversed { refunded: Some(true) });
        if files.reads(source) {
            for row in files.rows_of(source, days, &id) {
                let booked = matches!(row.kind, StatementKind::Payment | StatementKind::Reversed);
                if booked && row.amount != total {
                    flags.push(Flag::AmountDiffers { key: id.clone(), local: total, external: row.amount });
                }
                let refund = payment.refunds.iter().find(|r| row.names_refund(&r.refund_no));
                if let (StatementKind::Refund, Some(refund)) = (row.kind, refund) {
                    if refund.amount != row.amount {
                        flags.push(Flag::AmountDiffers {
                            key: refund.refund_no.clone(),
                            local: refund.amount,
                            external: row.amount,
                        });
                    }
                }
                charged |= row.kind == StatementKind::Payment && row.amount == total;
                reversed_at_channel |= row.kind == StatementKind::Reversed;
                if row.kind == StatementKind::Refund {
                    refunded_at_channel = refunded_at_channel + row.amount;
                }
                if let Some(flag) = fee_flag(files, source, &id, row) {
                    flags.push(flag);
                }
            }
            let whole = days.iter().all(|&day| files.statement_whole(source, day));
            let given_back = reversed_at_channel || refunded_at_channel >= total;
            if charged && taken == Fen::ZERO && !in_doubt && !given_back {
                flags.push(Flag::ChannelOnly {
                    source,
                    order: id.clone(),
                    kind: StatementKind::Payment,
                    amount: total,
                });
            } else if !charged && taken > Fen::ZERO && !in_doubt && !reversed_unsettled {
                // (In doubt, the journal does not hold the money as taken: InSuspense says so,
                // and the files' evidence settles it.)
                if whole {
                    flags.push(Flag::LocalOnly { order: id.clone(), amount: taken });
                } else {
                    unverified = true;
                }
            }
        } else if taken > Fen::ZERO && !in_doubt {
            flags.push(Flag::NotCovered { order: id.clone(), source });
        }
    }
    for (line, progress) in payment.order.lines.iter().zip(&payment.lines) {
        let mut credits = 0;
        for row in files.biller_rows_of(line.utility, days, &line.biller_ref) {
            if row.amount != line.amount {
                flags.push(Flag::AmountDiffers {
                    key: line.biller_ref.clone(),
                    local: line.amount,
                    external: row.amount,
                });
            } else if row.credited {
                credits += 1;
            }
        }
        let credited = credits > 0;
        if credits > 1 {
            flags.push(Flag::WrittenOffTwice {
                reference: line.biller_ref.clone(),
                amount: line.amount,
                times: credits,
            });
        }
        let written_off = matches!(progress, LineState::WrittenOff { .. });
        if credited && !written_off && !in_doubt {
            flags.push(Flag::BillerOnly { reference: line.biller_ref.clone(), amount: line.amount });
        } else if !credited && written_off {
            if days.iter().all(|&day| files.biller_whole(line.utility, day)) {
                flags.push(Flag::NotAtBiller { reference: line.biller_ref.clone(), amount: line.amount });
            } else {
                unverified = true;
            }
        }
    }
    if in_doubt {
        flags.push(Flag::InSuspense { order: id });
    } else if flags.iter().any(Flag::is_exception) {
        // Already reported.
    } else if unverified {
        flags.push(Flag::Unverified { order: id });
    } else if (taken > Fen::ZERO || charged) && !flags.iter().any(|f| matches!(f, Flag::NotCovered { .. })) {
        flags.push(Flag::Matched { order: id });
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bill::JointBill;
    use crate::order::{Order, OrderRef};
    use crate::payment::{RefundItem, RefundStatus, SuspenseReason};
    use crate::utility::AccountNo;
    use crate::{Bill, Event, Policy};

    /// 2026-11-23 12:00 Beijing.
    const NOON: Ts = Ts(1_795_406_400_000);

    fn day() -> Day {
        Day::of(NOON)
    }

    use crate::testing::bill;

    fn order(reference: &str, created_at: Ts, lines: &[(Utility, i64)]) -> Order {
        let bills: Vec<Bill> = lines.iter().map(|&(u, fen)| bill(u, fen)).collect();
        if bills.len() == 1 {
            return Order::for_bill(OrderRef::new(reference).unwrap(), "K1", created_at, &bills[0]).unwrap();
        }
        let joint = JointBill {
            joint_account: AccountNo::from_trusted("9000000001"),
            holder_masked: "王*".into(),
            bills,
        };
        Order::for_joint_bill(OrderRef::new(reference).unwrap(), "K1", created_at, &joint).unwrap()
    }

    fn payment(reference: &str, channel: Channel, created_at: Ts, fen: i64, state: State) -> Payment {
        let mut p = Payment::new(order(reference, created_at, &[(Utility::Water, fen)]));
        p.channel = Some(channel);
        p.state = state;
        p
    }

    fn suspense(reason: SuspenseReason) -> State {
        State::Suspense { reason, next_check_at: None }
    }

    /// A payment the kiosk sent a reverse for, never confirmed: charged or not, only files tell.
    fn reverse_unconfirmed(reference: &str, channel: Channel) -> Payment {
        payment(reference, channel, NOON, 3150, suspense(SuspenseReason::ReverseUnconfirmed))
    }

    /// A paid payment whose write-off went unanswered.
    fn write_off_unconfirmed(reference: &str, channel: Channel, created_at: Ts) -> Payment {
        let mut p =
            payment(reference, channel, created_at, 3150, suspense(SuspenseReason::WriteOffUnconfirmed));
        p.channel_txn = Some("TXN".into());
        p
    }

    fn done(reference: &str, channel: Channel, created_at: Ts, fen: i64) -> Payment {
        let mut p = payment(reference, channel, created_at, fen, State::Done);
        p.channel_txn = Some("TXN".into());
        p.lines = vec![LineState::WrittenOff { biller_txn: "W".into(), card: None }];
        p
    }

    fn charge(order: &str, fen: i64, at: Ts) -> StatementRow {
        StatementRow {
            out_trade_no: order.into(),
            channel_txn: format!("T-{order}"),
            amount: Fen(fen),
            kind: StatementKind::Payment,
            refund_no: None,
            time: at,
            fee: None,
        }
    }

    fn credited(reference: &str, fen: i64) -> BillerRow {
        BillerRow { reference: reference.into(), amount: Fen(fen), credited: true }
    }

    /// Every file of `day` and the next day, whole, with `rows` in `source`'s file of the day.
    fn complete_files(source: Source, rows: Vec<StatementRow>) -> Files {
        let mut files = Files::new();
        for s in [Source::WeChatBill, Source::AlipayBill] {
            let of_day = if s == source { rows.clone() } else { Vec::new() };
            files.add_statement(s, day(), of_day, true);
            files.add_statement(s, day().next(), Vec::new(), true);
        }
        for utility in Utility::ALL {
            files.add_biller_file(utility, day(), Vec::new(), true);
            files.add_biller_file(utility, day().next(), Vec::new(), true);
        }
        files
    }

    /// The water company's whole file of the day crediting `paid`'s one line.
    fn credit_the_line(files: &mut Files, paid: &Payment) {
        files.add_biller_file(
            Utility::Water,
            day(),
            vec![credited(&paid.order.lines[0].biller_ref, 3150)],
            true,
        );
    }

    /// The day's matching of `paid` alone, its line credited in the biller's file.
    fn match_credited(files: &mut Files, paid: &Payment) -> Vec<Flag> {
        credit_the_line(files, paid);
        match_day(day(), std::slice::from_ref(paid), files)
    }

    fn settle(mut p: Payment, files: &Files) -> Payment {
        let evidence = files.evidence_for(&p);
        p.step(Event::Reconciled { evidence }, NOON, &Policy::default());
        p
    }

    #[test]
    fn days_are_beijing_days_and_final_at_ten_the_next_morning() {
        let d = day();
        assert_eq!(Day::of(d.starts_at()), d);
        assert_eq!(Day::of(Ts(d.starts_at().0 - 1)), d.previous());
        assert_eq!(d.final_at().0 - d.starts_at().0, 34 * 3_600_000);
        // At noon of D+2 the files of D and D+1 are final; at 09:59 of D+2, D+1's are not.
        let d2 = d.next().next();
        assert_eq!(Day::latest_complete(Ts(d2.starts_at().0 + 12 * 3_600_000)), d);
        assert_eq!(Day::latest_complete(Ts(d2.starts_at().0 + 10 * 3_600_000 - 1)), d.previous());
    }

    #[test]
    fn each_channel_is_booked_in_its_own_statement_and_only_cash_has_no_file() {
        for channel in [Channel::WeChat, Channel::Alipay, Channel::UnionPay, Channel::BankCard, Channel::Cash]
        {
            let source = Source::of(channel);
            assert_eq!(source.is_read(), channel != Channel::Cash, "{channel}");
        }
        assert_eq!(Source::of(Channel::BankCard), Source::BankCardSettlementFile);
        assert_eq!(Source::of(Channel::UnionPay), Source::UnionPayAcquirerFile);
    }

    #[test]
    fn complete_wechat_files_without_the_charge_settle_an_unconfirmed_reverse_as_not_charged() {
        let p = reverse_unconfirmed("YZ0000000000000001", Channel::WeChat);
        let files = complete_files(Source::WeChatBill, Vec::new());
        let evidence = files.evidence_for(&p);
        assert!(evidence.complete && !evidence.charged);
        assert_eq!(settle(p, &files).state, State::Reversed { refunded: Some(false) });
    }

    #[test]
    fn bank_card_and_unionpay_payments_in_suspense_are_never_settled_not_charged_by_wechat_or_alipay_files() {
        for channel in [Channel::BankCard, Channel::UnionPay] {
            let p = reverse_unconfirmed("YZ0000000000000002", channel);
            // Every WeChat, Alipay and biller file of its days, whole and without the order.
            let files = complete_files(Source::WeChatBill, vec![charge("YZOTHER000000001", 100, NOON)]);
            let evidence = files.evidence_for(&p);
            assert!(!evidence.complete, "{channel}: no file of its own was read");
            assert!(!evidence.charged);
            let after = settle(p.clone(), &files);
            assert_eq!(after.state, p.state, "{channel} stays in suspense");
            let flags = match_day(day(), &[after], &files);
            assert!(flags.contains(&Flag::InSuspense { order: p.id().into() }), "{channel}: {flags:?}");
            // Even its order number in another channel's file is no evidence for it.
            let mut files = complete_files(Source::AlipayBill, vec![charge(p.id(), 3150, NOON)]);
            files.add_statement(Source::WeChatBill, day(), Vec::new(), true);
            let evidence = files.evidence_for(&p);
            assert!(!evidence.charged && !evidence.complete, "{channel}: {evidence:?}");
            assert_eq!(settle(p.clone(), &files).state, p.state);
        }
    }

    #[test]
    fn a_file_not_yet_final_or_not_read_never_proves_not_charged() {
        let p = reverse_unconfirmed("YZ0000000000000003", Channel::Alipay);
        let mut files = complete_files(Source::AlipayBill, Vec::new());
        files.add_statement(Source::AlipayBill, day().next(), Vec::new(), false);
        assert!(!files.evidence_for(&p).complete, "D+1 not final");
        let mut files = complete_files(Source::AlipayBill, Vec::new());
        files.statements.remove(&(Source::AlipayBill, day().next()));
        assert!(!files.evidence_for(&p).complete, "D+1 not read");
        let mut files = complete_files(Source::AlipayBill, Vec::new());
        files.biller.remove(&(Utility::Water, day()));
        assert!(!files.evidence_for(&p).complete, "the line's biller file not read");
        assert_eq!(settle(p.clone(), &files).state, p.state);
    }

    #[test]
    fn a_charge_after_midnight_in_the_next_days_file_is_evidence_and_a_match() {
        let late = Ts(day().next().starts_at().0 - 60_000); // 23:59 on D
        let p = write_off_unconfirmed("YZ0000000000000004", Channel::WeChat, late);
        let mut files = complete_files(Source::WeChatBill, Vec::new());
        let after_midnight = Ts(day().next().starts_at().0 + 120_000);
        files.add_statement(
            Source::WeChatBill,
            day().next(),
            vec![charge(p.id(), 3150, after_midnight)],
            true,
        );
        files.add_biller_file(
            Utility::Water,
            day().next(),
            vec![credited(&p.order.lines[0].biller_ref, 3150)],
            true,
        );
        let evidence = files.evidence_for(&p);
        assert!(evidence.charged && evidence.complete && evidence.written_off == [true]);
        let settled = settle(p.clone(), &files);
        assert_eq!(settled.state, State::Done);
        let flags = match_day(day(), &[settled], &files);
        assert_eq!(flags, [Flag::Matched { order: p.id().into() }]);
    }

    #[test]
    fn next_day_rows_of_next_day_payments_are_not_exceptions_of_the_day() {
        let today = done("YZ0000000000000005", Channel::WeChat, NOON, 3150);
        let tomorrow_noon = Ts(NOON.0 + DAY_MS);
        let tomorrow = done("YZ0000000000000006", Channel::WeChat, tomorrow_noon, 4000);
        let mut files = complete_files(Source::WeChatBill, vec![charge(today.id(), 3150, NOON)]);
        files.add_statement(
            Source::WeChatBill,
            day().next(),
            vec![charge(tomorrow.id(), 4000, tomorrow_noon)],
            true,
        );
        files.add_biller_file(
            Utility::Water,
            day(),
            vec![credited(&today.order.lines[0].biller_ref, 3150)],
            true,
        );
        files.add_biller_file(
            Utility::Water,
            day().next(),
            vec![credited(&tomorrow.order.lines[0].biller_ref, 4000)],
            true,
        );
        let flags = match_day(day(), &[today.clone(), tomorrow], &files);
        assert_eq!(flags, [Flag::Matched { order: today.id().into() }]);
        assert!(!flags.iter().any(Flag::is_exception));
    }

    #[test]
    fn rows_that_match_no_journal_payment_are_exceptions_of_their_own_day_only() {
        let mut files = complete_files(Source::WeChatBill, vec![charge("YZELSEWHERE00001", 999, NOON)]);
        files.add_statement(
            Source::WeChatBill,
            day().next(),
            vec![charge("YZELSEWHERE00002", 500, NOON)],
            true,
        );
        files.add_biller_file(Utility::Gas, day(), vec![credited("YZELSEWHERE00001-1", 999)], true);
        let flags = match_day(day(), &[], &files);
        assert_eq!(
            flags,
            [
                Flag::ChannelOnly {
                    source: Source::WeChatBill,
                    order: "YZELSEWHERE00001".into(),
                    kind: StatementKind::Payment,
                    amount: Fen(999)
                },
                Flag::BillerOnly { reference: "YZELSEWHERE00001-1".into(), amount: Fen(999) },
            ]
        );
        // A refund on D of a payment of an earlier day belongs to that payment.
        let mut old = done("YZ0000000000000007", Channel::WeChat, Ts(NOON.0 - 5 * DAY_MS), 3150);
        old.refunds = vec![RefundItem {
            refund_no: old.order.reference.whole_refund_no(),
            sent_at: Some(NOON),
            amount: Fen(3150),
            lines: vec![],
            attempts: 1,
            status: RefundStatus::Refunded,
        }];
        let refund = StatementRow {
            kind: StatementKind::Refund,
            refund_no: Some(old.order.reference.whole_refund_no()),
            ..charge(old.id(), 3150, NOON)
        };
        let files = complete_files(Source::WeChatBill, vec![refund]);
        assert_eq!(match_day(day(), &[old], &files), []);
    }

    #[test]
    fn a_row_with_another_amount_is_a_mismatch_never_charged_evidence() {
        let p = reverse_unconfirmed("YZ0000000000000008", Channel::WeChat);
        let files = complete_files(Source::WeChatBill, vec![charge(p.id(), 3000, NOON)]);
        let evidence = files.evidence_for(&p);
        assert!(!evidence.charged, "not our charge");
        assert!(!evidence.complete, "and no proof of 'not charged' either");
        let after = settle(p.clone(), &files);
        assert_eq!(after.state, p.state, "no R7 refund, no 'not charged'");
        let flags = match_day(day(), &[after], &files);
        assert!(
            flags.contains(&Flag::AmountDiffers {
                key: p.id().into(),
                local: Fen(3150),
                external: Fen(3000)
            }),
            "{flags:?}"
        );
        assert!(flags.contains(&Flag::InSuspense { order: p.id().into() }), "{flags:?}");
        // A finished payment reported with another amount is flagged, not matched.
        let paid = done("YZ0000000000000009", Channel::WeChat, NOON, 3150);
        let mut files = complete_files(Source::WeChatBill, vec![charge(paid.id(), 3000, NOON)]);
        let flags = match_credited(&mut files, &paid);
        assert_eq!(
            flags,
            [
                Flag::AmountDiffers { key: paid.id().into(), local: Fen(3150), external: Fen(3000) },
                Flag::LocalOnly { order: paid.id().into(), amount: Fen(3150) },
            ]
        );
    }

    #[test]
    fn a_charge_for_an_order_the_journal_never_took_is_channel_only_and_money_it_holds_unbooked_is_local_only(
    ) {
        let mut failed = payment(
            "YZ0000000000000010",
            Channel::Alipay,
            NOON,
            3150,
            State::Reversed { refunded: Some(false) },
        );
        failed.lines = vec![LineState::NotStarted];
        let taken = done("YZ0000000000000011", Channel::Alipay, NOON, 2000);
        let mut files = complete_files(Source::AlipayBill, vec![charge(failed.id(), 3150, NOON)]);
        files.add_biller_file(
            Utility::Water,
            day(),
            vec![credited(&taken.order.lines[0].biller_ref, 2000)],
            true,
        );
        let flags = match_day(day(), &[failed.clone(), taken.clone()], &files);
        assert_eq!(
            flags,
            [
                Flag::ChannelOnly {
                    source: Source::AlipayBill,
                    order: failed.id().into(),
                    kind: StatementKind::Payment,
                    amount: Fen(3150)
                },
                Flag::LocalOnly { order: taken.id().into(), amount: Fen(2000) },
            ]
        );
    }

    #[test]
    fn money_not_yet_in_a_final_file_is_unverified_not_local_only() {
        let paid = done("YZ0000000000000012", Channel::WeChat, NOON, 3150);
        let mut files = complete_files(Source::WeChatBill, Vec::new());
        files.add_statement(Source::WeChatBill, day().next(), Vec::new(), false);
        assert_eq!(match_credited(&mut files, &paid), [Flag::Unverified { order: paid.id().into() }]);
    }

    #[test]
    fn cash_payments_are_reported_not_covered_and_never_matched() {
        let paid = done("YZ0000000000000013", Channel::Cash, NOON, 3150);
        let mut files = complete_files(Source::WeChatBill, Vec::new());
        let flags = match_credited(&mut files, &paid);
        assert_eq!(flags, [Flag::NotCovered { order: paid.id().into(), source: Source::CashCollection }]);
        assert!(!flags.iter().any(Flag::is_exception));
    }

    #[test]
    fn a_charge_finance_found_of_an_order_never_taken_goes_back_whole_once() {
        let found = |source: &str, fen: i64| Event::ChargedPerStatement {
            staff_id: "hub:fin".into(),
            source: source.into(),
            amount: Fen(fen),
            files: vec!["ab".repeat(32)],
        };
        let policy = Policy::default();
        let failed = State::PayFailed {
            kind: crate::FailKind::Customer,
            code: "NOTENOUGH".into(),
            message: String::new(),
        };
        for state in [failed, State::Reversed { refunded: Some(false) }] {
            let mut p = payment("YZ0000000000000031", Channel::WeChat, NOON, 3150, state.clone());
            // Another channel's statement, or another amount: not this order's charge.
            assert!(!p.step(found("alipay", 3150), NOON, &policy).changed, "{state:?}");
            assert!(!p.step(found("wechat", 3100), NOON, &policy).changed, "{state:?}");
            assert!(p.step(found("wechat", 3150), NOON, &policy).changed, "{state:?}");
            assert_eq!(p.state, State::Refunding);
            assert_eq!(p.refunds.len(), 1);
            assert_eq!(
                (p.refunds[0].amount, p.refunds[0].refund_no.clone()),
                (Fen(3150), p.order.reference.whole_refund_no())
            );
            // Once is enough: refunding already, a second finding changes nothing.
            assert!(!p.step(found("wechat", 3150), NOON, &policy).changed);
        }
        // A reverse whose payment is unknown (whatever was taken is back), what the kiosk knows
        // it took, a payment in suspense, cash: never.
        let closed =
            payment("YZ0000000000000035", Channel::WeChat, NOON, 3150, State::Reversed { refunded: None });
        let paid = done("YZ0000000000000032", Channel::WeChat, NOON, 3150);
        let doubt = reverse_unconfirmed("YZ0000000000000033", Channel::WeChat);
        for mut p in [closed, paid, doubt] {
            assert!(!p.step(found("wechat", 3150), NOON, &policy).changed, "{:?}", p.state);
        }
        let mut cash = payment(
            "YZ0000000000000034",
            Channel::Cash,
            NOON,
            3150,
            State::Reversed { refunded: Some(false) },
        );
        assert!(!cash.step(found("cash-collection", 3150), NOON, &policy).changed);
        let summary = found("wechat", 3150).summary();
        assert!(
            summary.starts_with("charged_per_statement by hub:fin: ¥31.50 in the wechat statement"),
            "{summary}"
        );
        assert!(summary.contains("files sha256 abab"), "{summary}");
    }

    #[test]
    fn the_files_name_the_orders_of_their_write_offs_too() {
        let mut files = Files::new();
        files.add_statement(Source::WeChatBill, day(), vec![charge("YZ0000000000000041", 100, NOON)], true);
        files.add_biller_file(Utility::Water, day(), vec![credited("YZ0000000000000042-1", 100)], true);
        let mut named: Vec<&str> = files.order_numbers().collect();
        named.sort();
        assert_eq!(named, ["YZ0000000000000041", "YZ0000000000000042"]);
    }

    #[test]
    fn a_charge_the_channel_gave_back_itself_is_no_money_it_holds() {
        let closed =
            payment("YZ0000000000000036", Channel::UnionPay, NOON, 3150, State::Reversed { refunded: None });
        let reverse = StatementRow { kind: StatementKind::Reversed, ..charge(closed.id(), 3150, NOON) };
        let mut files = complete_files(Source::WeChatBill, Vec::new());
        for (day, rows) in
            [(day(), vec![charge(closed.id(), 3150, NOON), reverse]), (day().next(), Vec::new())]
        {
            files.add_statement(Source::UnionPayAcquirerFile, day, rows, true);
        }
        let flags = match_day(day(), std::slice::from_ref(&closed), &files);
        assert!(!flags.iter().any(|f| matches!(f, Flag::ChannelOnly { .. })), "{flags:?}");
    }

    #[test]
    fn a_cash_count_that_differs_from_the_journal_is_an_exception_naming_the_doubtful_notes() {
        assert_eq!(cash_count_flag("K/cash/1", Fen(15_000), Fen(15_000), 0), None);
        let flag = cash_count_flag("K/cash/2", Fen(15_000), Fen(14_000), 1).unwrap();
        assert!(flag.is_exception());
        assert_eq!(flag.subject(), "K/cash/2");
        assert!(flag.describe().starts_with("CASH_DIFFERS   K/cash/2 journaled"), "{}", flag.describe());
        assert!(flag.describe().contains("(1 notes"), "{}", flag.describe());
    }

    /// [`complete_files`] with the card acquirer's files of the day (`rows`) and the next, whole.
    fn with_card_files(mut files: Files, rows: Vec<StatementRow>) -> Files {
        files.add_statement(Source::BankCardSettlementFile, day(), rows, true);
        files.add_statement(Source::BankCardSettlementFile, day().next(), Vec::new(), true);
        files
    }

    #[test]
    fn a_card_sale_in_doubt_settles_from_the_card_file_either_way() {
        let charged = reverse_unconfirmed("YZ0000000000000021", Channel::BankCard);
        let never = reverse_unconfirmed("YZ0000000000000022", Channel::BankCard);
        let files = with_card_files(
            complete_files(Source::WeChatBill, Vec::new()),
            vec![charge(charged.id(), 3150, NOON)],
        );
        let evidence = files.evidence_for(&charged);
        assert!(evidence.complete && evidence.charged, "{evidence:?}");
        let evidence = files.evidence_for(&never);
        assert!(evidence.complete && !evidence.charged, "{evidence:?}");
        assert_eq!(settle(never, &files).state, State::Reversed { refunded: Some(false) });
        // A card sale the kiosk finished is matched against the same file.
        let paid = done("YZ0000000000000023", Channel::BankCard, NOON, 3150);
        let mut files = with_card_files(
            complete_files(Source::WeChatBill, Vec::new()),
            vec![charge(paid.id(), 3150, NOON)],
        );
        assert_eq!(match_credited(&mut files, &paid), [Flag::Matched { order: paid.id().into() }]);
    }

    #[test]
    fn a_card_sale_reversed_before_it_settled_is_in_no_file_and_matched() {
        let mut reversed = payment(
            "YZ0000000000000024",
            Channel::BankCard,
            NOON,
            3150,
            State::Reversed { refunded: Some(true) },
        );
        reversed.channel_txn = None;
        let files = with_card_files(complete_files(Source::WeChatBill, Vec::new()), Vec::new());
        assert_eq!(
            match_day(day(), std::slice::from_ref(&reversed), &files),
            [Flag::Matched { order: reversed.id().into() }]
        );
        // A WeChat order reversed after paying is in its bill (the charge and the reverse): one
        // missing from a whole bill is still local only.
        let wechat = payment(
            "YZ0000000000000025",
            Channel::WeChat,
            NOON,
            3150,
            State::Reversed { refunded: Some(true) },
        );
        let flags =
            match_day(day(), std::slice::from_ref(&wechat), &complete_files(Source::WeChatBill, Vec::new()));
        assert_eq!(flags, [Flag::LocalOnly { order: wechat.id().into(), amount: Fen(3150) }]);
    }

    #[test]
    fn card_payments_are_not_covered_without_a_card_account_and_unverified_when_its_file_failed() {
        let paid = done("YZ0000000000000026", Channel::BankCard, NOON, 3150);
        let mut files = complete_files(Source::WeChatBill, Vec::new());
        assert_eq!(
            match_credited(&mut files, &paid),
            [Flag::NotCovered { order: paid.id().into(), source: Source::BankCardSettlementFile }]
        );
        files.expect_statement(Source::BankCardSettlementFile);
        assert_eq!(
            match_day(day(), std::slice::from_ref(&paid), &files),
            [Flag::Unverified { order: paid.id().into() }]
        );
    }

    /// A paid payment with one line refused and refunded (sent at `sent_at`, arrived).
    fn partly_refunded(reference: &str, sent_at: Ts) -> Payment {
        let mut p = done(reference, Channel::WeChat, NOON, 3150);
        let refund_no = p.order.reference.line_refund_no(0);
        p.refunds = vec![RefundItem {
            refund_no,
            sent_at: Some(sent_at),
            amount: Fen(3150),
            lines: vec![0],
            attempts: 1,
            status: RefundStatus::Refunded,
        }];
        p
    }

    fn refund_row(p: &Payment, refund_no: &str, fen: i64, at: Ts) -> StatementRow {
        StatementRow {
            kind: StatementKind::Refund,
            refund_no: Some(refund_no.into()),
            ..charge(p.id(), fen, at)
        }
    }

    #[test]
    fn a_refund_the_journal_does_not_hold_and_one_the_channel_does_not_show_are_both_found() {
        let p = done("YZ0000000000000031", Channel::WeChat, NOON, 3150);
        // The channel booked a refund of this order that the kiosk never sent.
        let extra = refund_row(&p, "YZ0000000000000031R9", 500, NOON);
        let mut files = complete_files(Source::WeChatBill, vec![charge(p.id(), 3150, NOON), extra]);
        let written_off = credited(&p.order.lines[0].biller_ref, 3150);
        files.add_biller_file(Utility::Water, day(), vec![written_off], true);
        let flags = match_day(day(), std::slice::from_ref(&p), &files);
        let expected = Flag::RefundChannelOnly {
            order: p.id().into(),
            refund_no: "YZ0000000000000031R9".into(),
            amount: Fen(500),
        };
        assert!(flags.contains(&expected), "{flags:?}");
        assert!(flags.iter().filter(|f| f.is_exception()).count() == 1, "{flags:?}");

        // The journal says a refund arrived; the complete files of its days hold no such row.
        let p = partly_refunded("YZ0000000000000032", NOON);
        let refund_no = p.refunds[0].refund_no.clone();
        let files = complete_files(Source::WeChatBill, vec![charge(p.id(), 3150, NOON)]);
        let flags = match_day(day(), std::slice::from_ref(&p), &files);
        let expected = Flag::RefundNotAtChannel {
            order: p.id().into(),
            refund_no: refund_no.clone(),
            amount: Fen(3150),
        };
        assert!(flags.contains(&expected), "{flags:?}");
        // With the row there, nothing is said of the refund; with the next day's file not read
        // in full, its absence proves nothing.
        let files = complete_files(
            Source::WeChatBill,
            vec![charge(p.id(), 3150, NOON), refund_row(&p, &refund_no, 3150, NOON)],
        );
        assert!(!match_day(day(), std::slice::from_ref(&p), &files)
            .iter()
            .any(|f| matches!(f, Flag::RefundNotAtChannel { .. })));
        let mut partial = complete_files(Source::WeChatBill, vec![charge(p.id(), 3150, NOON)]);
        partial.add_statement(Source::WeChatBill, day().next(), Vec::new(), false);
        assert!(!match_day(day(), std::slice::from_ref(&p), &partial)
            .iter()
            .any(|f| matches!(f, Flag::RefundNotAtChannel { .. })));
    }

    #[test]
    fn a_refund_booked_days_after_its_order_is_checked_by_the_run_of_its_own_day() {
        // The order on day D; its refund sent and booked three days later.
        let later = Ts(NOON.0 + 3 * DAY_MS);
        let p = partly_refunded("YZ0000000000000033", later);
        let refund_no = p.refunds[0].refund_no.clone();
        let later_day = Day::of(later);
        let files_of = |rows: Vec<StatementRow>| {
            let mut files = Files::new();
            files.add_statement(Source::WeChatBill, later_day, rows, true);
            files.add_statement(Source::WeChatBill, later_day.next(), Vec::new(), true);
            files
        };
        // Booked with another amount: found on that day, though the order's own days are past.
        let files = files_of(vec![refund_row(&p, &refund_no, 3000, later)]);
        let flags = match_day(later_day, std::slice::from_ref(&p), &files);
        assert_eq!(
            flags,
            [Flag::AmountDiffers { key: refund_no.clone(), local: Fen(3150), external: Fen(3000) }]
        );
        // Not booked at all.
        let flags = match_day(later_day, std::slice::from_ref(&p), &files_of(Vec::new()));
        assert_eq!(flags, [Flag::RefundNotAtChannel { order: p.id().into(), refund_no, amount: Fen(3150) }]);
        assert!(flags[0].describe().starts_with("REFUND_LOCAL"));
    }

    #[test]
    fn a_journal_that_reaches_the_hub_late_is_matched_from_the_scratch_pool_not_reported() {
        use crate::scratch_pool::ScratchPool;
        let p = done("YZ0000000000000041", Channel::WeChat, NOON, 3150);
        let mut files = complete_files(Source::WeChatBill, vec![charge(p.id(), 3150, NOON)]);
        files.add_biller_file(
            Utility::Water,
            day(),
            vec![credited(&p.order.lines[0].biller_ref, 3150)],
            true,
        );
        let mut pool = ScratchPool::default();
        // Day D's run: the kiosk's journal is not in yet; the charge and the write-off wait.
        let reported = pool.run(day(), match_day(day(), &[], &files), |_| vec![]);
        assert!(reported.is_empty() && pool.held.len() == 2, "{:?}", pool.held);
        // The next run: the journal has arrived; day D matched afresh has nothing left.
        let journal = [p.clone()];
        let reported = pool.run(day().next(), vec![], |d| match_day(d, &journal, &files));
        assert!(reported.is_empty() && pool.held.is_empty(), "{reported:?}");
        // Had it never come, both would be reported on D+2, first seen on D.
        let mut pool = ScratchPool::default();
        pool.run(day(), match_day(day(), &[], &files), |_| vec![]);
        pool.run(day().next(), vec![], |d| match_day(d, &[], &files));
        let reported = pool.run(day().next().next(), vec![], |d| match_day(d, &[], &files));
        assert_eq!(reported.len(), 2);
        assert!(reported.iter().all(|r| r.first_seen == day() && r.flag.is_exception()));
    }

    /// A paid payment whose line the biller refused, in suspense: its refund `refund_no` was
    /// sent and never confirmed.
    fn refund_unconfirmed(reference: &str, channel: Channel, refund_no: &str) -> Payment {
        let mut p = payment(reference, channel, NOON, 3150, suspense(SuspenseReason::RefundUnconfirmed));
        p.channel_txn = Some("TXN".into());
        p.refunds = vec![RefundItem {
            refund_no: refund_no.to_string(),
            sent_at: Some(NOON),
            amount: Fen(3150),
            lines: vec![0],
            attempts: 3,
            status: RefundStatus::Unconfirmed,
        }];
        p.lines = vec![LineState::Rejected { code: "ACCOUNT_CLOSED".into(), message: String::new() }];
        p
    }

    #[test]
    fn refunds_and_write_offs_in_the_files_settle_a_payment_in_suspense() {
        let refund_no = OrderRef::new("YZ0000000000000014").unwrap().line_refund_no(0);
        let p = refund_unconfirmed("YZ0000000000000014", Channel::WeChat, &refund_no);
        let refund = StatementRow {
            kind: StatementKind::Refund,
            refund_no: Some(refund_no.clone()),
            ..charge(p.id(), 3150, NOON)
        };
        let files = complete_files(Source::WeChatBill, vec![charge(p.id(), 3150, NOON), refund.clone()]);
        assert_eq!(files.evidence_for(&p).refunds, [refund_no]);
        assert_eq!(settle(p.clone(), &files).state, State::Refunded);
        // The same refund number with another amount is not ours to take.
        let wrong = StatementRow { amount: Fen(100), ..refund };
        let files = complete_files(Source::WeChatBill, vec![charge(p.id(), 3150, NOON), wrong]);
        assert!(!files.evidence_for(&p).charged);
        let after = settle(p.clone(), &files);
        assert_eq!(after.state, p.state);
        let flags = match_day(day(), &[after], &files);
        assert!(
            flags.contains(&Flag::AmountDiffers {
                key: p.order.reference.line_refund_no(0),
                local: Fen(3150),
                external: Fen(100)
            }),
            "{flags:?}"
        );
    }

    #[test]
    fn each_source_holds_the_payments_of_its_one_channel_and_four_are_read() {
        for channel in [Channel::WeChat, Channel::Alipay, Channel::UnionPay, Channel::BankCard] {
            assert_eq!(Source::of(channel).channel(), channel);
        }
        let read: Vec<Source> = Source::ALL.into_iter().filter(|s| s.is_read()).collect();
        assert_eq!(
            read,
            [
                Source::WeChatBill,
                Source::AlipayBill,
                Source::UnionPayAcquirerFile,
                Source::BankCardSettlementFile
            ]
        );
    }

    /// [`complete_files`] with `source`'s own files of the day and the next too.
    fn complete_with(source: Source, rows: Vec<StatementRow>) -> Files {
        let mut files = complete_files(source, rows.clone());
        files.add_statement(source, day(), rows, true);
        files.add_statement(source, day().next(), Vec::new(), true);
        files
    }

    #[test]
    fn a_fee_off_by_a_fen_is_found_and_rounding_is_not() {
        let p = done("YZ0000000000000041", Channel::UnionPay, NOON, 3150);
        let files_with = |fee: i64, rate: Option<u32>| {
            let row = StatementRow { fee: Some(MilliFen(fee)), ..charge(p.id(), 3150, NOON) };
            let mut files = complete_with(Source::UnionPayAcquirerFile, vec![row]);
            let written_off = vec![credited(&p.order.lines[0].biller_ref, 3150)];
            files.add_biller_file(Utility::Water, day(), written_off, true);
            if let Some(ppm) = rate {
                files.set_fee_rate(Source::UnionPayAcquirerFile, FeeRate { ppm });
            }
            files
        };
        let matched = [Flag::Matched { order: p.id().into() }];
        // 0.60% of ¥31.50 is 18.9 fen: the acquirer rounds it to 19.
        assert_eq!(match_day(day(), std::slice::from_ref(&p), &files_with(19_000, Some(6_000))), matched);
        let flags = match_day(day(), std::slice::from_ref(&p), &files_with(20_000, Some(6_000)));
        assert_eq!(
            flags,
            [Flag::FeeDiffers {
                order: p.id().into(),
                expected: MilliFen(18_900),
                charged: MilliFen(20_000)
            }]
        );
        assert!(flags[0].is_exception() && !crate::scratch_pool::holds_back(&flags[0]));
        // Without the account's rate, fees are not judged.
        assert_eq!(match_day(day(), std::slice::from_ref(&p), &files_with(99_000, None)), matched);
    }

    #[test]
    fn a_write_off_the_biller_credits_twice_is_found() {
        let p = done("YZ0000000000000044", Channel::WeChat, NOON, 3150);
        let mut files = complete_files(Source::WeChatBill, vec![charge(p.id(), 3150, NOON)]);
        let reference = p.order.lines[0].biller_ref.clone();
        files.add_biller_file(
            Utility::Water,
            day(),
            vec![credited(&reference, 3150), credited(&reference, 3150)],
            true,
        );
        let flags = match_day(day(), std::slice::from_ref(&p), &files);
        assert_eq!(flags, [Flag::WrittenOffTwice { reference, amount: Fen(3150), times: 2 }]);
        assert!(flags[0].is_exception() && !crate::scratch_pool::holds_back(&flags[0]));
    }

    #[test]
    fn unionpay_suspense_settles_from_the_acquirer_file_which_names_refunds_by_their_acp_id() {
        let p = reverse_unconfirmed("YZ0000000000000042", Channel::UnionPay);
        let empty = complete_with(Source::UnionPayAcquirerFile, Vec::new());
        assert!(empty.evidence_for(&p).complete);
        assert_eq!(settle(p.clone(), &empty).state, State::Reversed { refunded: Some(false) });

        // Longer than ACP's 32 characters: sent (and booked) under its hashed id.
        let refund_no = "YZ0000000000000043-R1-TOO-LONG-FOR-ACP".to_string();
        let refunded = refund_unconfirmed("YZ0000000000000043", Channel::UnionPay, &refund_no);
        let acp_id = crate::channel::acp_order_id(&refund_no);
        assert_eq!(acp_id.len(), 32);
        let row = StatementRow {
            kind: StatementKind::Refund,
            refund_no: Some(acp_id),
            ..charge(refunded.id(), 3150, NOON)
        };
        let files = complete_with(Source::UnionPayAcquirerFile, vec![charge(refunded.id(), 3150, NOON), row]);
        assert_eq!(files.evidence_for(&refunded).refunds, [refund_no], "named as the journal names it");
        assert_eq!(settle(refunded, &files).state, State::Refunded);
    }

    #[test]
    fn days_are_beijing_dates_counted_from_1970() {
        let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert_eq!(Day::from_date(date), Day(20780));
        assert_eq!(Day(20780).date(), date);
        assert_eq!(Day::from_date(chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()), Day(0));
    }

    #[test]
    fn the_files_are_named_in_the_event_and_many_by_one_digest() {
        let hash = |n: u8| format!("{n:02x}").repeat(32);
        let few = StatementEvidence { files: (1..=8).map(hash).collect(), ..Default::default() };
        let event = Event::Reconciled { evidence: few }.summary();
        assert!(event.ends_with(&format!(
            "files sha256 {} {}",
            hash(1),
            [2, 3, 4, 5, 6, 7, 8].map(hash).join(" ")
        )));
        let many = StatementEvidence { files: (1..=20).rev().map(hash).collect(), ..Default::default() };
        let event = Event::Reconciled { evidence: many }.summary();
        // Within a journal line, and the same whatever order the files came in.
        assert!(event.len() < 300, "{event}");
        let sorted = StatementEvidence { files: (1..=20).map(hash).collect(), ..Default::default() };
        assert_eq!(event, Event::Reconciled { evidence: sorted }.summary());
        assert!(event.contains("20 files, sha256 of their sorted sha256 lines "));
    }

    #[test]
    fn unsettled_evidence_says_why() {
        let charged = StatementEvidence { charged: true, complete: true, ..Default::default() };
        assert!(charged.why_unsettled().contains("where all the money went"));
        let complete = StatementEvidence { complete: true, ..Default::default() };
        assert!(complete.why_unsettled().contains("kiosk saw money move"));
        assert!(StatementEvidence::default().why_unsettled().contains("not every file"));
    }

    #[test]
    fn only_prints_can_be_left_to_anyone_but_the_kiosk() {
        use crate::payment::Effect;
        assert!(!Effect::PrintReceipt.needs_the_kiosk() && !Effect::PrintSlip.needs_the_kiosk());
        for effect in
            [Effect::Pay, Effect::Query, Effect::Reverse, Effect::Refund { item: 0 }, Effect::Proceed]
        {
            assert!(effect.needs_the_kiosk(), "{effect:?}");
        }
    }
}

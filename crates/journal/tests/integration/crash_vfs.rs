//! Power cuts below SQLite: the journal runs on the `crashsim` VFS (`tests/crashsim`), which keeps
//! each file's writes in a simulated page cache until that file is fsync'd and throws away
//! everything unsynced at a simulated power cut. Unlike the SIGKILL test (`crash_injection.rs`),
//! this sees a missing or misplaced fsync.
//!
//! - `acknowledged_commits_survive_power_cuts`: seeded rounds of writes cut off at random points
//!   (between calls, in the middle of a commit at a chosen VFS operation, or from another thread
//!   at a random moment; half of them with torn writes); after each cut the journal is reopened
//!   normally and must hold every write that returned `Ok`, all or nothing of the one that was
//!   cut, an intact chain and consistent rows, and must take new writes.
//! - `a_dropped_fsync_loses_acknowledged_commits`: the same checks must fail when the disk lies
//!   about fsync, so the first test is not vacuous.
//! - `vfs_keeps_writes_until_sync`: the simulated page cache itself.
//!
//! Replay a failure with `CRASHSIM_SEED=<seed> cargo test -p journal --test integration crash_vfs`;
//! the long run is `cargo test -p journal --test integration -- --ignored crash_vfs`
//! (`CRASHSIM_ROUNDS`, default 400).
#![cfg(unix)]

use crate::crashsim;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use crashsim::{CrashVfs, Landing, Rng};
use journal::{
    DerivedRow, Durability, Journal, JournalError, NewKey, NewPayment, RowCheck, TransitionRecord,
};

/// 2024-05-01T08:00:00Z in ms.
const T0: i64 = 1_714_550_400_000;
const KIOSK: &str = "SH-0001";
/// The life of a payment in this workload; the last state is terminal.
const LIFE: [&str; 6] = ["ORDERED", "PAY_SENT", "PAY_PENDING", "PAID", "WRITEOFF_SENT", "WRITTEN_OFF"];
const DEFAULT_SEED: u64 = 0x5EED_2024_0501;
/// Power-cut rounds on one journal before the next starts afresh.
const ROUNDS_PER_JOURNAL: u64 = 50;

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    let value = value.trim();
    match value.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => value.parse().ok(),
    }
}

// ---- The workload and what the journal must hold -------------------------------------------

/// One journal write.
#[derive(Clone, Debug)]
enum Op {
    Create {
        id: String,
        total_fen: i64,
        at: i64,
    },
    Move {
        id: String,
        from: String,
        to: String,
        at: i64,
        total_fen: i64,
        created_at: i64,
        key: Option<String>,
    },
}

#[derive(Clone, Debug)]
struct PaymentModel {
    total_fen: i64,
    created_at: i64,
    /// (seq, state) of every transition, the creation first.
    history: Vec<(i64, String)>,
    keys: Vec<String>,
}

impl PaymentModel {
    fn state(&self) -> &str {
        &self.history.last().expect("created").1
    }
}

/// What the journal must hold: every acknowledged write.
#[derive(Clone, Debug, Default)]
struct Model {
    payments: BTreeMap<String, PaymentModel>,
    last_seq: i64,
    next_id: u64,
    clock: i64,
}

fn is_terminal(state: &str) -> bool {
    state == LIFE[LIFE.len() - 1]
}

impl Model {
    /// The next write: a new payment, or the next step of an unfinished one.
    fn next_op(&mut self, rng: &mut Rng) -> Op {
        self.clock += 1_000;
        let at = T0 + self.clock;
        let open: Vec<(&String, &PaymentModel)> =
            self.payments.iter().filter(|(_, p)| !is_terminal(p.state())).collect();
        if open.is_empty() || rng.chance(1, 4) {
            self.next_id += 1;
            let total_fen = 100 + rng.below(100_000) as i64;
            return Op::Create { id: format!("P{:05}", self.next_id), total_fen, at };
        }
        let (id, p) = open[rng.below(open.len() as u64) as usize];
        let step = LIFE.iter().position(|s| *s == p.state()).expect("known state") + 1;
        let to = LIFE[step];
        Op::Move {
            id: id.clone(),
            from: p.state().to_owned(),
            to: to.to_owned(),
            at,
            total_fen: p.total_fen,
            created_at: p.created_at,
            key: (to == "WRITEOFF_SENT").then(|| format!("{id}-writeoff")),
        }
    }

    fn apply(&mut self, op: &Op, seq: i64) {
        match op {
            Op::Create { id, total_fen, at } => {
                let p = PaymentModel {
                    total_fen: *total_fen,
                    created_at: *at,
                    history: vec![(seq, LIFE[0].to_owned())],
                    keys: vec![format!("{id}-pay")],
                };
                self.payments.insert(id.clone(), p);
            }
            Op::Move { id, to, key, .. } => {
                let p = self.payments.get_mut(id).expect("moved payment exists");
                p.history.push((seq, to.clone()));
                p.keys.extend(key.iter().cloned());
            }
        }
        self.last_seq = seq;
    }
}

fn snapshot(total_fen: i64, created_at: i64, state: &str) -> String {
    serde_json::json!({ "kiosk_id": KIOSK, "created_at": created_at, "total_fen": total_fen, "state": state })
        .to_string()
}

async fn run(j: &Journal, op: &Op) -> Result<i64, JournalError> {
    let seq = match op {
        Op::Create { id, total_fen, at } => {
            j.create_payment(&NewPayment {
                id: id.clone(),
                kiosk_id: KIOSK.to_owned(),
                created_at: *at,
                total_fen: *total_fen,
                channel: None,
                state: LIFE[0].to_owned(),
                terminal: false,
                parked: false,
                next_deadline: Some(at + 60_000),
                snapshot: snapshot(*total_fen, *at, LIFE[0]),
                event: "confirm".to_owned(),
                effects: "none".to_owned(),
                keys: vec![NewKey::new(format!("{id}-pay"), "pay")],
            })
            .await?
        }
        Op::Move { id, from, to, at, total_fen, created_at, key } => {
            let terminal = is_terminal(to);
            j.record_transition(&TransitionRecord {
                expected_from: Some(from.clone()),
                expected_seq: None,
                payment_id: id.clone(),
                at: *at,
                to_state: to.clone(),
                terminal,
                parked: false,
                next_deadline: (!terminal).then_some(at + 60_000),
                channel: None,
                snapshot: snapshot(*total_fen, *created_at, to),
                event: format!("-> {to}"),
                effects: String::new(),
                keys: key.iter().map(|k| NewKey::new(k.clone(), "writeoff")).collect(),
            })
            .await?
        }
    };
    Ok(seq.0)
}

fn flags_of(state: &str) -> Option<(bool, bool)> {
    LIFE.contains(&state).then(|| (is_terminal(state), false))
}

fn derive(snapshot: &str) -> Result<DerivedRow, String> {
    let v: serde_json::Value = serde_json::from_str(snapshot).map_err(|e| e.to_string())?;
    let field = |name: &str| v.get(name).ok_or_else(|| format!("no {name} in snapshot"));
    Ok(DerivedRow {
        kiosk_id: field("kiosk_id")?.as_str().unwrap_or_default().to_owned(),
        created_at: field("created_at")?.as_i64().unwrap_or_default(),
        total_fen: field("total_fen")?.as_i64().unwrap_or_default(),
        channel: None,
        state: field("state")?.as_str().unwrap_or_default().to_owned(),
    })
}

/// Checks the journal against `model` (every acknowledged write) and `pending` (the write that
/// was cut off, which may be there entirely or not at all). Returns the violations found and
/// whether `pending` is there.
async fn check(j: &Journal, model: &Model, pending: Option<&Op>) -> (Vec<String>, bool) {
    let mut v = Vec::new();
    let head = match j.chain_head().await {
        Ok(head) => head,
        Err(e) => return (vec![format!("cannot read the chain head: {e}")], false),
    };
    let landed = pending.is_some() && head.seq == model.last_seq + 1;
    let mut expected = model.clone();
    if let (true, Some(op)) = (landed, pending) {
        expected.apply(op, head.seq);
    }
    if head.seq < model.last_seq {
        v.push(format!(
            "acknowledged commits lost: the chain ends at seq {}, but seq {} was acknowledged",
            head.seq, model.last_seq
        ));
    } else if head.seq != expected.last_seq {
        v.push(format!("the chain ends at seq {}, but only {} were written", head.seq, expected.last_seq));
    }
    match j.verify_chain().await {
        Ok(report) if !report.is_intact() => v.push(format!("chain broken: {:?}", report.breaks)),
        Ok(report) if report.rows as i64 != head.seq => {
            v.push(format!("{} chained rows but the head is seq {}", report.rows, head.seq))
        }
        Ok(_) => {}
        Err(e) => v.push(format!("verify_chain failed: {e}")),
    }
    for (id, p) in &expected.payments {
        let (last_seq, state) = p.history.last().expect("created");
        match j.get(id).await {
            Ok(Some(row)) => {
                let got = (row.state.as_str(), row.last_seq, row.terminal, row.total_fen, row.created_at);
                let want = (state.as_str(), *last_seq, is_terminal(state), p.total_fen, p.created_at);
                if got != want {
                    v.push(format!("payment {id}: row (state, last_seq, terminal, total, created) {got:?}, expected {want:?}"));
                }
            }
            Ok(None) => v.push(format!("acknowledged payment {id} (seq {}) lost", p.history[0].0)),
            Err(e) => v.push(format!("payment {id}: {e}")),
        }
        match j.transitions(id).await {
            Ok(rows) => {
                let got: Vec<(i64, &str)> = rows.iter().map(|t| (t.seq, t.to_state.as_str())).collect();
                let want: Vec<(i64, &str)> = p.history.iter().map(|(s, st)| (*s, st.as_str())).collect();
                if got != want {
                    v.push(format!("payment {id}: transitions {got:?}, expected {want:?}"));
                }
                let mut prev = "";
                for t in &rows {
                    if t.from_state != prev {
                        v.push(format!(
                            "payment {id}: seq {} from {:?}, but the state was {prev:?}",
                            t.seq, t.from_state
                        ));
                    }
                    prev = &t.to_state;
                }
            }
            Err(e) => v.push(format!("transitions of {id}: {e}")),
        }
        match j.keys(id).await {
            Ok(keys) => {
                let got: Vec<&str> = keys.iter().map(|k| k.key.as_str()).collect();
                if got != p.keys {
                    v.push(format!("payment {id}: keys {got:?}, expected {:?}", p.keys));
                }
            }
            Err(e) => v.push(format!("keys of {id}: {e}")),
        }
    }
    // A creation that was cut off and did not land left nothing behind.
    if let (false, Some(Op::Create { id, .. })) = (landed, pending) {
        let row = j.get(id).await.ok().flatten();
        let transitions = j.transitions(id).await.map(|t| t.len()).unwrap_or(usize::MAX);
        let keys = j.keys(id).await.map(|k| k.len()).unwrap_or(usize::MAX);
        if row.is_some() || transitions != 0 || keys != 0 {
            v.push(format!(
                "half-written creation of {id}: row {}, {transitions} transitions, {keys} keys",
                row.is_some()
            ));
        }
    }
    match j.list(1_000_000, 0).await {
        Ok(rows) if rows.len() != expected.payments.len() => {
            v.push(format!("{} payments, expected {}", rows.len(), expected.payments.len()))
        }
        Ok(_) => {}
        Err(e) => v.push(format!("list: {e}")),
    }
    let rules = RowCheck { flags_of: &flags_of, derive: &derive };
    match j.check_payment_rows(&rules, None).await {
        Ok(mismatches) if !mismatches.is_empty() => {
            v.push(format!("payment rows disagree with the chain: {mismatches:?}"))
        }
        Ok(_) => {}
        Err(e) => v.push(format!("check_payment_rows: {e}")),
    }
    (v, landed)
}

/// SQLite's own `PRAGMA integrity_check` through a second connection.
async fn integrity(path: &Path) -> String {
    use sqlx::sqlite::SqliteConnectOptions;
    use sqlx::{ConnectOptions, Connection};
    let result = async {
        let mut conn = SqliteConnectOptions::new().filename(path).connect().await?;
        let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check").fetch_all(&mut conn).await?;
        conn.close().await?;
        Ok::<_, sqlx::Error>(rows.join("; "))
    }
    .await;
    result.unwrap_or_else(|e| format!("integrity_check failed to run: {e}"))
}

// ---- Power-cut rounds -----------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum CrashPoint {
    /// Power cut after this many writes returned.
    BetweenCalls(usize),
    /// Power cut just before the n-th durable VFS operation of the round (deterministic, usually
    /// in the middle of a commit).
    AtVfsOp(u64),
    /// Power cut from another thread after this delay, while the writer keeps committing.
    Racing(Duration),
}

#[derive(Clone, Copy, Debug)]
struct Plan {
    ops: usize,
    crash: CrashPoint,
    landing: Landing,
}

impl Plan {
    fn draw(rng: &mut Rng) -> Plan {
        let ops = 3 + rng.below(8) as usize;
        let crash = match rng.below(8) {
            0..=2 => CrashPoint::BetweenCalls(rng.below(ops as u64 + 1) as usize),
            // A commit here takes about 6 to 12 durable operations (WAL frame headers and pages,
            // one sync); creating the database on the first open takes more.
            3..=6 => CrashPoint::AtVfsOp(1 + rng.below(ops as u64 * 12)),
            _ => CrashPoint::Racing(Duration::from_micros(rng.below(20_000))),
        };
        let landing = match rng.below(5) {
            0 | 1 => Landing::Nothing,
            2 | 3 => Landing::Torn(rng.next_u64()),
            _ => Landing::Everything,
        };
        Plan { ops, crash, landing }
    }
}

#[derive(Debug, Default)]
struct Tally {
    rounds: u64,
    acknowledged: u64,
    /// Rounds whose power cut interrupted a write.
    cut_mid_write: u64,
    /// Of those, writes that were there after the restart anyway (torn landing or cut after the
    /// commit's sync).
    cut_write_landed: u64,
    crashed_during_open: u64,
}

/// One round: write through crashsim until the power cut, restart on the real VFS, check, write.
async fn round(
    vfs: &'static CrashVfs,
    path: &Path,
    model: &mut Model,
    rng: &mut Rng,
    plan: &Plan,
    tally: &mut Tally,
) -> Result<(), Vec<String>> {
    vfs.power_on();
    vfs.set_landing(plan.landing);
    if let CrashPoint::AtVfsOp(n) = plan.crash {
        vfs.crash_at_op(n);
    }
    let racer = match plan.crash {
        CrashPoint::Racing(delay) => Some(std::thread::spawn(move || {
            std::thread::sleep(delay);
            vfs.crash();
        })),
        _ => None,
    };
    let mut pending = None;
    let mut early = Vec::new();
    match Journal::open_with_vfs(path, vfs.name()).await {
        Err(e) if !vfs.is_powered_off() => {
            early.push(format!("open through crashsim failed without a power cut: {e}"))
        }
        Err(_) => tally.crashed_during_open += 1,
        Ok(j) => {
            for i in 0..plan.ops {
                if matches!(plan.crash, CrashPoint::BetweenCalls(k) if k == i) {
                    vfs.crash();
                    break;
                }
                let op = model.next_op(rng);
                match run(&j, &op).await {
                    Ok(seq) if seq != model.last_seq + 1 => {
                        early.push(format!("{op:?} returned seq {seq}, expected {}", model.last_seq + 1));
                        break;
                    }
                    Ok(seq) => {
                        model.apply(&op, seq);
                        tally.acknowledged += 1;
                    }
                    Err(e) if !vfs.is_powered_off() => {
                        early.push(format!("{op:?} failed without a power cut: {e}"));
                        break;
                    }
                    Err(_) => {
                        pending = Some(op);
                        break;
                    }
                }
            }
            // The power goes now at the latest (a no-op if it already went).
            vfs.crash();
            j.close().await;
        }
    }
    if let Some(racer) = racer {
        racer.join().expect("racer thread");
    }
    vfs.crash();
    if !vfs.wait_closed(Duration::from_secs(10)).await {
        early.push(format!("{} files of the dead connection still open", vfs.open_files()));
    }
    if !early.is_empty() {
        return Err(early);
    }

    // Restart on the real VFS.
    let j =
        Journal::open(path).await.map_err(|e| vec![format!("reopening after the power cut failed: {e}")])?;
    let (mut violations, landed) = check(&j, model, pending.as_ref()).await;
    if let Some(op) = &pending {
        tally.cut_mid_write += 1;
        if landed {
            tally.cut_write_landed += 1;
            model.apply(op, model.last_seq + 1);
        }
    }
    let integrity = integrity(path).await;
    if integrity != "ok" {
        violations.push(format!("integrity_check: {integrity}"));
    }
    // The journal takes writes again, and the chain still holds.
    if violations.is_empty() {
        let op = model.next_op(rng);
        match run(&j, &op).await {
            Ok(seq) => model.apply(&op, seq),
            Err(e) => violations.push(format!("writing after the restart failed: {e}")),
        }
        match j.verify_chain().await {
            Ok(report) if report.is_intact() => {}
            other => violations.push(format!("chain after the restart: {other:?}")),
        }
    }
    j.close().await;
    tally.rounds += 1;
    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations)
    }
}

/// Runs `rounds` seeded power-cut rounds on one journal; the first violation ends the run, as an
/// error naming the seed and the round. With `honour_sync` false the VFS drops every fsync.
async fn power_cut_rounds(
    vfs_name: &str,
    seed: u64,
    rounds: u64,
    honour_sync: bool,
) -> Result<Tally, String> {
    let vfs = CrashVfs::register(vfs_name);
    vfs.set_sync_honoured(honour_sync);
    let mut rng = Rng::new(seed);
    let mut tally = Tally::default();
    let (mut dir, mut model) = (tempfile::tempdir().expect("tempdir"), Model::default());
    for r in 0..rounds {
        // Every round checks the whole journal; a fresh one now and then keeps long runs linear.
        if r > 0 && r % ROUNDS_PER_JOURNAL == 0 {
            (dir, model) = (tempfile::tempdir().expect("tempdir"), Model::default());
        }
        let path = dir.path().join("journal.sqlite");
        let plan = Plan::draw(&mut rng);
        if let Err(violations) = round(vfs, &path, &mut model, &mut rng, &plan, &mut tally).await {
            return Err(format!(
                "power cut broke the journal (replay with CRASHSIM_SEED={seed:#x}): round {r}, {plan:?}\n  {}",
                violations.join("\n  ")
            ));
        }
    }
    let stats = vfs.stats();
    println!("seed {seed:#x}: {tally:?}, {stats:?}");
    assert!(stats.syncs > 0, "the journal never synced through crashsim: {stats:?}");
    Ok(tally)
}

#[tokio::test]
async fn acknowledged_commits_survive_power_cuts() {
    let start = Instant::now();
    let seed = env_u64("CRASHSIM_SEED").unwrap_or(DEFAULT_SEED);
    let tally =
        power_cut_rounds("crashsim-committed", seed, 30, true).await.unwrap_or_else(|e| panic!("{e}"));
    // The rounds really exercised what they claim to.
    assert!(tally.acknowledged >= 30, "{tally:?}");
    assert!(tally.cut_mid_write >= 3, "too few power cuts inside a commit: {tally:?}");
    println!("{} rounds in {:?}", tally.rounds, start.elapsed());
}

/// Many more rounds, with a seed of its own unless `CRASHSIM_SEED` is set (printed, and named in
/// a failure), and the creation sweep at every step. About 20 s:
/// `cargo test -p journal --test integration -- --ignored crash_vfs` (`CRASHSIM_ROUNDS=n` for more
/// or fewer).
#[tokio::test]
#[ignore = "long: cargo test -p journal --test integration -- --ignored crash_vfs"]
async fn acknowledged_commits_survive_many_power_cuts() {
    let seed = env_u64("CRASHSIM_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    let rounds = env_u64("CRASHSIM_ROUNDS").unwrap_or(400);
    power_cut_rounds("crashsim-long", seed, rounds, true).await.unwrap_or_else(|e| panic!("{e}"));
    creation_sweep("crashsim-long-creation", 1).await;
}

/// Copies the files of a journal (database, and WAL and index if any) into another folder.
fn copy_journal(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("dir entry");
        std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
    }
}

/// An rng whose first draw makes `model` create a payment (`create`) or move one.
fn rng_for(model: &Model, create: bool) -> Rng {
    (0..)
        .map(Rng::new)
        .find(|rng| matches!(model.clone().next_op(&mut rng.clone()), Op::Create { .. }) == create)
        .expect("some seed")
}

/// One case of a [`sweep`].
struct Case<'a> {
    vfs: &'static CrashVfs,
    base: Option<&'a Path>,
    model: &'a Model,
    rng: &'a Rng,
    ops: usize,
}

impl Case<'_> {
    async fn run(&self, tally: &mut Tally, crash: CrashPoint, landing: Landing) {
        let (mut model, mut rng) = (self.model.clone(), self.rng.clone());
        let plan = Plan { ops: self.ops, crash, landing };
        let dir = tempfile::tempdir().expect("tempdir");
        if let Some(base) = self.base {
            copy_journal(base, dir.path());
        }
        let path = dir.path().join("journal.sqlite");
        if let Err(violations) = round(self.vfs, &path, &mut model, &mut rng, &plan, tally).await {
            panic!("power cut broke the journal: {plan:?}\n  {}", violations.join("\n  "));
        }
    }
}

/// Cuts the power before every `stride`-th durable operation in turn (`1..=`the count of a run
/// without a cut), each time on a fresh copy of `base` (`None`: no journal yet), with
/// `landings(n)` for the unsynced writes; every case must pass [`round`]. The rounds run `ops`
/// writes.
async fn sweep(
    vfs: &'static CrashVfs,
    base: Option<&Path>,
    model: &Model,
    rng: &Rng,
    ops: usize,
    stride: u64,
    landings: impl Fn(u64) -> Vec<Landing>,
) -> Tally {
    let mut tally = Tally::default();
    let case = Case { vfs, base, model, rng, ops };
    case.run(&mut tally, CrashPoint::BetweenCalls(ops), Landing::Nothing).await;
    let steps = vfs.stats().ops;
    assert!(steps > 0, "no durable operation counted");
    for n in (1..=steps).step_by(stride as usize) {
        for landing in landings(n) {
            case.run(&mut tally, CrashPoint::AtVfsOp(n), landing).await;
        }
    }
    tally
}

/// A power cut at every step of a commit, for a new payment (row, key, first transition) and for
/// a transition with a new key, with the unsynced writes lost, torn, or all landed.
#[tokio::test]
async fn power_cut_at_every_step_of_a_commit() {
    let vfs = CrashVfs::register("crashsim-every-step");
    // A journal with some history, closed cleanly.
    let base = tempfile::tempdir().expect("tempdir");
    let mut model = Model::default();
    let mut rng = Rng::new(11);
    let j = Journal::open(&base.path().join("journal.sqlite")).await.expect("open");
    for _ in 0..8 {
        let op = model.next_op(&mut rng);
        let seq = run(&j, &op).await.expect("write");
        model.apply(&op, seq);
    }
    j.close().await;

    let all = |n: u64| vec![Landing::Nothing, Landing::Torn(n), Landing::Everything];
    let mut cut = 0;
    let mut landed = 0;
    for create in [true, false] {
        let tally = sweep(vfs, Some(base.path()), &model, &rng_for(&model, create), 2, 1, all).await;
        println!("create={create}: {tally:?}");
        cut += tally.cut_mid_write;
        landed += tally.cut_write_landed;
    }
    assert!(cut > 10, "few cuts inside a commit: {cut}");
    assert!(landed > 0, "no cut write landed, so that case went untested");
}

/// Power cuts while the journal is created (schema, WAL switch, migrations) and takes its first
/// write: at every other step here (landing lost, torn and landed in turn), at every step in
/// [`acknowledged_commits_survive_many_power_cuts`].
#[tokio::test]
async fn power_cut_while_creating_the_journal() {
    let tally = creation_sweep("crashsim-creation", 2).await;
    assert!(tally.crashed_during_open > 5, "{tally:?}");
}

async fn creation_sweep(vfs_name: &str, stride: u64) -> Tally {
    let vfs = CrashVfs::register(vfs_name);
    let one_landing = |n: u64| {
        vec![match n % 3 {
            0 => Landing::Nothing,
            1 => Landing::Torn(n),
            _ => Landing::Everything,
        }]
    };
    let tally = sweep(vfs, None, &Model::default(), &Rng::new(5), 1, stride, one_landing).await;
    println!("creation, every {stride} step(s): {tally:?}");
    tally
}

/// The rounds above fail when fsync is dropped.
#[tokio::test]
async fn power_cut_rounds_fail_when_fsync_is_dropped() {
    let Err(e) = power_cut_rounds("crashsim-rounds-dropped-fsync", DEFAULT_SEED, 30, false).await else {
        panic!("the rounds passed although no write was ever durable");
    };
    assert!(e.contains("acknowledged"), "{e}");
}

/// The checks above can fail: when `xSync` makes nothing durable (a missing fsync, or a disk that
/// lies about it), commits that returned `Ok` are gone after the power cut, and `check` says so.
/// What was synced before stays.
#[tokio::test]
async fn a_dropped_fsync_loses_acknowledged_commits() {
    let vfs = CrashVfs::register("crashsim-dropped-fsync");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("journal.sqlite");
    let mut rng = Rng::new(7);
    let mut model = Model::default();

    let j = Journal::open_with_vfs(&path, vfs.name()).await.expect("open through crashsim");
    let settings = j.durability().await.expect("pragmas");
    assert_eq!(settings, Durability { journal_mode: "wal".into(), synchronous: 2, foreign_keys: 1 });
    for _ in 0..4 {
        let op = model.next_op(&mut rng);
        let seq = run(&j, &op).await.expect("write");
        model.apply(&op, seq);
    }
    let synced = model.clone();
    let syncs_before = vfs.stats().syncs;

    vfs.set_sync_honoured(false);
    for _ in 0..6 {
        let op = model.next_op(&mut rng);
        let seq = run(&j, &op).await.expect("write acknowledged although nothing is durable");
        model.apply(&op, seq);
    }
    assert!(vfs.stats().syncs > syncs_before, "SQLite asked for the fsyncs");
    // Before the power cut the process sees its own writes (the page cache).
    let (before, _) = check(&j, &model, None).await;
    assert!(before.is_empty(), "{before:?}");

    vfs.crash();
    j.close().await;
    assert!(vfs.wait_closed(Duration::from_secs(10)).await);
    vfs.set_sync_honoured(true);
    vfs.power_on();

    let j = Journal::open(&path).await.expect("reopen");
    let (lost, _) = check(&j, &model, None).await;
    assert!(
        lost.iter().any(|v| v.starts_with("acknowledged commits lost")),
        "a dropped fsync must be caught: {lost:?}"
    );
    let (kept, _) = check(&j, &synced, None).await;
    assert!(kept.is_empty(), "what was synced before must survive: {kept:?}");
    j.close().await;
}

/// The simulated page cache: reads see unsynced writes, a sync makes them durable, a power cut
/// loses the rest (or, torn, part of it), and a dead disk refuses everything.
#[test]
fn vfs_keeps_writes_until_sync() {
    let vfs = CrashVfs::register("crashsim-unit");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("unit.db");
    let on_disk = || std::fs::read(&path).expect("read the real file");

    let mut f = vfs.open_raw(&path).expect("open");
    f.write(0, b"durable!").unwrap();
    assert_eq!(on_disk(), b"");
    assert_eq!(f.read(0, 8).unwrap(), b"durable!");
    f.sync().unwrap();
    assert_eq!(on_disk(), b"durable!");

    // Unsynced: visible to reads, not on disk.
    f.write(4196, b"volatile").unwrap();
    assert_eq!(f.size().unwrap(), 4204);
    assert_eq!(f.read(4196, 8).unwrap(), b"volatile");
    assert_eq!(f.read(8, 8).unwrap(), [0; 8], "a hole reads as zeros");
    assert_eq!(on_disk(), b"durable!");
    // A truncation hides the cut bytes even where the real file still has them.
    f.truncate(4).unwrap();
    assert_eq!(f.size().unwrap(), 4);
    f.write(6, b"X").unwrap();
    assert_eq!(f.read(0, 8).unwrap(), b"dura\0\0X\0");
    assert_eq!(on_disk(), b"durable!");

    // Power cut: the unsynced writes and the truncation are lost; the disk is dead until power-on.
    vfs.crash();
    assert_eq!(on_disk(), b"durable!");
    assert!(f.read(0, 8).is_err());
    assert!(f.write(0, b"zombie").is_err());
    assert!(f.sync().is_err());
    assert!(vfs.open_raw(&path).is_err(), "no opens while the power is off");
    assert_eq!(f.close(), 0);
    assert_eq!(vfs.open_files(), 0);
    vfs.power_on();

    // A synced truncation is durable.
    let mut f = vfs.open_raw(&path).expect("reopen");
    assert_eq!(f.read(0, 8).unwrap(), b"durable!");
    f.truncate(3).unwrap();
    f.sync().unwrap();
    assert_eq!(on_disk(), b"dur");

    // Closing does not sync: the writes stay in the page cache, visible to the next open, and a
    // power cut loses them.
    f.write(0, b"cached").unwrap();
    assert_eq!(f.close(), 0);
    let mut f = vfs.open_raw(&path).expect("reopen");
    assert_eq!(f.read(0, 6).unwrap(), b"cached");
    vfs.crash();
    drop(f);
    assert_eq!(on_disk(), b"dur");
    vfs.power_on();

    // Torn: some unsynced blocks land, the others do not, each whole or not at all.
    let mut f = vfs.open_raw(&path).expect("reopen");
    f.write(0, &[0xAB; 64 * 512]).unwrap();
    vfs.set_landing(Landing::Torn(42));
    vfs.crash();
    drop(f);
    vfs.set_landing(Landing::Nothing);
    vfs.power_on();
    let bytes = on_disk();
    let landed = bytes.chunks(512).filter(|b| b.iter().all(|&x| x == 0xAB)).count();
    let mixed = bytes.chunks(512).filter(|b| b.contains(&0xAB) && !b.iter().all(|&x| x == 0xAB)).count();
    assert!(0 < landed && landed < 64, "{landed} of 64 blocks landed");
    assert_eq!(mixed, 0, "a block lands whole or not at all");
    let stats = vfs.stats();
    assert!(stats.blocks_landed > 0 && stats.blocks_lost > 0 && stats.overlay_reads > 0, "{stats:?}");
}

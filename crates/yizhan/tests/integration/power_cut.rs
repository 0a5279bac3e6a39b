//! The power-cut test: the simulators run in their own process (`yizhan sim`), so their ledgers
//! outlive the kiosk. `yizhan pay` runs as a child and dies by SIGKILL right after its N-th
//! journal commit (YIZHAN_CRASH_AFTER_COMMIT=N: the state is durable, its call not sent), and
//! again right after its N-th answered call (YIZHAN_CRASH_AFTER_CALL=N: the other side acted,
//! the answer is not journaled — F7), for every N of a payment in turn; then `yizhan recover`
//! finishes the job. Each time, the simulators' ledgers must show exactly one
//! charge with exactly one write-off or one refund (or no charge and nothing written off), and
//! the journal's hash chain must be intact.

use crate::support;

use kiosk_core::utility::luhn_check_digit;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_yizhan");

/// `yizhan sim` in its own process group, killed when dropped.
struct Simulators {
    child: Child,
    urls: BTreeMap<String, String>,
    config: PathBuf,
    http: Http,
}

/// A small synchronous HTTP helper: this test drives child processes, not async tasks.
struct Http {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
}

impl Http {
    fn new() -> Http {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        Http { runtime, client: reqwest::Client::new() }
    }

    fn post(&self, url: &str, body: Value) -> Value {
        self.runtime.block_on(async {
            let reply = self.client.post(url).json(&body).send().await.unwrap();
            assert!(reply.status().is_success(), "{url}: {}", reply.status());
            reply.json().await.unwrap_or(Value::Null)
        })
    }

    fn get(&self, url: &str) -> Value {
        self.runtime.block_on(async { self.client.get(url).send().await.unwrap().json().await.unwrap() })
    }
}

impl Simulators {
    fn start(dir: &Path) -> Simulators {
        let config = dir.join("kiosk.toml");
        let mut child = Command::new(BIN)
            .arg("--config")
            .arg(support::repo_config_dir().join("kiosk.toml"))
            .args(["sim", "--divisor", "100", "--write-config"])
            .arg(&config)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start yizhan sim");
        let mut urls = BTreeMap::new();
        let stdout = child.stdout.take().unwrap();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if line == "ready" {
                break;
            }
            if let Some((name, url)) = line.split_once(' ').filter(|(_, url)| url.starts_with("http://")) {
                urls.insert(name.to_string(), url.to_string());
            }
        }
        assert!(urls.contains_key("wechat") && urls.contains_key("joint"), "{urls:?}");
        Simulators { child, urls, config, http: Http::new() }
    }

    fn url(&self, name: &str) -> &str {
        &self.urls[name]
    }

    fn account(&self, utility: &str, serial: u64, fen: i64) -> String {
        let (prefix, len) = match utility {
            "water" => ("6", 9),
            "power" => ("6", 10),
            _ => ("5", 10),
        };
        let body = format!("{prefix}{serial:0width$}", width = len - 2);
        let account = format!("{body}{}", luhn_check_digit(&body).unwrap());
        self.http.post(
            &format!("{}/admin/accounts", self.url(utility)),
            json!({"account": account, "amount_due_fen": fen}),
        );
        account
    }

    fn household(&self, serial: u64) -> String {
        let joint = self.account("power", 900_000 + serial, 0);
        let body = json!({
            "joint_account": joint,
            "holder_masked": "李*",
            "water": self.account("water", 500_000 + serial, 3150),
            "power": self.account("power", 500_000 + serial, 12680),
            "gas": self.account("gas", 500_000 + serial, 4560),
        });
        self.http.post(&format!("{}/admin/households", self.url("joint")), body);
        joint
    }

    fn fault(&self, sim: &str, rule: Value) {
        self.http.post(&format!("{}/admin/faults", self.url(sim)), rule);
    }

    fn clear_faults(&self) {
        for name in self.urls.keys().filter(|name| *name != "devices") {
            self.http.post(&format!("{}/admin/faults/clear", self.url(name)), json!({}));
        }
    }

    fn channel_ledger(&self, channel: &str, order: &str) -> Vec<(String, i64)> {
        let ledger = self.http.get(&format!("{}/admin/ledger", self.url(channel)));
        ledger
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["out_trade_no"] == order)
            .map(|e| (e["kind"].as_str().unwrap().to_string(), e["amount"].as_i64().unwrap()))
            .collect()
    }

    /// Every money movement any simulator has booked, to prove that something moved none.
    fn money_movements(&self) -> usize {
        let channels: usize = ["wechat", "alipay", "unionpay"]
            .iter()
            .map(|c| self.http.get(&format!("{}/admin/ledger", self.url(c))).as_array().map_or(0, Vec::len))
            .sum();
        let billers: usize = ["water", "power", "gas"]
            .iter()
            .map(|u| {
                let ledger = self.http.get(&format!("{}/admin/ledger", self.url(u)));
                ledger["write_offs"].as_array().map_or(0, Vec::len)
            })
            .sum();
        channels + billers
    }

    /// What the bank card terminal booked for `order`: (charges, net fen).
    fn terminal(&self, order: &str) -> (u64, i64) {
        let ledger = self.http.get(&format!("{}/admin/bankcard/ledger", self.url("devices")));
        let entry = &ledger[order];
        (entry["charges"].as_u64().unwrap_or(0), entry["net"].as_i64().unwrap_or(0))
    }

    /// The customer takes the gas card to the meter and back: "credited", "replayed" or "nothing".
    fn meter(&self) -> String {
        let reply = self.http.post(&format!("{}/admin/iccard/meter", self.url("devices")), json!({}));
        reply["outcome"].as_str().unwrap_or_default().to_string()
    }

    /// The gas company learns from the meter that the card's last purchase is loaded.
    fn card_loaded(&self) {
        let url =
            format!("{}/admin/cards/{}/loaded", self.url("gas"), yizhan::commands::customer::DEMO_GAS_CARD);
        self.http.post(&url, json!({}));
    }

    fn purchases(&self, reference: &str) -> usize {
        let ledger = self.http.get(&format!("{}/admin/ledger", self.url("gas")));
        ledger["purchases"].as_array().unwrap().iter().filter(|e| e["reference"] == reference).count()
    }

    fn write_offs(&self, utility: &str, reference: &str) -> usize {
        let ledger = self.http.get(&format!("{}/admin/ledger", self.url(utility)));
        ledger["write_offs"].as_array().unwrap().iter().filter(|e| e["reference"] == reference).count()
    }
}

impl Drop for Simulators {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Run {
    killed: bool,
    order: Option<String>,
    stdout: String,
}

/// Where the power is cut: after the N-th journal commit, or after the N-th answered call.
#[derive(Clone, Copy, Debug)]
enum Cut {
    AfterCommit,
    AfterCall,
}

impl Cut {
    fn env(self) -> &'static str {
        match self {
            Cut::AfterCommit => "YIZHAN_CRASH_AFTER_COMMIT",
            Cut::AfterCall => "YIZHAN_CRASH_AFTER_CALL",
        }
    }
}

fn yizhan(sims: &Simulators, data: &Path, args: &[&str], crash: Option<(Cut, u32)>) -> Run {
    let mut command = Command::new(BIN);
    command.arg("--config").arg(&sims.config).arg("--data-dir").arg(data).args(args);
    command.env_remove(Cut::AfterCommit.env()).env_remove(Cut::AfterCall.env());
    if let Some((cut, n)) = crash {
        command.env(cut.env(), n.to_string());
    }
    let output = command.output().expect("run yizhan");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let killed = output.status.signal() == Some(SIGKILL);
    if !killed {
        assert!(
            output.status.success(),
            "yizhan {args:?} failed: {:?}\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let order = stdout
        .split_whitespace()
        .find(|w| w.starts_with("YZ"))
        .map(|w| w.trim_matches(|c| c == '[' || c == ']').to_string());
    Run { killed, order, stdout }
}

const SIGKILL: i32 = 9;

/// `yizhan pay` of `account` at `utility` (or "joint") with the payment code `code`.
fn pay_args(utility: &str, account: &str, code: &str) -> Vec<String> {
    ["pay", "--utility", utility, "--account", account, "--code", code].map(String::from).to_vec()
}

/// `state` is a journal state, or the whole output of a run that was not killed.
fn ended_done(state: &str) -> bool {
    state == "DONE" || state.contains("RESULT DONE")
}

/// Kills `pay` at cut 1, 2, 3… until a run completes; after each kill, recovers and checks the
/// ledgers with `check(order)`. Returns how many cut points the payment had.
fn kill_at_every_step(
    sims: &Simulators,
    dir: &Path,
    name: &str,
    cut: Cut,
    setup: &dyn Fn(u64) -> Vec<String>,
    check: &dyn Fn(&str, &str),
) -> u32 {
    for n in 1..60u32 {
        sims.clear_faults();
        let owned_args = setup(u64::from(n) + if matches!(cut, Cut::AfterCall) { 100 } else { 0 });
        let data = dir.join(format!("{name}-{cut:?}-{n}"));
        // A kiosk on a remote back end starts its journal only by staff command.
        let init = ["journal", "init", "--new-kiosk", "--staff", "S001", "--reason", "power-cut test kiosk"];
        yizhan(sims, &data, &init, None);
        let args: Vec<&str> = owned_args.iter().map(String::as_str).collect();
        let run = yizhan(sims, &data, &args, Some((cut, n)));
        // A run killed right after journaling its order may not have printed it yet.
        let order = run.order.clone().or_else(|| {
            let list = yizhan(sims, &data, &["journal", "list"], None);
            list.stdout.split_whitespace().next().map(str::to_string)
        });
        let Some(order) = order else {
            // Killed before the order was journaled: nothing happened at all.
            assert!(run.killed, "no order number printed:\n{}", run.stdout);
            continue;
        };
        if !run.killed {
            check(&order, &run.stdout);
            return n - 1;
        }
        let recovered = yizhan(sims, &data, &["recover"], None);
        assert!(
            recovered.stdout.contains(&format!("RECOVERED {order}"))
                || recovered.stdout.contains("nothing to recover"),
            "{}",
            recovered.stdout
        );
        let verify = yizhan(sims, &data, &["journal", "verify"], None);
        assert!(verify.stdout.contains("chain intact"), "{}", verify.stdout);
        let mut show = yizhan(sims, &data, &["journal", "show", &order], None);
        let mut state = show.stdout.split_whitespace().nth(1).unwrap_or_default().to_string();
        for _ in 0..50 {
            if state != "REFUND_PENDING" {
                break;
            }
            // A refund the channel only accepted: the refund query, on its schedule, says when
            // it arrived (a running kiosk's settler does this between customers).
            std::thread::sleep(std::time::Duration::from_millis(100));
            yizhan(sims, &data, &["recover"], None);
            show = yizhan(sims, &data, &["journal", "show", &order], None);
            state = show.stdout.split_whitespace().nth(1).unwrap_or_default().to_string();
        }
        if state == "AWAIT_CARD_WRITE" {
            // Paid and bought, the card not written when the power went: 补写卡.
            yizhan(sims, &data, &["gas", "rewrite"], None);
            show = yizhan(sims, &data, &["journal", "show", &order], None);
            state = show.stdout.split_whitespace().nth(1).unwrap_or_default().to_string();
        }
        assert!(
            ["DONE", "REFUNDED", "REVERSED", "ABANDONED", "PAY_FAILED"].contains(&state.as_str()),
            "{name}: killed after commit {n}, recovered to {state}:\n{}",
            show.stdout
        );
        check(&order, &state);
        // F21: the receipt of a payment cut off around its printing is reprinted from the
        // journal, and reprinting moves no money.
        let before = sims.money_movements();
        let reprint = yizhan(sims, &data, &["journal", "reprint", &order], None);
        assert!(reprint.stdout.contains(&order), "{}", reprint.stdout);
        assert_eq!(sims.money_movements(), before, "a reprint moved money");
    }
    panic!("{name}: the payment never finished");
}

/// A payment had at least `least` cut points: (after a commit, after a call).
fn assert_cut_points(steps: u32, cut: Cut, least: (u32, u32), what: &str) {
    let least = if matches!(cut, Cut::AfterCommit) { least.0 } else { least.1 };
    assert!(steps >= least, "{cut:?}: the {what} had only {steps} cut points");
}

/// The money invariant for one order at `channel`: at most one charge; a charge is matched by
/// exactly one write-off per line or by exactly one return of the money.
fn assert_whole(sims: &Simulators, channel: &str, order: &str, lines: &[(&str, String)], state: &str) {
    let ledger = sims.channel_ledger(channel, order);
    let charges = ledger.iter().filter(|(k, _)| k == "charge").count();
    let returns = ledger.iter().filter(|(k, _)| k == "refund" || k == "reversal").count();
    assert!(charges <= 1, "{order}: charged {charges} times: {ledger:?}");
    let written: Vec<usize> =
        lines.iter().map(|(utility, reference)| sims.write_offs(utility, reference)).collect();
    assert!(written.iter().all(|&w| w <= 1), "{order}: written off twice: {written:?}");
    if charges == 0 {
        assert_eq!(written.iter().sum::<usize>(), 0, "{order}: written off without a charge");
        assert_eq!(returns, 0);
    } else if ended_done(state) {
        let refunds_needed = written.iter().filter(|&&w| w == 0).count();
        assert_eq!(returns, refunds_needed, "{order}: {ledger:?} written {written:?}");
    } else {
        assert_eq!(written.iter().sum::<usize>(), 0, "{order} {state}: {written:?}");
        assert_eq!(returns, 1, "{order} {state}: the money must come back exactly once: {ledger:?}");
    }
}

#[test]
fn sigkill_at_every_journal_step_and_after_every_call_then_recover() {
    let dir = tempfile::tempdir().unwrap();
    let sims = Simulators::start(dir.path());

    for cut in [Cut::AfterCommit, Cut::AfterCall] {
        // 1. A water bill paid by WeChat, the customer entering the PIN after a while.
        let steps = kill_at_every_step(
            &sims,
            dir.path(),
            "water",
            cut,
            &|n| {
                let account = sims.account("water", n, 3150);
                sims.fault("wechat", json!({"endpoint": "pay", "fault": "user_paying", "ms": 150}));
                pay_args("water", &account, &format!("13{:016}", 7_000 + n))
            },
            &|order, state| assert_whole(&sims, "wechat", order, &[("water", format!("{order}-1"))], state),
        );
        assert_cut_points(steps, cut, (7, 3), "water payment");

        // 2. The joint bill by Alipay, the gas write-off refused: a partial refund.
        let steps = kill_at_every_step(
            &sims,
            dir.path(),
            "joint",
            cut,
            &|n| {
                let joint = sims.household(n);
                sims.fault(
                    "gas",
                    json!({"endpoint": "write_off", "fault": "write_off_reject", "code": "ACCOUNT_CLOSED"}),
                );
                pay_args("joint", &joint, &format!("28{:016}", 8_000 + n))
            },
            &|order, state| {
                let lines = [
                    ("water", format!("{order}-1")),
                    ("power", format!("{order}-2")),
                    ("gas", format!("{order}-3")),
                ];
                assert_whole(&sims, "alipay", order, &lines, state);
            },
        );
        assert_cut_points(steps, cut, (8, 5), "joint payment");

        // 4. A water bill paid with a bank card at the terminal (F15 after a power cut).
        let steps = kill_at_every_step(
            &sims,
            dir.path(),
            "bankcard",
            cut,
            &|n| {
                let account = sims.account("water", 300 + n, 5820);
                ["pay", "--utility", "water", "--account", &account, "--bank-card"].map(String::from).to_vec()
            },
            &|order, state| {
                let (charges, net) = sims.terminal(order);
                assert!(charges <= 1, "{order}: charged {charges} times");
                let written = sims.write_offs("water", &format!("{order}-1"));
                if ended_done(state) {
                    assert_eq!((net, written), (5820, 1), "{order} {state}");
                } else {
                    assert_eq!((net, written), (0, 0), "{order} {state}: the money must come back");
                }
            },
        );
        assert_cut_points(steps, cut, (6, 2), "bank card payment");

        // 5. A gas-card top-up: the power may go while the card is being written.
        let steps = kill_at_every_step(
            &sims,
            dir.path(),
            "gas",
            cut,
            &|n| {
                // The last purchase reaches the meter, and the gas company learns it.
                sims.meter();
                sims.card_loaded();
                ["gas", "topup", "--amount", "3000", "--code", &format!("15{:016}", 6_000 + n)]
                    .map(String::from)
                    .to_vec()
            },
            &|order, state| {
                let ledger = sims.channel_ledger("wechat", order);
                let charges = ledger.iter().filter(|(k, _)| k == "charge").count();
                let returns = ledger.iter().filter(|(k, _)| k == "refund" || k == "reversal").count();
                assert!(charges <= 1, "{order}: charged {charges} times");
                let bought = sims.purchases(&format!("{order}-1"));
                assert!(bought <= 1, "{order}: bought {bought} times");
                if ended_done(state) {
                    assert_eq!((charges, returns, bought), (1, 0, 1), "{order} {state}");
                    // The card holds the purchase: the meter credits it once, and never again.
                    assert_eq!(sims.meter(), "credited", "{order}");
                    assert_eq!(sims.meter(), "replayed", "{order}");
                } else {
                    assert_eq!(bought, 0, "{order} {state}: bought without money");
                    assert_eq!(charges, returns, "{order} {state}: the money must come back");
                }
            },
        );
        assert_cut_points(steps, cut, (8, 4), "gas top-up");

        // 3. A WeChat customer who never enters the PIN: the order is reversed.
        kill_at_every_step(
            &sims,
            dir.path(),
            "reverse",
            cut,
            &|n| {
                let account = sims.account("power", 200 + n, 8935);
                sims.fault("wechat", json!({"endpoint": "pay", "fault": "user_paying"}));
                pay_args("power", &account, &format!("14{:016}", 9_000 + n))
            },
            &|order, state| assert_whole(&sims, "wechat", order, &[("power", format!("{order}-1"))], state),
        );
    }
}

/// Item 51: a customer's call for staff outlives a restart (a power cut, a configuration taken
/// up): the journal shows it unanswered, so the operators' alert is not cleared as if staff had
/// come. Once staff sign in, a restart finds nothing open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_call_for_staff_is_open_again_after_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let keys = support::repo_config_dir().join("sim-keys");
    let backend = yizhan::backend::Backend::start_embedded(&keys, data.path(), 100, true).await.unwrap();
    assert_eq!(backend.runtime.help.open_since(), None);
    backend.runtime.call_for_help().await;
    let since = backend.runtime.help.open_since();
    assert!(since.is_some());

    let backend = backend.restart().await.unwrap();
    let reopened = backend.runtime.help.open_since();
    assert!(reopened.is_some_and(|at| at.abs_diff(since.unwrap()) < 1_000), "{reopened:?} vs {since:?}");
    assert_eq!(reopened, since, "the same call, under the same time (the hub's alert subject)");

    backend.runtime.staff_arrived("S001").await;
    let backend = backend.restart().await.unwrap();
    assert_eq!(backend.runtime.help.open_since(), None, "answered before the restart");
}

//! The payment clients' tests, one module per subject, built as one test binary: one link instead
//! of one per file keeps a cold build of the suite small and quick (scripts/test.sh). Helpers
//! shared by the modules live beside this folder.

#[path = "../common/mod.rs"]
mod common;

mod alipay_flows;
mod card_acquirer;
mod code_tables;
mod config;
mod hostile_replies;
mod reachability;
mod signature_vectors;
mod statements;
mod unionpay_flows;
mod wechat_flows;

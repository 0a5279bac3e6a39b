//! In-process simulators of the water, power and gas billers and the joint-bill service, speaking
//! the same signed contract as the real ones (openapi/biller-api.yaml) on loopback, with fault
//! injection (simkit) and a ledger that tests can read.
//!
//! What they send is written with their own codec ([`body`]), not the client's (`crate::wire`):
//! they are a second opinion on the contract, not an echo of the client.
//!
//! Fault endpoints (for `x-sim-fault` rules): `bill`, `write_off`, `write_off_status`,
//! `purchase`, `card_written`, `card` (the prepaid card lookup), `reconciliation`, and `joint_bill`
//! and `household` (the ID card holder lookup) on the joint service.

pub mod body;
mod book;
mod demo;
mod joint;
mod ledger;
mod signed;
mod utility;

pub use book::{AccountSeed, CardLimits, CardSeed, CardState};
pub use demo::{
    demo_accounts, holder as demo_holder, household as demo_household, seeds as demo_seeds, DEMO_CARD,
    DEMO_HOLDER, JOINT_ACCOUNT,
};
pub use joint::{HolderSeed, Household, JointSim};
pub use ledger::{Ledger, PurchaseEntry, RejectedEntry, WriteOffEntry};
pub use utility::UtilitySim;

use crate::config::{BillerEntry, BillersConfig};
use kiosk_core::Utility;
use serde::{Deserialize, Serialize};
use simkit::{serve, Served};
use tokio::net::TcpListener;

/// `[sim.billers]`: ports and keys of the simulators. Everything has a default, so an empty
/// table runs all four on free loopback ports with the demo keys and data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BillerSimsConfig {
    pub water: SimEntry,
    pub power: SimEntry,
    pub gas: SimEntry,
    pub joint: SimEntry,
    /// Seed the demo accounts, household and household holder.
    pub seed_demo: bool,
}

/// One simulator: its loopback port (0 = any free port) and signing key (a demo key if absent).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimEntry {
    pub port: u16,
    pub key: Option<String>,
}

impl Default for BillerSimsConfig {
    fn default() -> Self {
        BillerSimsConfig {
            water: SimEntry::default(),
            power: SimEntry::default(),
            gas: SimEntry::default(),
            joint: SimEntry::default(),
            seed_demo: true,
        }
    }
}

impl SimEntry {
    fn key_or_demo(&self, name: &str) -> String {
        self.key.clone().unwrap_or_else(|| demo_key(name))
    }
}

/// The key a simulator uses when none is configured: public, for demos and tests only.
pub fn demo_key(name: &str) -> String {
    format!("yizhan-demo-{name}-biller-key")
}

/// A running utility simulator.
pub struct RunningSim {
    pub sim: UtilitySim,
    pub served: Served,
    key: String,
}

/// The running joint service.
pub struct RunningJointSim {
    pub sim: JointSim,
    pub served: Served,
    key: String,
}

/// All four simulators, running until this value is dropped.
pub struct RunningBillerSims {
    pub water: RunningSim,
    pub power: RunningSim,
    pub gas: RunningSim,
    pub joint: RunningJointSim,
}

impl RunningSim {
    pub fn url(&self) -> String {
        self.served.url()
    }

    /// A client entry pointing at this simulator, with its key.
    pub fn client_entry(&self) -> BillerEntry {
        BillerEntry::new(self.url(), self.key.clone())
    }
}

impl RunningJointSim {
    pub fn url(&self) -> String {
        self.served.url()
    }

    pub fn client_entry(&self) -> BillerEntry {
        BillerEntry::new(self.url(), self.key.clone())
    }
}

impl RunningBillerSims {
    pub fn get(&self, utility: Utility) -> &RunningSim {
        match utility {
            Utility::Water => &self.water,
            Utility::Power => &self.power,
            Utility::Gas => &self.gas,
        }
    }

    /// The `[billers]` configuration that points the clients at these simulators.
    pub fn client_config(&self) -> BillersConfig {
        BillersConfig {
            water: self.water.client_entry(),
            power: self.power.client_entry(),
            gas: self.gas.client_entry(),
            joint: Some(self.joint.client_entry()),
        }
    }
}

/// Starts the three utility simulators and the joint service on 127.0.0.1.
pub async fn start_all(config: &BillerSimsConfig) -> std::io::Result<RunningBillerSims> {
    let mut running = Vec::with_capacity(3);
    for (utility, entry) in
        [(Utility::Water, &config.water), (Utility::Power, &config.power), (Utility::Gas, &config.gas)]
    {
        let key = entry.key_or_demo(utility.code());
        let sim = UtilitySim::new(utility, &key);
        if config.seed_demo {
            demo::seeds(utility).into_iter().for_each(|seed| {
                sim.put_account(seed);
            });
        }
        let served = serve(bind(entry.port).await?, sim.router())?;
        running.push(RunningSim { sim, served, key });
    }
    let utilities = running.iter().map(|r| r.sim.clone()).collect();
    let key = config.joint.key_or_demo("joint");
    let joint = JointSim::new(&key, utilities);
    if config.seed_demo {
        joint.put_household(demo::household());
        joint.put_holder(demo::holder());
    }
    let served = serve(bind(config.joint.port).await?, joint.router())?;
    let joint = RunningJointSim { sim: joint, served, key };
    let mut running = running.into_iter();
    match (running.next(), running.next(), running.next()) {
        (Some(water), Some(power), Some(gas)) => Ok(RunningBillerSims { water, power, gas, joint }),
        _ => Err(std::io::Error::other("a biller simulator did not start")),
    }
}

async fn bind(port: u16) -> std::io::Result<TcpListener> {
    TcpListener::bind(("127.0.0.1", port)).await
}

/// The simulators' clock, in Shanghai time (their accounting dates follow it).
pub(crate) fn now() -> chrono::DateTime<chrono::FixedOffset> {
    chrono::Utc::now().with_timezone(&crate::shanghai())
}

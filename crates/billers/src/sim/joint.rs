//! The simulated joint-bill service (电水气联合账单): it knows which water, power and gas accounts
//! form a household and answers their live bills, read from the utility simulators' books. It
//! only presents bills; each sub-bill is written off at its own utility. It also knows which
//! accounts belong to an ID card holder, by the digest of the ID number only.

use super::body::{HouseholdAccountBody, HouseholdBody, JointBillBody};
use super::signed::{keyed, Gate, Gated, Reply};
use super::utility::UtilitySim;
use crate::wire::{codes, paths};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{post, MethodFilter};
use axum::{Json, Router};
use kiosk_core::Utility;
use serde::{Deserialize, Serialize};
use simkit::FaultPlan;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// `POST /admin/households`: one joint account grouping up to one account per utility.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Household {
    pub joint_account: String,
    pub holder_masked: String,
    #[serde(default)]
    pub water: Option<String>,
    #[serde(default)]
    pub power: Option<String>,
    #[serde(default)]
    pub gas: Option<String>,
}

impl Household {
    fn member(&self, utility: Utility) -> Option<&str> {
        match utility {
            Utility::Water => self.water.as_deref(),
            Utility::Power => self.power.as_deref(),
            Utility::Gas => self.gas.as_deref(),
        }
    }
}

/// `POST /admin/holders`: the accounts of an ID card holder, who is known by
/// [`crate::holder_digest`] of the ID number and never by the number itself. Replaces what was
/// registered for the holder before.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolderSeed {
    /// 64 lower-case hex digits.
    pub holder: String,
    pub accounts: Vec<HouseholdAccountBody>,
}

impl HolderSeed {
    /// The holder of `household`'s joint account and of each of its members, joint first.
    pub fn of_household(holder: impl Into<String>, household: &Household) -> HolderSeed {
        let account = |utility: &str, account: &str| HouseholdAccountBody {
            utility: utility.to_string(),
            account: account.to_string(),
        };
        let mut accounts = vec![account("joint", &household.joint_account)];
        for utility in Utility::ALL {
            if let Some(member) = household.member(utility) {
                accounts.push(account(utility.code(), member));
            }
        }
        HolderSeed { holder: holder.into(), accounts }
    }
}

/// The joint service. Cheap to clone; clones share households, key and fault plan.
#[derive(Clone)]
pub struct JointSim {
    inner: Arc<Inner>,
}

struct Inner {
    households: Mutex<BTreeMap<String, Household>>,
    /// Holder digest → the holder's accounts.
    holders: Mutex<BTreeMap<String, Vec<HouseholdAccountBody>>>,
    utilities: Vec<UtilitySim>,
    gate: Arc<Gate>,
}

impl JointSim {
    /// A joint service over the given utility simulators (sharing their books).
    pub fn new(key: &str, utilities: Vec<UtilitySim>) -> JointSim {
        let inner = Inner {
            households: Mutex::new(BTreeMap::new()),
            holders: Mutex::new(BTreeMap::new()),
            utilities,
            gate: Arc::new(Gate::new(key, FaultPlan::default())),
        };
        JointSim { inner: Arc::new(inner) }
    }

    pub fn faults(&self) -> &FaultPlan {
        self.inner.gate.plan()
    }

    pub fn put_household(&self, household: Household) {
        self.households().insert(household.joint_account.clone(), household);
    }

    /// Registers the accounts of an ID card holder. `false` (and nothing registered) unless the
    /// holder is a digest ([`crate::is_holder_digest`]).
    pub fn put_holder(&self, seed: HolderSeed) -> bool {
        if !crate::is_holder_digest(&seed.holder) {
            return false;
        }
        self.inner.holders.lock().unwrap_or_else(|p| p.into_inner()).insert(seed.holder, seed.accounts);
        true
    }

    /// The household of an ID card holder, as `GET /v1/households/{holder}` answers it.
    pub fn household(&self, holder: &str) -> Option<HouseholdBody> {
        let holders = self.inner.holders.lock().unwrap_or_else(|p| p.into_inner());
        holders.get(holder).map(|accounts| HouseholdBody { accounts: accounts.clone() })
    }

    /// The household's bill as it is now; members the utility does not know are left out.
    pub fn joint_bill(&self, joint_account: &str) -> Option<JointBillBody> {
        let household = self.households().get(joint_account)?.clone();
        let bills = self
            .inner
            .utilities
            .iter()
            .filter_map(|sim| household.member(sim.utility()).and_then(|account| sim.bill(account)))
            .collect();
        Some(JointBillBody {
            joint_account: household.joint_account,
            holder_masked: household.holder_masked,
            bills,
        })
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route(paths::JOINT_BILL, keyed(MethodFilter::GET, "joint_bill", fetch_joint_bill))
            .route(paths::HOUSEHOLD, keyed(MethodFilter::GET, "household", household))
            .route("/admin/households", post(admin_put_household))
            .route("/admin/holders", post(admin_put_holder))
            .with_state(self.clone())
            .merge(simkit::admin_router(self.faults().clone()))
    }

    fn households(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Household>> {
        self.inner.households.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Gated for JointSim {
    fn gate(&self) -> &Arc<Gate> {
        &self.inner.gate
    }
}

fn fetch_joint_bill(sim: &JointSim, account: &str) -> Reply {
    Reply::found(sim.joint_bill(account), codes::UNKNOWN_ACCOUNT, "no such household")
}

fn household(sim: &JointSim, holder: &str) -> Reply {
    if !crate::is_holder_digest(holder) {
        return Reply::error(400, codes::BAD_REQUEST, "the holder must be 64 lower-case hex digits");
    }
    Reply::found(sim.household(holder), codes::UNKNOWN_HOLDER, "no household for this holder")
}

async fn admin_put_household(
    State(sim): State<JointSim>,
    Json(household): Json<Household>,
) -> Json<Household> {
    sim.put_household(household.clone());
    Json(household)
}

async fn admin_put_holder(State(sim): State<JointSim>, Json(seed): Json<HolderSeed>) -> Response {
    if sim.put_holder(seed.clone()) {
        Json(seed).into_response()
    } else {
        (StatusCode::BAD_REQUEST, "the holder must be 64 lower-case hex digits").into_response()
    }
}

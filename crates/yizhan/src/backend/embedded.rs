//! The embedded back end: every channel and biller simulator in this process on loopback, with
//! the demo keys. Only the `sim` feature has it; a production build has an [`EmbeddedSims`] that
//! cannot exist, so `[backend] mode = "embedded"` is refused there when the kiosk starts.

#[cfg(feature = "sim")]
pub use with_sims::EmbeddedSims;
#[cfg(not(feature = "sim"))]
pub use without_sims::EmbeddedSims;

#[cfg(feature = "sim")]
mod with_sims {
    use super::super::BackendError;
    use billers::{BillersConfig, RunningBillerSims};
    use payments::sim::{ChannelSimsConfig, RunningChannelSims};
    use payments::PaymentsConfig;
    use std::path::{Path, PathBuf};

    /// The simulators of every channel and biller, running in this process.
    pub struct EmbeddedSims {
        pub channels: RunningChannelSims,
        pub billers: RunningBillerSims,
        keys_dir: PathBuf,
    }

    impl EmbeddedSims {
        /// Starts all eight on free loopback ports with the demo keys in `keys_dir`.
        pub async fn start(keys_dir: &Path) -> Result<EmbeddedSims, BackendError> {
            let channels = payments::sim::start_all(&ChannelSimsConfig::demo(keys_dir))
                .await
                .map_err(|e| BackendError::Simulators(e.to_string()))?;
            let billers = billers::start_all(&billers::BillerSimsConfig::default())
                .await
                .map_err(|e| BackendError::Simulators(e.to_string()))?;
            Ok(EmbeddedSims { channels, billers, keys_dir: keys_dir.to_path_buf() })
        }

        /// Client configuration pointing at these simulators with their keys.
        pub fn payments_config(&self) -> PaymentsConfig {
            self.channels.client_config(&self.keys_dir)
        }

        pub fn billers_config(&self) -> BillersConfig {
            BillersConfig {
                water: self.billers.water.client_entry(),
                power: self.billers.power.client_entry(),
                gas: self.billers.gas.client_entry(),
                joint: Some(self.billers.joint.client_entry()),
            }
        }

        /// The accounts the biller simulators know: (utility, account, amount due).
        pub fn demo_accounts(&self) -> Vec<(String, String, kiosk_core::Fen)> {
            billers::demo_accounts()
        }

        /// name → URL, for people and scripts.
        pub fn urls(&self) -> Vec<(&'static str, String)> {
            vec![
                ("wechat", self.channels.wechat.url()),
                ("alipay", self.channels.alipay.url()),
                ("unionpay", self.channels.unionpay.url()),
                ("card-acquirer", self.channels.card_acquirer.url()),
                ("water", self.billers.water.url()),
                ("power", self.billers.power.url()),
                ("gas", self.billers.gas.url()),
                ("joint", self.billers.joint.url()),
            ]
        }
    }
}

#[cfg(not(feature = "sim"))]
mod without_sims {
    use super::super::BackendError;
    use billers::BillersConfig;
    use payments::PaymentsConfig;
    use std::path::Path;

    /// No embedded back end in this build: the type has no values, so `Backend::sims` is
    /// always `None` and nothing here ever runs.
    pub enum EmbeddedSims {}

    impl EmbeddedSims {
        pub async fn start(_keys_dir: &Path) -> Result<EmbeddedSims, BackendError> {
            Err(BackendError::Config(
                "backend.mode: \"embedded\" needs the simulators, which this build does not have; \
                 set [backend] mode = \"remote\" with the real [payments] and [billers]"
                    .into(),
            ))
        }

        pub fn payments_config(&self) -> PaymentsConfig {
            match *self {}
        }

        pub fn billers_config(&self) -> BillersConfig {
            match *self {}
        }

        pub fn urls(&self) -> Vec<(&'static str, String)> {
            match *self {}
        }

        pub fn demo_accounts(&self) -> Vec<(String, String, kiosk_core::Fen)> {
            match *self {}
        }
    }
}

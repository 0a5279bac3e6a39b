//! Pairing with the hub from the console's QR text, by `yizhan hub pair` or at the staff panel,
//! and the running kiosk's connection to its hub, started at once when it is paired so.

use std::sync::Arc;

use super::{HubLink, HubSettings};
use crate::backend::Backend;

/// Why pairing did not happen.
#[derive(Debug, thiserror::Error)]
pub enum PairFailure {
    #[error("that is not a pairing ticket (expected the text of the console's QR: yizhan-pair:1;url=…;ca=…;code=…)")]
    NotATicket,
    #[error("the ticket is for the hub at {ticket} but [hub] url is {configured}; correct the configuration first")]
    OtherHub { ticket: String, configured: String },
    #[error("pairing failed: {0}")]
    Failed(#[from] fleet::PairError),
}

impl PairFailure {
    /// What the staff member at the panel reads.
    pub fn words(&self) -> kiosk_core::session::Text {
        use fleet::PairError;
        use kiosk_core::session::Text;
        match self {
            PairFailure::NotATicket => Text::new(
                "That is not a pairing code. Show the QR from the fleet console's new-kiosk page.",
            ),
            PairFailure::OtherHub { .. } => {
                Text::new("This pairing code is for another hub than the one this kiosk is set up for.")
            }
            PairFailure::Failed(PairError::Unreachable { .. }) => {
                Text::new("The hub cannot be reached; check the network and try again.")
            }
            PairFailure::Failed(PairError::WrongCa { .. } | PairError::BadCa) => Text::new(
                "The hub could not prove who it is; nothing was paired. Tell the operator.",
            ),
            PairFailure::Failed(PairError::Refused(_)) => Text::new(
                "The hub refused the code: it was used, has expired or is for another kiosk. Ask for a new one.",
            ),
            PairFailure::Failed(_) => Text::new("Pairing failed; the details are in the log."),
        }
    }
}

/// Pairs with the hub named on the QR `text`: a new key, a certificate signed by the hub, kept
/// in the identity folder. Returns the id the hub knows this kiosk by.
pub async fn pair_from_qr(settings: &HubSettings, text: &str) -> Result<String, PairFailure> {
    let ticket = fleet::PairingTicket::from_qr_text(text).ok_or(PairFailure::NotATicket)?;
    if ticket.hub_url.trim_end_matches('/') != settings.url {
        return Err(PairFailure::OtherHub { ticket: ticket.hub_url, configured: settings.url.clone() });
    }
    let kiosk_id = fleet::pair(&ticket, &settings.identity).await?;
    if kiosk_id != settings.running.kiosk.id {
        tracing::warn!(hub = %kiosk_id, config = %settings.running.kiosk.id, "the hub knows this kiosk by another id");
    }
    tracing::info!(%kiosk_id, "paired with the fleet hub");
    Ok(kiosk_id)
}

/// A running kiosk's connection to its hub: the settings, and the link (shipping, heartbeats,
/// commands) once the kiosk is paired. Shared by the screens (the staff panel pairs) and the
/// code that starts and stops the kiosk.
#[derive(Debug)]
pub struct HubConnection {
    settings: HubSettings,
    link: tokio::sync::Mutex<Option<HubLink>>,
}

impl HubConnection {
    pub fn new(settings: HubSettings) -> Arc<HubConnection> {
        Arc::new(HubConnection { settings, link: tokio::sync::Mutex::new(None) })
    }

    pub fn settings(&self) -> &HubSettings {
        &self.settings
    }

    /// Starts the link if the kiosk is paired and it is not running yet; an unpaired kiosk runs
    /// alone until staff pair it.
    pub async fn connect(&self, backend: &Arc<Backend>) {
        let mut link = self.link.lock().await;
        if link.is_none() {
            *link = super::start(backend.clone(), self.settings.clone()).await;
        }
    }

    /// Stops the link (shipping and heartbeats end where they are; both resume exactly).
    pub async fn disconnect(&self) {
        self.link.lock().await.take();
    }

    /// Pairs from the QR `text` and starts the link afresh with the new identity.
    pub async fn pair(&self, backend: &Arc<Backend>, text: &str) -> Result<String, PairFailure> {
        let kiosk_id = pair_from_qr(&self.settings, text).await?;
        let mut link = self.link.lock().await;
        link.take();
        *link = super::start(backend.clone(), self.settings.clone()).await;
        Ok(kiosk_id)
    }
}

//! The one device model (architecture rule 3), with XFS4IoT names.
//!
//! XFS4IoT (CEN/TS 17852) gives every service a `common.status.device` value and, for devices that
//! handle a physical item, a `media` value; devices then add their own detail (the printer's
//! `paper` supplies, the card reader's `security`...). We keep the same split: [`DeviceStatus`]
//! has the two shared fields and a device-specific `detail`. The UI, the staff dashboard and
//! `yizhan devices` only need the shared fields to say "works / does not work / needs a person".

use catalogue::Text;
use serde::{Deserialize, Serialize};

/// XFS4IoT `common.status.device`: can the device do its job right now?
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum DeviceState {
    /// `online`: ready for commands.
    Online,
    /// `offline`: cannot be reached (port gone, powered off, cable pulled). The transport keeps
    /// trying to reconnect; no person is needed unless it stays so.
    Offline,
    /// `hardwareError`: reachable but broken (cutter jammed, head fault); needs staff.
    HardwareError,
    /// `userError`: reachable but a person must act (cover open, paper out, card left in).
    UserError,
    /// `deviceBusy`: executing a command; try again when it completes.
    Busy,
}

impl DeviceState {
    /// Words for staff logs and the dashboard (English, XFS4IoT spelling).
    pub fn xfs_name(self) -> &'static str {
        match self {
            DeviceState::Online => "online",
            DeviceState::Offline => "offline",
            DeviceState::HardwareError => "hardwareError",
            DeviceState::UserError => "userError",
            DeviceState::Busy => "deviceBusy",
        }
    }
}

impl DeviceState {
    /// Words for the staff panel.
    pub fn words(self) -> Text {
        match self {
            DeviceState::Online => Text::new("ready"),
            DeviceState::Offline => Text::new("offline"),
            DeviceState::HardwareError => Text::new("fault"),
            DeviceState::UserError => Text::new("needs staff"),
            DeviceState::Busy => Text::new("busy"),
        }
    }
}

/// XFS4IoT `media`: the physical item the device handles (card, receipt paper, bill).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum MediaState {
    /// `present`: an item is in the device (a card in the slot, a receipt at the exit).
    Present,
    /// `notPresent`: no item.
    NotPresent,
    /// `entering`: being inserted or presented, not yet in position.
    Entering,
    /// `jammed`: stuck; needs staff.
    Jammed,
    /// `retained`: captured by the device (a card kept in the bin).
    Retained,
    /// `unknown`: the device cannot tell (for example while offline).
    Unknown,
    /// `notSupported`: the device has no media sensor (a scanner).
    NotSupported,
}

impl MediaState {
    /// Words for the staff panel, Chinese then English; `None` when there is nothing to say
    /// (no item, or no media sensor).
    pub fn words(self) -> Option<Text> {
        match self {
            MediaState::Present => Some(Text::new("item inside")),
            MediaState::NotPresent | MediaState::NotSupported => None,
            MediaState::Entering => Some(Text::new("entering")),
            MediaState::Jammed => Some(Text::new("jammed")),
            MediaState::Retained => Some(Text::new("retained")),
            MediaState::Unknown => Some(Text::new("unknown")),
        }
    }
}

/// The status every driver reports: two shared fields plus the device's own detail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceStatus<D> {
    /// Can the device work?
    pub device: DeviceState,
    /// Where is its physical item?
    pub media: MediaState,
    /// What only this kind of device knows (paper level, cover, reader position...).
    pub detail: D,
}

impl<D> DeviceStatus<D> {
    /// The status of a device that cannot be reached: media unknown, detail as given.
    pub fn offline(detail: D) -> Self {
        DeviceStatus { device: DeviceState::Offline, media: MediaState::Unknown, detail }
    }

    /// True when the device is online and can take a command now.
    pub fn is_ready(&self) -> bool {
        self.device == DeviceState::Online
    }
}

/// Events a device reports without being asked (XFS4IoT unsolicited events).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum DeviceEvent<D> {
    /// `Common.StatusChangedEvent`: anything in the status changed; carries the new status.
    StatusChanged(DeviceStatus<D>),
    /// `CardReader.MediaInsertedEvent`: an item arrived (card inserted, paper loaded).
    MediaInserted,
    /// `CardReader.MediaRemovedEvent`: an item left the device by itself or was pulled.
    MediaRemoved,
    /// `Printer.MediaTakenEvent` / `CardReader.MediaTakenEvent`: the customer took a presented item.
    MediaTaken,
}

/// Turns successive statuses into events, so a polling driver reports changes only.
///
/// `media` going `NotPresent → Present` is [`DeviceEvent::MediaInserted`], `Present → NotPresent`
/// is [`DeviceEvent::MediaRemoved`] (a driver that knows the item was presented to the customer
/// reports [`DeviceEvent::MediaTaken`] itself). Any change at all also yields `StatusChanged`.
#[derive(Debug, Clone, Default)]
pub struct StatusTracker<D> {
    last: Option<DeviceStatus<D>>,
}

impl<D: Clone + PartialEq> StatusTracker<D> {
    /// A tracker that has seen nothing yet: the first status is always a change.
    pub fn new() -> Self {
        StatusTracker { last: None }
    }

    /// The last status fed in.
    pub fn last(&self) -> Option<&DeviceStatus<D>> {
        self.last.as_ref()
    }

    /// Feeds the newest status; returns the events it implies (empty when nothing changed).
    pub fn update(&mut self, now: DeviceStatus<D>) -> Vec<DeviceEvent<D>> {
        if self.last.as_ref() == Some(&now) {
            return Vec::new();
        }
        let mut events = Vec::new();
        if let Some(before) = &self.last {
            match (before.media, now.media) {
                (MediaState::NotPresent, MediaState::Present) => events.push(DeviceEvent::MediaInserted),
                (MediaState::Present, MediaState::NotPresent) => events.push(DeviceEvent::MediaRemoved),
                _ => {}
            }
        }
        events.push(DeviceEvent::StatusChanged(now.clone()));
        self.last = Some(now);
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(device: DeviceState, media: MediaState) -> DeviceStatus<()> {
        DeviceStatus { device, media, detail: () }
    }

    #[test]
    fn first_status_is_a_change_and_repeats_are_not() {
        let mut t = StatusTracker::new();
        let s = status(DeviceState::Online, MediaState::NotPresent);
        assert_eq!(t.update(s.clone()), vec![DeviceEvent::StatusChanged(s.clone())]);
        assert!(t.update(s).is_empty());
    }

    #[test]
    fn media_edges_become_inserted_and_removed() {
        let mut t = StatusTracker::new();
        t.update(status(DeviceState::Online, MediaState::NotPresent));
        let present = status(DeviceState::Online, MediaState::Present);
        assert_eq!(
            t.update(present.clone()),
            vec![DeviceEvent::MediaInserted, DeviceEvent::StatusChanged(present)]
        );
        let gone = status(DeviceState::Online, MediaState::NotPresent);
        assert_eq!(t.update(gone.clone())[0], DeviceEvent::MediaRemoved);
    }

    #[test]
    fn xfs_names_serialise_in_camel_case() {
        assert_eq!(serde_json_like(DeviceState::HardwareError), "hardwareError");
        assert_eq!(DeviceState::Busy.xfs_name(), "deviceBusy");
    }

    fn serde_json_like(s: DeviceState) -> String {
        // toml cannot serialise a bare enum; a one-field table shows the name.
        #[derive(Serialize)]
        struct W {
            s: DeviceState,
        }
        toml::to_string(&W { s }).unwrap().trim().trim_start_matches("s = ").trim_matches('"').to_string()
    }
}

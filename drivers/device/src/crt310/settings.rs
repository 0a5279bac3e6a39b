//! The CRT-310's serial settings: 9600 8N1 from the factory (hardware.md §2.1), where the kiosk's
//! other serial devices default to 115200. Every slot built on the reader takes its `serial` table
//! through here, so an entry that leaves `baud` out still opens the port at 9600.

use crate::serial::SerialConfig;
use serde::{Deserialize, Deserializer};
use std::path::PathBuf;

/// The reader's factory bit rate.
pub const FACTORY_BAUD: u32 = 9600;

/// Every setting at its default for a CRT-310 on `path`: 9600 8N1.
pub fn serial(path: impl Into<PathBuf>) -> SerialConfig {
    let mut serial = SerialConfig::new(path);
    serial.baud = FACTORY_BAUD;
    serial
}

/// A CRT-310 on no port yet (`#[serde(default = …)]` of a slot's `serial`).
pub fn default_serial() -> SerialConfig {
    serial(PathBuf::new())
}

/// `#[serde(deserialize_with = …)]` of a slot's `serial` table: [`FACTORY_BAUD`] unless the
/// table names its own `baud`; every other setting, and every check, is [`SerialConfig`]'s.
pub fn deserialize_serial<'de, D: Deserializer<'de>>(d: D) -> Result<SerialConfig, D::Error> {
    let mut table = toml::Table::deserialize(d)?;
    table.entry("baud").or_insert(toml::Value::Integer(FACTORY_BAUD.into()));
    toml::Value::Table(table).try_into().map_err(serde::de::Error::custom)
}

/// [`deserialize_serial`] for an optional `serial` table.
pub fn deserialize_optional_serial<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<SerialConfig>, D::Error> {
    deserialize_serial(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Slot {
        #[serde(default = "default_serial", deserialize_with = "deserialize_serial")]
        serial: SerialConfig,
    }

    #[test]
    fn a_table_without_baud_is_9600_and_one_with_baud_keeps_it() {
        let slot: Slot = toml::from_str("[serial]\npath = \"/dev/ttyS1\"\n").unwrap();
        assert_eq!((slot.serial.baud, slot.serial.data_bits), (9600, 8));
        assert_eq!(slot.serial.path, PathBuf::from("/dev/ttyS1"));
        let slot: Slot = toml::from_str("[serial]\nbaud = 38400\n").unwrap();
        assert_eq!(slot.serial.baud, 38400);
        let slot: Slot = toml::from_str("").unwrap();
        assert_eq!(slot.serial.baud, 9600, "no table at all");
    }

    #[test]
    fn a_wrong_setting_is_still_refused_by_name() {
        let error = toml::from_str::<Slot>("[serial]\nbaud = 9600\nparty = \"even\"\n").err().unwrap();
        assert!(error.to_string().contains("party"), "{error}");
        let error = toml::from_str::<Slot>("[serial]\nbaud = \"fast\"\n").err().unwrap();
        assert!(error.to_string().contains("invalid type"), "{error}");
    }
}

//! Reading `kiosk.toml`: parse, check every value ([`super::validate`]), make key files
//! relative to the file, and check that they exist. Every problem names the file and the key.

use super::KioskConfig;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: cannot read the configuration: {source}")]
    Read { file: PathBuf, source: std::io::Error },
    #[error("{file}: {message}")]
    Parse { file: PathBuf, message: String },
    #[error("{file}: {key}: expected {expected}")]
    Invalid { file: PathBuf, key: String, expected: String },
}

impl KioskConfig {
    pub fn load(file: &Path) -> Result<KioskConfig, ConfigError> {
        let text = std::fs::read_to_string(file)
            .map_err(|source| ConfigError::Read { file: file.to_path_buf(), source })?;
        KioskConfig::from_text(file, &text)
    }

    /// Everything [`KioskConfig::load`] checks, for a text that is to become `file` (a
    /// configuration pushed from the hub is checked so before it is staged).
    pub fn from_text(file: &Path, text: &str) -> Result<KioskConfig, ConfigError> {
        let mut config = KioskConfig::parse(file, text)?;
        config.resolve_paths(file.parent().unwrap_or(Path::new(".")));
        config.check_files(file)?;
        #[cfg(not(feature = "sim"))]
        if let Some(problem) = super::production_refusals(&config).into_iter().next() {
            return Err(problem.in_file(file));
        }
        Ok(config)
    }

    /// Parses and validates; `file` is only used to name the source in errors.
    pub fn parse(file: &Path, text: &str) -> Result<KioskConfig, ConfigError> {
        let config: KioskConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            file: file.to_path_buf(),
            message: e.to_string().trim().to_string(),
        })?;
        config.validate(file)?;
        Ok(config)
    }

    /// Key files must exist: a typo is reported at start-up with its key, not at the first receipt.
    pub(super) fn check_files(&self, file: &Path) -> Result<(), ConfigError> {
        let Some(receipts) = &self.receipts else {
            return Ok(());
        };
        for (key, path) in [
            ("receipts.signing_key", &receipts.signing_key),
            ("receipts.verifying_key", &receipts.verifying_key),
        ] {
            if !path.is_file() {
                return Err(ConfigError::Invalid {
                    file: file.to_path_buf(),
                    key: key.into(),
                    expected: format!("an Ed25519 key file (PEM or raw); {} does not exist", path.display()),
                });
            }
        }
        Ok(())
    }

    /// Key files are named relative to the configuration file.
    pub(super) fn resolve_paths(&mut self, base: &Path) {
        if let Some(receipts) = self.receipts.as_mut() {
            for path in [&mut receipts.signing_key, &mut receipts.verifying_key] {
                if path.is_relative() {
                    *path = base.join(&*path);
                }
            }
        }
        if let Some(alipay) = self.payments.as_mut().and_then(|p| p.alipay.as_mut()) {
            for path in [&mut alipay.app_private_key_path, &mut alipay.alipay_public_key_path] {
                if path.is_relative() {
                    *path = base.join(&*path);
                }
            }
        }
    }
}

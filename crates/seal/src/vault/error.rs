//! The vault's errors: the crate's own (wrong key, malformed file, I/O,
//! closed vault) plus two that only a vault has, each with a stable code.

use core::fmt;

use crate::error::Error;

#[derive(Debug, Clone, PartialEq)]
pub enum VaultError {
    /// An error shared with the rest of the crate (`ERR_DECRYPTION`,
    /// `ERR_FORMAT`, `ERR_VAULT_IO`, `ERR_INVALID_STATE`, ...).
    Seal(Error),
    /// A record is not the one the manifest recorded: a pack was changed,
    /// truncated, removed, or an older record was put back.
    Integrity(&'static str),
    /// A commit failed after its new manifest was in place, so which of the
    /// old or new state a crash would keep is unknown. This object is closed;
    /// opening the directory again reads (and makes durable) the new state.
    Poisoned,
}

pub type Result<T> = core::result::Result<T, VaultError>;

impl VaultError {
    /// Stable code, following the Node convention. Never change a published one.
    pub fn code(&self) -> &'static str {
        match self {
            VaultError::Seal(e) => e.code(),
            VaultError::Integrity(_) => "ERR_VAULT_INTEGRITY",
            VaultError::Poisoned => "ERR_VAULT_POISONED",
        }
    }
}

impl fmt::Display for VaultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VaultError::Seal(e) => e.fmt(f),
            VaultError::Integrity(why) => write!(f, "vault integrity: {why}"),
            VaultError::Poisoned => f.write_str(
                "the vault's new manifest is in place but could not be made durable; \
                 this vault object is closed: open the directory again \
                 (after a rekey, with the new key)",
            ),
        }
    }
}

impl std::error::Error for VaultError {}

impl From<Error> for VaultError {
    fn from(e: Error) -> Self {
        VaultError::Seal(e)
    }
}

impl From<std::io::Error> for VaultError {
    fn from(e: std::io::Error) -> Self {
        VaultError::Seal(e.into())
    }
}
